"""A local log the uploader marks public is seen by every role; by default it is not.

In a module of its own: its rows would otherwise join the Street Aware log's counts.
"""

from __future__ import annotations

import pytest

ANALYST = {"Authorization": "Bearer dev-analyst"}
PCSO = {"Authorization": "Bearer dev-pcso"}
RESTRICTED_LOG = (
    "ref,date,type,lon,lat,location\n"
    "R1,2025-08-03 21:40,Begging,-2.2437,51.8651,Northgate Street\n"
    "R2,2025-08-04 23:05,Street drinking,-2.2450,51.8655,Eastgate Street\n"
)


@pytest.fixture(scope="module")
def uploaded(client):
    files = {"file": ("street_aware.csv", RESTRICTED_LOG, "text/csv")}
    r = client.post("/api/uploads", headers=ANALYST, files=files)
    assert r.status_code == 200, r.text
    return r.json()


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
