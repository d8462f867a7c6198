"""/api/emerging, /api/change and the analyst map's overlays on the real sample (analysts only)."""

from __future__ import annotations

import json
import re

import pytest

from geo_ssgp.api.service import MAP_CHANGE, MAP_EMERGING
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots.change import NO_CHANGE, pack_change
from geo_ssgp.hotspots.emerging import NO_PATTERN
from geo_ssgp.maps.spacetime import EMERGING_COLOURS

ANALYST = {"Authorization": "Bearer dev-analyst"}
VIEWER = {"Authorization": "Bearer dev-viewer"}


@pytest.mark.slow
def test_emerging_route(client):
    r = client.get("/api/emerging?cell_size=500&scheme=chainey", headers=ANALYST)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert r.headers["content-type"].startswith("application/geo+json")
    assert len(doc["steps"]) == 9 and doc["parameters"]["scheme"] == "chainey"
    assert "only 9 time steps" in doc["warnings"][0]  # nine street-CSV months < 10
    assert sum(doc["category_counts"].values()) == len(doc["features"])
    assert len(doc["features"][0]["properties"]["z"]) == 9


def test_space_time_routes_are_for_analysts(client):
    assert client.get("/api/emerging", headers=VIEWER).status_code == 403
    query = "before=2025-01:2025-03&after=2025-04:2025-06"
    assert client.get(f"/api/change?{query}", headers=VIEWER).status_code == 403


def test_change_route_matches_pack_change(client, svc):
    query = "before=2025-01:2025-06&after=2025-07:2025-09&unit=lsoa&crime_type=asb"
    r = client.get(f"/api/change?{query}", headers=ANALYST)
    assert r.status_code == 200, r.text
    doc = r.json()
    before = Filters.of("2025-01", "2025-06", "asb")
    after = Filters.of("2025-07", "2025-09", "asb")
    direct = pack_change(svc.incidents(), svc.pack, before, after, unit="lsoa")
    got = {f["properties"]["code"]: f["properties"]["change_class"] for f in doc["features"]}
    assert got == dict(zip(direct["code"], direct["change_class"], strict=True))
    assert doc["parameters"]["months"] == {"before": 6, "after": 3}


def test_change_route_rejects_a_bad_period(client):
    r = client.get("/api/change?before=2025-01&after=June", headers=ANALYST)
    assert r.status_code == 422 and "not a month" in r.text


def test_pcso_page_shows_the_tested_change(client):
    page = client.get("/area/E05010950", headers={"Authorization": "Bearer dev-pcso"})  # Abbeydale
    assert page.status_code == 200
    assert 'id="area-change"' in page.text
    assert "on the 3 months before:" in page.text
    assert 'id="area-trend"' in page.text and "Mann-Kendall p =" in page.text
    assert 'aria-label="Abbeydale: all incidents, incidents per month"' in page.text


@pytest.mark.slow
def test_meeting_maps_share_classes_and_the_difference_map_is_served(client):
    import html
    import re

    from geo_ssgp import maps

    page = client.get("/meeting", headers=VIEWER).text
    sources = [html.unescape(s) for s in re.findall(r'<iframe[^>]+src="([^"]+)"', page)]
    periods = [s for s in sources if s.startswith("/map/meeting?")]
    assert len(periods) == 2
    bins = {re.search(r"bins=([^&]+)", s).group(1) for s in periods}
    assert len(bins) == 1  # the same breaks on both maps
    doc = client.get(periods[0], headers=VIEWER).text
    assert "common classes (the same breaks on each map)" in doc
    difference = [s for s in sources if s.startswith("/map/meeting/difference")]
    assert len(difference) == 1
    diff = client.get(difference[0], headers=VIEWER)
    assert diff.status_code == 200 and maps.external_assets(diff.text) == []
    assert "Exact test of the rate per month" in diff.text
    bad = client.get("/map/meeting?from=2025-07&to=2025-09&bins=5,1", headers=VIEWER)
    assert bad.status_code == 422 and "increasing" in bad.text
    report = client.get("/meeting/report.html", headers=VIEWER).text
    assert report.count("srcdoc=") == 3 and "Difference: tested change per LSOA" in report


