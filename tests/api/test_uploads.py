"""A Street Aware style local log: its own categories kept, outside-area rows named as such,
rejected rows numbered and downloadable (CSV-safe)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

ANALYST = {"Authorization": "Bearer dev-analyst"}
PCSO = {"Authorization": "Bearer dev-pcso"}
LOG = (
    "ref,date,type,lon,lat,location\n"
    "S1,2025-08-03 21:40,Begging,-2.2437,51.8651,Northgate Street\n"  # row 1
    "S2,2025-08-04 23:05,Street drinking,-2.2450,51.8655,Eastgate Street\n"  # row 2
    "S3,2025-08-05 10:00,Begging,-2.0800,51.9000,Cheltenham\n"  # row 3: outside Gloucester
    "S4,2025-08-06,Street drinking,,,=HYPERLINK(\"http://x\")\n"  # row 4: no location
    "S5,not a date,Begging,-2.2437,51.8651,Northgate Street\n"  # row 5: bad date
)


@pytest.fixture(scope="module")
def uploaded(client):
    files = {"file": ("street_aware.csv", LOG, "text/csv")}
    r = client.post("/api/uploads", headers=ANALYST, files=files)
    assert r.status_code == 200, r.text
    return r.json()


def test_balance_names_rows_outside_the_area(uploaded):
    assert (uploaded["in"], uploaded["accepted"], uploaded["quarantined"]) == (5, 3, 2)
    assert uploaded["outside"] == 1
    assert uploaded["message"] == (
        "5 rows: 2 stored in the area, 1 outside the area (stored, left out of area "
        "statistics), 2 rejected"
    )


def test_rejected_rows_have_row_numbers_and_reasons(uploaded):
    rows = {r["row"]: r["reason"] for r in uploaded["rejected"]}
    assert rows == {4: "no_location", 5: "bad_date"}
    assert uploaded["rejected_csv"] == "/api/uploads/street_aware.csv/rejected.csv"


def test_rejected_rows_download_is_csv_safe(client, uploaded):
    r = client.get(uploaded["rejected_csv"], headers=ANALYST)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = pd.read_csv(io.StringIO(r.text), dtype=str)
    assert list(table.columns[:3]) == ["row", "reason", "detail"]
    assert list(table["row"]) == ["4", "5"]
    assert table.loc[0, "location"] == "'=HYPERLINK(\"http://x\")"  # never a formula
    assert table.loc[1, "date"] == "not a date"  # the original value as given
    assert client.get(uploaded["rejected_csv"], headers=PCSO).status_code == 403
    assert client.get("/api/uploads/nope.csv/rejected.csv", headers=ANALYST).status_code == 404


def test_local_categories_are_kept_beside_the_police_uk_category(svc, uploaded):
    stored = svc.store.incidents()
    mine = stored[stored["source_file"] == "street_aware.csv"].sort_values("source_row")
    assert list(mine["subcategory"]) == ["Begging", "Street drinking", "Begging"]
    assert set(mine["crime_type"]) == {"Anti-social behaviour"}
    police = stored[stored["source"] != "local"]
    assert (police["subcategory"] == "").all()


def _count(client, query: str, headers=ANALYST) -> int:
    r = client.get(f"/api/incidents?{query}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["count"]


def test_subcategory_filter_counts_the_log_s_own_categories(client, uploaded):
    # in the area: S1 Begging and S2 Street drinking (S3 Begging is outside Gloucester)
    assert _count(client, "subcategory=begging") == 1
    assert _count(client, "subcategory=Street%20Drinking") == 1
    assert _count(client, "subcategory=Begging,street%20drinking") == 2
    assert _count(client, "subcategory=begging&subcategory=Street%20drinking") == 2
    assert _count(client, "subcategory=begging&crime_type=burglary") == 0
    assert _count(client, "subcategory=Loitering") == 0
    points = client.get("/api/incidents?subcategory=begging", headers=ANALYST).json()
    assert [f["properties"]["subcategory"] for f in points["features"]] == ["Begging"]
    areas = client.get("/api/areas?subcategory=street%20drinking", headers=ANALYST).json()
    assert sum(f["properties"]["count"] or 0 for f in areas["features"]) == 1


def test_subcategories_are_listed_for_analysts_only(client, uploaded):
    meta = client.get("/api/meta", headers=ANALYST).json()
    assert meta["subcategories"] == {"Begging": 1, "Street drinking": 1}
    assert client.get("/api/meta", headers=PCSO).json()["subcategories"] == {}


def test_subcategory_filter_is_refused_to_non_analysts(client, uploaded):
    r = client.get("/api/incidents?subcategory=begging", headers=PCSO)
    assert r.status_code == 403
    assert "analysts only" in r.json()["detail"]
    body = {"selection": {"ward": "Westgate"}, "filters": {"subcategories": ["Begging"]}}
    assert client.post("/api/selection/summary", headers=PCSO, json=body).status_code == 403


def test_summary_under_a_subcategory_filter(client, uploaded):
    body = {"selection": {"ward": "Westgate"}, "filters": {"subcategories": ["begging"]}}
    r = client.post("/api/selection/summary", headers=ANALYST, json=body)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["district"]["incidents"] == 1
    assert summary["filters"]["subcategories"] == ["begging"]


def test_hotspot_layer_under_a_subcategory_filter(client, uploaded):
    q = "/api/hotspots?method=grid-count&subcategory="
    begging = client.get(q + "begging", headers=ANALYST).json()["features"]
    assert [(f["properties"]["n_incidents"], f["properties"]["label"]) for f in begging] == [
        (1, "Westgate: Northgate Street (city centre)")
    ]
    both = client.get(q + "begging,street%20drinking", headers=ANALYST).json()["features"]
    assert sorted(f["properties"]["label"] for f in both) == [
        "Westgate: Eastgate Street (city centre)",
        "Westgate: Northgate Street (city centre)",
    ]
