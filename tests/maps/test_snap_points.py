"""Incidents grouped by snap point for the incident layer."""

from __future__ import annotations

import numpy as np
from maps_testkit import XSS_ESCAPED, small_incidents

from geo_ssgp import maps
from geo_ssgp.config import CRS_WGS84


def test_snap_point_rows_group_identical_locations():
    data = maps.snap_point_rows(small_incidents())
    assert sorted(data["n"]) == [1, 1, 3]
    assert data["prefix"] == "On or near "
    assert data["types"] == ["Burglary", "Drugs", "Robbery", "Shoplifting"]
    i = data["n"].index(3)
    assert data["loc"][i] == "Widden Street"  # most common text at the point
    assert data["t"][i] == "a2d1"  # Burglary 2, Shoplifting 1
    assert [data["months"][j] for j in data["spans"][data["m"][i]]] == ["Jan 2025", "Mar 2025"]
    j = data["loc"].index(XSS_ESCAPED)
    assert data["exact"] == [j]  # not a snap point
    lat = np.cumsum(maps.decode_ints(data["lat"])) / 1e5
    lon = (np.array(maps.decode_ints(data["lon"])) + data["lon0"]) / 1e5
    expected = small_incidents().to_crs(CRS_WGS84).geometry.iloc[0]
    assert abs(lat[i] - expected.y) < 1e-5 and abs(lon[i] - expected.x) < 1e-5
    assert list(lat) == sorted(lat)


def test_snap_point_rows_keep_mixed_prefixes_and_name_missing_locations():
    incidents = small_incidents()
    incidents.loc[3, "location_text"] = None
    data = maps.snap_point_rows(incidents)
    assert data["prefix"] == ""
    assert "location not given" in data["loc"]
    assert "On or near Widden Street" in data["loc"]
