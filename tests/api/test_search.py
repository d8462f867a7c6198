"""GET /api/search and the search box of the PCSO pages (offline, any role)."""

from __future__ import annotations

import pytest

ANALYST = {"Authorization": "Bearer dev-analyst"}
PCSO = {"Authorization": "Bearer dev-pcso"}


def test_search_finds_a_street_postcode_and_place_for_a_pcso(client):
    r = client.get("/api/search?q=widden", headers=PCSO)
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "widden"
    assert [(m["kind"], m["name"], m["ward_nm"], m["ward_cd"]) for m in body["matches"]] == [
        ("street", "Widden Street", "Barton and Tredworth", "E05010953")
    ]
    postcode = client.get("/api/search?q=GL1%201AD", headers=PCSO).json()["matches"][0]
    assert (postcode["kind"], postcode["ward_nm"], postcode["lsoa_cd"]) == (
        "postcode", "Westgate", "E01032937"
    )
    place = client.get("/api/search?q=Gloucester%20Park", headers=ANALYST).json()["matches"]
    assert place[0]["kind"] == "place" and place[0]["ward_nm"] == "Barton and Tredworth"


@pytest.mark.parametrize(("query", "status"), [("", 422), ("a", 422), ("x" * 101, 422)])
def test_search_refuses_short_or_long_queries(client, query, status):
    assert client.get(f"/api/search?q={query}", headers=PCSO).status_code == status


def test_search_needs_a_token(client):
    assert client.get("/api/search?q=widden").status_code == 401


def test_ward_list_shows_matches_linking_to_the_ward_page(client):
    page = client.get("/area?q=widden", headers=PCSO)
    assert page.status_code == 200
    assert 'href="/area/E05010953">Widden Street</a>' in page.text
    assert "Barton and Tredworth ward" in page.text
    none = client.get("/area?q=%3Cscript%3Ex", headers=PCSO)
    assert "Nothing found for “&lt;script&gt;x”" in none.text  # the query is escaped
    area = client.get("/area/E05010953", headers=PCSO)
    assert 'action="/area"' in area.text and 'name="q"' in area.text
