"""The night-time economy filter over HTTP (``night=true``) on a constructed local log.

2025-08-01 is a Friday. Of the five local records in E01022313, three fall in the default
window (Fri/Sat 20:00-04:00): Friday 22:30, Saturday 01:30 (still Friday night) and
Saturday 23:10; Monday 14:00 is out and a date without a time is out. police.uk records carry
the month only, so the filter leaves every one of them out and the answer says how many.
"""

from __future__ import annotations

import pytest

ANALYST = {"Authorization": "Bearer dev-analyst"}
PCSO = {"Authorization": "Bearer dev-pcso"}
LSOA = "E01022313"
NIGHT_LOG = (
    "ref,date,time,type,lon,lat\n"
    "N1,2025-08-01,22:30,ASB,-2.22124,51.88177\n"
    "N2,2025-08-02,01:30,ASB,-2.22124,51.88177\n"
    "N3,2025-08-02,23:10,Burglary,-2.22124,51.88177\n"
    "N4,2025-08-04,14:00,ASB,-2.22124,51.88177\n"
    "N5,2025-08-01,,ASB,-2.22124,51.88177\n"
)
AUGUST = "from=2025-08&to=2025-08"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def uploaded(client):
    files = {"file": ("night.csv", NIGHT_LOG, "text/csv")}
    r = client.post("/api/uploads", headers=ANALYST, files=files)
    assert r.status_code == 200 and r.json()["accepted"] == 5, r.text
    return r.json()


def _total(doc: dict) -> int:
    return sum(f["properties"]["count"] or 0 for f in doc["features"])


def test_area_layer_counts_the_night_window_and_says_what_it_left_out(client, uploaded):
    everything = _total(client.get(f"/api/areas?{AUGUST}", headers=ANALYST).json())
    doc = client.get(f"/api/areas?{AUGUST}&night=true", headers=ANALYST).json()
    counts = {f["properties"]["code"]: f["properties"]["count"] for f in doc["features"]}
    assert counts[LSOA] == 3 and _total(doc) == 3
    assert doc["night"]["window"] == "Fri/Sat nights 20:00-04:00"
    assert doc["night"]["in_window"] == 3
    assert doc["night"]["without_time"] == everything - 4  # all police.uk + the date-only one
    assert "police.uk records carry the month only" in doc["night"]["note"]
    assert client.get(f"/api/areas?{AUGUST}", headers=ANALYST).json()["night"] is None


def test_night_filter_on_incidents_and_types(client, uploaded):
    doc = client.get(f"/api/incidents?{AUGUST}&night=true", headers=ANALYST).json()
    assert sorted(f["properties"]["incident_id"] for f in doc["features"]) == ["N1", "N2", "N3"]
    asb = client.get(f"/api/incidents?{AUGUST}&night=true&crime_type=asb", headers=ANALYST)
    assert asb.json()["count"] == 2


def test_selection_summary_with_the_night_filter(client, uploaded):
    body = {
        "selection": {"lsoa_codes": [LSOA]},
        "filters": {"from": "2025-08", "to": "2025-08", "night": True},
    }
    doc = client.post("/api/selection/summary", headers=ANALYST, json=body).json()
    assert doc["incidents"] == 3 and doc["filters"]["night"] is True
    assert doc["night"]["in_window"] == 3


def test_public_callers_get_no_night_records_and_are_told_why(client, uploaded):
    doc = client.get(f"/api/areas?{AUGUST}&night=true", headers=PCSO).json()
    assert _total(doc) == 0 and doc["night"]["in_window"] == 0
    public = _total(client.get(f"/api/areas?{AUGUST}", headers=PCSO).json())
    assert doc["night"]["without_time"] >= public > 0


def test_timeofday_route_counts_the_timed_records(client, uploaded):
    doc = client.get(f"/api/timeofday?{AUGUST}", headers=ANALYST).json()
    counts = {(d, h): doc["counts"][i][h] for i, d in enumerate(doc["days"]) for h in doc["hours"]}
    assert doc["timed"] == 4 and doc["in_window"] == 3
    assert counts[("Fri", 22)] == counts[("Sat", 1)] == counts[("Sat", 23)] == 1
    assert counts[("Mon", 14)] == 1
    assert "police.uk records carry the month only" in doc["note"]
    public = client.get(f"/api/timeofday?{AUGUST}", headers=PCSO).json()
    assert public["timed"] == 0 and public["without_time"] > 0


def test_analyst_page_draws_the_day_hour_chart_and_says_police_uk_is_month_only(
    client, uploaded
):
    page = client.get("/", headers=ANALYST).text
    assert 'aria-label="Incidents by day of week and hour"' in page
    assert "<title>Fri 22:00: 1</title>" in page
    assert 'class="hour shade-5 night"' in page  # the busiest hour is in the window
    assert "police.uk records carry the month only" in page
    pcso = client.get("/", headers=PCSO).text
    assert "police.uk records carry the month only" in pcso
    assert 'aria-label="Incidents by day of week and hour"' not in pcso  # nothing timed


def test_hotspot_layer_and_analyst_map_keep_to_the_night_window(client, uploaded):
    """The three night records share one map point: one grid-count hotspot holding 3."""
    q = f"/api/hotspots?{AUGUST}&night=true&method=grid-count"
    features = client.get(q, headers=ANALYST).json()["features"]
    assert [f["properties"]["n_incidents"] for f in features] == [3]
    asb = client.get(q + "&crime_type=asb", headers=ANALYST).json()["features"]
    assert [f["properties"]["n_incidents"] for f in asb] == [2]
    doc = client.get(f"/map/analyst?{AUGUST}&night=true", headers=ANALYST)
    assert doc.status_code == 200