@pytest.mark.slow
def test_trends_for_district_ward_lsoa_focus_area_and_hotspot(client, svc):
    def trend(query: str, headers: dict = ANALYST) -> dict:
        r = client.get(f"/api/trends?{query}", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    district = trend("crime_type=asb")
    assert district["kind"] == "district" and len(district["months"]) == 9
    areas = client.get("/api/areas?crime_type=asb", headers=ANALYST).json()["features"]
    assert sum(district["counts"]) == sum(f["properties"]["count"] for f in areas)
    lsoa = trend("lsoa=E01022313&crime_type=asb")
    in_lsoa = [f["properties"]["count"] for f in areas if f["properties"]["code"] == "E01022313"]
    assert lsoa["kind"] == "lsoa" and sum(lsoa["counts"]) == in_lsoa[0]
    assert lsoa["weak"] is True and "fewer than 10 months" in lsoa["words"]
    ward = trend("ward=Westgate")
    assert ward["kind"] == "ward" and ward["label"].startswith("Westgate")
    assert ward["trend"] in {"rising", "falling", "no clear trend"} and 0 <= ward["p_value"] <= 1
    hotspot = trend("hotspot_rank=1&method=grid-count")
    assert hotspot["kind"] == "hotspot" and sum(hotspot["counts"]) > 0
    knife = trend("ward=Westgate&crime_type=violence")
    assert "no knife-crime flag" in knife["knife_note"] and ward["knife_note"] is None
    body = {"name": "Trend test", "selection": {"lsoa_codes": ["E01022313"]}}
    saved = client.post("/api/focus-areas", headers=ANALYST, json=body).json()
    focus = trend(f"focus_area={saved['id']}&crime_type=asb")
    assert focus["counts"] == lsoa["counts"]
    two = client.get("/api/trends?ward=Westgate&lsoa=E01022313", headers=ANALYST)
    assert two.status_code == 422 and "at most one" in two.text
    assert client.get("/api/trends?ward=Atlantis", headers=ANALYST).status_code == 422
    assert client.get("/api/trends?focus_area=9999", headers=ANALYST).status_code == 404
    public = trend("lsoa=E01022313&crime_type=asb", VIEWER)
    threshold = svc.settings.suppress_below
    assert all(c is None or c == 0 or c >= threshold for c in public["counts"])


def _legends(page: str) -> dict[str, dict]:
    """Legend contents of a map document, by title."""
    found = re.findall(r"addLegend\([\w.]+, [\w.]+, (\{.*?\})\);\n", page)
    return {c["title"]: c for c in map(json.loads, found)}


@pytest.mark.slow
def test_analyst_map_draws_the_emerging_and_change_overlays(client, svc):
    """Emerging over every month (the filters hold 9 < 10), change significant cells only."""
    periods = "change_before=2025-04:2025-06&change_after=2025-07:2025-09"
    query = f"crime_type=asb&emerging=true&{periods}"
    doc = client.get(f"/map/analyst?{query}", headers=ANALYST)
    assert doc.status_code == 200, doc.text
    legends = _legends(doc.text)
    emerging = svc.emerging_result(Filters.of(None, None, "asb"), MAP_EMERGING)
    present = [c for c in EMERGING_COLOURS if c in emerging.category_counts() and c != NO_PATTERN]
    assert present  # the sample's ASB has patterned cells
    assert [s[1] for s in legends["Emerging hotspots"]["swatches"]] == present
    assert "only 9 time steps" in legends["Emerging hotspots"]["notes"][0]
    before = Filters.of("2025-04", "2025-06", "asb")
    after = Filters.of("2025-07", "2025-09", "asb")
    table = svc.change_table(before, after, MAP_CHANGE)
    n_sig = int((table["change_class"] != NO_CHANGE).sum())
    assert f"significant places only: {n_sig:,} of {len(table):,}" in legends["Change"]["notes"]
    every = client.get(f"/map/analyst?{query}&change_all=true", headers=ANALYST).text
    assert [s[1] for s in _legends(every)["Change"]["swatches"]][-1] == NO_CHANGE
    plain = client.get("/map/analyst?crime_type=asb", headers=ANALYST).text
    assert "Emerging hotspots" not in _legends(plain) and "Change" not in _legends(plain)
    overlap = "change_before=2025-04:2025-07&change_after=2025-07:2025-09"
    bad = client.get(f"/map/analyst?{overlap}", headers=ANALYST)
    assert bad.status_code == 422 and "must end before the later one starts" in bad.text


def test_analyst_map_overlays_are_for_analysts_and_need_both_periods(client):
    for role in (VIEWER, {"Authorization": "Bearer dev-pcso"}):
        assert client.get("/map/analyst?emerging=true", headers=role).status_code == 403
    one = client.get("/map/analyst?change_before=2025-01:2025-03", headers=ANALYST)
    assert one.status_code == 422 and "needs both periods" in one.text
    bad = client.get("/map/analyst?change_before=2025-03:2025-01&change_after=2025-04:2025-06",
                     headers=ANALYST)
    assert bad.status_code == 422 and "the first month is after the last" in bad.text


def test_analyst_page_offers_the_overlays_to_analysts_only(client):
    page = client.get("/", headers=ANALYST).text
    assert 'id="o-emerging"' in page and "/static/app/analyst-overlays.js" in page
    meta = json.loads(re.search(r'<script type="application/json" id="meta">(.*?)</script>',
                                page, re.S).group(1))
    assert meta["change_periods"] == {"before": ["2025-04", "2025-06"],
                                      "after": ["2025-07", "2025-09"]}
    viewer = client.get("/", headers=VIEWER).text
    assert 'id="o-emerging"' not in viewer and "analyst-overlays.js" not in viewer
