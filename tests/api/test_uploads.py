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


VIEWER = {"Authorization": "Bearer dev-viewer"}
PUBLIC_LOG = (
    "ref,date,type,lon,lat,location\n"
    "P1,2025-07-03 21:40,Begging,-2.2437,51.8651,Shared by the partnership\n"
    "P2,2025-07-04 22:10,Begging,-2.2450,51.8655,Shared by the partnership\n"
)


@pytest.fixture(scope="module")
def uploaded_public(client):
    files = {"file": ("shared_log.csv", PUBLIC_LOG, "text/csv")}
    r = client.post("/api/uploads", headers=ANALYST, files=files, data={"public": "true"})
    assert r.status_code == 200, r.text
    return r.json()


def _shared_rows(client, headers, month):
    query = f"/api/incidents?from={month}&to={month}&crime_type=asb"
    body = client.get(query, headers=headers).json()
    return [f["properties"] for f in body["features"] if f["properties"]["source"] == "local"]


def test_a_local_log_marked_public_is_seen_by_every_role(client, uploaded_public):
    assert uploaded_public["public"] is True and uploaded_public["accepted"] == 2
    for headers in (ANALYST, PCSO, VIEWER):
        rows = _shared_rows(client, headers, "2025-07")
        assert [r["location_text"] for r in rows] == ["Shared by the partnership"] * 2
        assert not any(r["restricted"] for r in rows)


def test_a_local_log_is_restricted_by_default(client, uploaded, uploaded_public):
    assert uploaded["public"] is False
    assert len(_shared_rows(client, ANALYST, "2025-08")) == 2  # inside the area
    for headers in (PCSO, VIEWER):
        assert _shared_rows(client, headers, "2025-08") == []
    listed = {d["name"]: d["public"] for d in client.get("/api/datasets", headers=ANALYST).json()}
    assert listed["street_aware.csv"] is False and listed["shared_log.csv"] is True
    assert all(v for k, v in listed.items() if k.endswith("-street.csv"))  # police.uk: public
