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
    assert 'href="/area/E05010953?focus=street%3AE05010953%3AWidden%20Street">Widden Street' in (
        page.text
    )
    assert "Barton and Tredworth ward" in page.text
    none = client.get("/area?q=%3Cscript%3Ex", headers=PCSO)
    assert "Nothing found for “&lt;script&gt;x”" in none.text  # the query is escaped
    area = client.get("/area/E05010953", headers=PCSO)
    assert 'action="/area"' in area.text and 'name="q"' in area.text


# ---- a chosen result: zoom the map to it (?focus=<ref>) --------------------------------------


def test_search_results_carry_the_ref_that_focuses_a_map(client):
    match = client.get("/api/search?q=widden", headers=PCSO).json()["matches"][0]
    assert match["ref"] == "street:E05010953:Widden Street"
    r = client.get("/api/search/focus", params={"focus": match["ref"]}, headers=PCSO)
    assert r.status_code == 200
    feature = r.json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "LineString"
    lon, lat = zip(*feature["geometry"]["coordinates"], strict=True)
    assert min(lon) < match["lon"] < max(lon) and min(lat) < match["lat"] < max(lat)
    props = feature["properties"]
    assert (props["kind"], props["name"], props["ward_nm"]) == (
        "street", "Widden Street", "Barton and Tredworth"
    )
    postcode = client.get("/api/search/focus?focus=postcode:GL11AD", headers=ANALYST).json()
    assert postcode["geometry"]["type"] == "Point"
    assert postcode["properties"]["shows"] == (
        "the postcode's centre point (Code-Point Open), not a boundary"
    )


@pytest.mark.parametrize(
    ("ref", "status", "words"),
    [
        ("street:E05010953:<script>x", 404, "no street '<script>x' in ward E05010953"),
        ("postcode:GL99 9ZZ", 404, "no postcode 'GL999ZZ'"),
        ("Widden Street", 422, "give <kind>:<id>"),
        ("x" * 300, 422, "give <kind>:<id>"),
    ],
)
def test_an_unknown_focus_is_a_clear_404_and_a_malformed_one_a_422(client, ref, status, words):
    r = client.get("/api/search/focus", params={"focus": ref}, headers=PCSO)
    assert r.status_code == status
    detail = r.json()["detail"]
    message = detail if status == 404 else detail[0]["msg"]
    assert words in message
    if status == 422:
        assert detail[0]["loc"] == ["query", "focus"]
    assert client.get("/api/search/focus", params={"focus": ref}).status_code == 401


def test_ward_list_links_each_result_to_its_ward_page_zoomed_to_it(client):
    page = client.get("/area?q=widden", headers=PCSO).text
    ref = "street%3AE05010953%3AWidden%20Street"
    assert f'href="/area/E05010953?focus={ref}">Widden Street</a>' in page
    assert f'href="/area/E01022289?focus={ref}">neighbourhood Gloucester 005B</a>' in page


def test_pcso_page_with_focus_draws_the_result_and_says_what_it_is(client):
    page = client.get("/area/E05010967?focus=postcode:GL11AD", headers=PCSO)
    assert page.status_code == 200
    text = page.text
    assert 'id="search-focus"' in text and "<strong>GL1 1AD</strong>" in text
    assert "the postcode&#39;s centre point (Code-Point Open), not a boundary" in text
    assert 'id="focus-elsewhere"' not in text  # GL1 1AD is in Westgate
    assert '<script type="application/json" id="place-focus">' in text
    assert '<script src="/static/app/place-focus.js"></script>' in text
    plain = client.get("/area/E05010967", headers=PCSO).text
    assert 'id="place-focus"' not in plain and "place-focus.js" not in plain


def test_pcso_page_says_when_the_result_is_in_another_ward(client):
    text = client.get(
        "/area/E05010967", params={"focus": "street:E05010953:Widden Street"}, headers=PCSO
    ).text
    assert "It is not in Westgate: it is in" in text
    link = "/area/E05010953?focus=street%3AE05010953%3AWidden%20Street"
    assert f'<a href="{link}">Barton and Tredworth ward</a>' in text


def test_pcso_page_escapes_an_unknown_focus_in_its_404_page(client):
    html = {**PCSO, "Accept": "text/html"}
    r = client.get("/area/E05010967", params={"focus": "place:<img src=x onerror=alert(1)>"},
                   headers=html)
    assert r.status_code == 404
    assert "<img src=x" not in r.text
    assert "no place &#39;&lt;img src=x onerror=alert(1)&gt;&#39;" in r.text
    bad = client.get("/area/E05010967", params={"focus": "nonsense"}, headers=html)
    assert bad.status_code == 422 and "give &lt;kind&gt;:&lt;id&gt;" in bad.text


def test_focus_text_from_the_gazetteer_is_escaped_in_the_page(client, svc, monkeypatch):
    """A name with markup (the pack's files are data) reaches the page as text."""
    from geo_ssgp import gazetteer

    real = gazetteer.resolve_focus

    def marked(pack, ref):
        found = real(pack, ref)
        return gazetteer.PlaceFocus(**{**found.__dict__, "name": "</script><b>x</b>"})

    monkeypatch.setattr(gazetteer, "resolve_focus", marked)
    text = client.get("/area/E05010953?focus=place:Gloucester%20Park", headers=PCSO).text
    assert "<strong>&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;</strong>" in text
    assert "</script><b>" not in text  # nor inside the JSON of the map feature
    assert '"name": "\\u003c/script\\u003e\\u003cb\\u003ex\\u003c/b\\u003e"' in text
