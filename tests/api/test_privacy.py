"""Disclosure control (:mod:`geo_ssgp.api.privacy`): what pcso and viewer can compute.

The question each test answers:

* *Can a non-analyst learn anything about restricted records?* Every pcso/viewer answer over
  random filters is byte-identical before and after two restricted records are stored, so
  no single answer, and no difference of two answers, lets them be counted or located.
* *Can a non-analyst ask for restricted records only?* No: ``source=local`` is 403.
* *Does a suppressed count take its derived fields with it?* On constructed frames where the
  answer is known, every column outside the allow-list is null on a suppressed row.
"""

from __future__ import annotations

import random

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo_ssgp.api.privacy import HOTSPOT_KEEP, suppress_frame, suppress_summary

ANALYST = {"Authorization": "Bearer dev-analyst"}
ROLES = {"pcso": {"Authorization": "Bearer dev-pcso"},
         "viewer": {"Authorization": "Bearer dev-viewer"}}
#: Two restricted records in one month at one place: the counts suppression must protect.
LOCAL_PAIR = (
    "ref,date,type,lon,lat,location\n"
    "R1,2025-09-10,ASB,-2.24370,51.86510,Westgate Street\n"
    "R2,2025-09-11,ASB,-2.24372,51.86512,Westgate Street\n"
)
MONTHS = [f"2025-{m:02d}" for m in range(1, 10)]
TYPES = [None, "Anti-social behaviour", "Violence and sexual offences", "Shoplifting"]


def _queries(n: int, seed: int = 12) -> list[tuple[str, str, dict | None]]:
    """Random pcso/viewer requests: (method, path with query, JSON body)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = sorted(rnd.sample(MONTHS, 2))
        q = f"from={a}&to={b}"
        ctype = rnd.choice(TYPES)
        if ctype:
            q += f"&crime_type={ctype.replace(' ', '+')}"
        if rnd.random() < 0.3:
            q += "&source=police-uk"
        kind = rnd.choice(["areas", "hotspots", "candidates", "summary", "incidents"])
        if kind == "summary":
            body = {"selection": {"ward": "Westgate"},
                    "filters": {"from": a, "to": b, "crime_types": [ctype] if ctype else []}}
            out.append(("post", "/api/selection/summary", body))
        elif kind == "hotspots":
            out.append(("get", f"/api/hotspots?{q}&method=grid-count", None))
        else:
            out.append(("get", f"/api/{kind}?{q}", None))
    out += [("get", "/api/meta", None), ("get", "/api/areas?from=2025-09&to=2025-09", None)]
    return out


def _answers(client, queries) -> dict:
    out = {}
    for role, headers in ROLES.items():
        for method, path, body in queries:
            r = getattr(client, method)(path, headers=headers, **({"json": body} if body else {}))
            out[(role, method, path, str(body))] = (r.status_code, r.content)
    health = client.get("/api/health").json()
    out["health"] = {k: v for k, v in health.items() if k != "datasets"}
    return out


@pytest.mark.slow
def test_nothing_a_non_analyst_sees_changes_when_restricted_records_arrive(client):
    queries = _queries(24)
    before = _answers(client, queries)
    r = client.post("/api/uploads", headers=ANALYST,
                    files={"file": ("pair.csv", LOCAL_PAIR, "text/csv")})
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    analyst = client.get("/api/areas?from=2025-09&to=2025-09&source=local", headers=ANALYST)
    assert sum(f["properties"]["count"] for f in analyst.json()["features"]) == 2
    after = _answers(client, queries)
    changed = [k for k in before if before[k] != after[k]]
    assert changed == []
    assert sum(code == 200 for code, _ in (v for k, v in after.items() if k != "health")) > 40


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("path", ["/api/hotspots?method=grid-count", "/api/areas",
                                  "/api/candidates", "/api/incidents"])
def test_non_analysts_cannot_filter_to_restricted_records(client, role, path):
    r = client.get(f"{path}&source=local" if "?" in path else f"{path}?source=local",
                   headers=ROLES[role])
    assert r.status_code == 403
    assert "analysts only" in r.json()["detail"]
    ok = client.get(f"{path}&source=local" if "?" in path else f"{path}?source=local",
                    headers=ANALYST)
    assert ok.status_code in (200, 422)


def test_health_counts_public_records_only(client, svc):
    body = client.get("/api/health").json()
    public = svc.incidents()
    assert body["incidents"] == int((~public["restricted"].astype(bool)).sum())


def _hotspot_frame(counts: list[int]) -> gpd.GeoDataFrame:
    n = len(counts)
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, n + 1),
            "score": np.asarray(counts, float),
            "n_incidents": counts,
            "area_m2": np.full(n, 10_000.0),
            "snap_points": np.minimum(counts, 3),
            "top_snap_share": np.full(n, 0.5),
            "single_snap_point": [c == 1 for c in counts],
            "label": [f"street {i}" for i in range(n)],
            "max_cell_count": counts,
            "density_per_km2": np.asarray(counts, float) * 100,
            "hot_cold": ["hot"] * n,
        },
        geometry=[box(i, 0, i + 1, 1) for i in range(n)],
        crs=27700,
    )


def test_a_suppressed_hotspot_keeps_only_count_free_fields():
    out = suppress_frame(_hotspot_frame([2, 40, 0]), "n_incidents", 3, keep=HOTSPOT_KEEP)
    row = out.iloc[0]
    for col in ("score", "n_incidents", "snap_points", "top_snap_share", "single_snap_point",
                "max_cell_count", "density_per_km2", "hot_cold"):
        assert pd.isna(row[col]), col
    assert (row["rank"], row["area_m2"], row["label"], row["suppressed"]) == (
        1, 10_000.0, "street 0", True)
    assert out.iloc[1]["max_cell_count"] == 40 and out.iloc[1]["density_per_km2"] == 4000
    assert out.iloc[2]["n_incidents"] == 0 and not out.iloc[2]["suppressed"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=12), st.integers(2, 6))
def test_no_suppressed_hotspot_row_exposes_a_count_derived_value(counts, threshold):
    out = suppress_frame(_hotspot_frame(counts), "n_incidents", threshold, keep=HOTSPOT_KEEP)
    hidden = [c for c in out.columns if c not in HOTSPOT_KEEP]
    for i, n in enumerate(counts):
        values = out.iloc[i][hidden]
        if 0 < n < threshold:
            assert values.isna().all()
        else:
            assert out.iloc[i]["n_incidents"] == n


def test_summary_suppresses_district_totals_and_monthly_district_series():
    summary = {
        "incidents": 1,
        "rate_per_1000": 0.2,
        "rate_ratio": 1.0,
        "share_of_district_incidents": 1.0,
        "concentration": 1.0,
        "district": {"incidents": 1, "population": 130_000, "rate_per_1000": 0.01},
        "monthly": [{"month": "2025-09", "incidents": 1, "district": 2},
                    {"month": "2025-08", "incidents": 0, "district": 7}],
        "crime_types": [], "top_streets": [], "lsoas": [], "change": None,
    }
    out = suppress_summary(summary, 3)
    assert out["district"]["incidents"] is None and out["district"]["suppressed"] is True
    assert out["district"]["population"] == 130_000
    assert out["monthly"][0]["district"] is None and out["monthly"][0]["incidents"] is None
    assert out["monthly"][1] == {"month": "2025-08", "incidents": 0, "district": 7,
                                 "suppressed": False}
