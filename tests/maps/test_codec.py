"""Compact codec: encoded-polyline integers and geometries, round-tripped in Python."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from maps_testkit import decode
from shapely.geometry import Point

from geo_ssgp import maps
from geo_ssgp.config import CRS_WGS84
from geo_ssgp.maps.codec import compact_features


def test_encode_ints_round_trips_and_matches_the_polyline_format():
    values = [0, 1, -1, 15, -16, 16, 31, 32, -225_218, 5_186_245, 2**31 - 1, -(2**31 - 1)]
    text, n_chars = maps.encode_ints(values)
    assert maps.decode_ints(text) == values
    assert n_chars.sum() == len(text) and set(text) <= {chr(c) for c in range(63, 127)}
    assert maps.encode_ints([-17_998_321])[0] == "`~oia@"  # the published example
    with pytest.raises(ValueError):
        maps.encode_ints([2**31])


def test_encode_geometries_round_trip_to_five_decimals(real):
    lsoa = real["lsoa21"].head(20)
    wgs = lsoa.geometry.to_crs(CRS_WGS84)
    data, keep = compact_features(wgs, pd.DataFrame({"code": lsoa["code"]}))
    assert keep.all()
    feats = decode(data)
    for f, original in zip(feats, wgs, strict=True):
        expected = shapely.transform(original, lambda xy: np.round(xy, maps.DECIMALS))
        assert shapely.equals_exact(
            f["geometry"],
            shapely.MultiPolygon(list(getattr(expected, "geoms", [expected]))),
            tolerance=1e-9,
        )
    points = gpd.GeoSeries([Point(-2.245, 51.8655), Point(-2.2, 51.9)], crs=CRS_WGS84)
    assert maps.encode_geometries(points) == [["p", -224500, 5186550], ["p", -220000, 5190000]]


def test_street_segment_lines_round_trip_with_every_vertex():
    one = shapely.LineString([(-2.245, 51.8655), (-2.2449, 51.8656), (-2.2447, 51.8656)])
    two = shapely.MultiLineString(
        [[(-2.2, 51.9), (-2.2001, 51.9002)], [(-2.1, 51.8), (-2.1, 51.81)]]
    )
    geoms = gpd.GeoSeries([one, two], crs=CRS_WGS84)
    feats = decode(compact_features(geoms, pd.DataFrame({"n": [1, 2]}))[0])
    assert feats[0]["geometry"].equals(shapely.MultiLineString([one]))
    assert shapely.equals_exact(feats[1]["geometry"], two, tolerance=1e-9)
    assert maps.encode_geometries(gpd.GeoSeries([one]))[0][2] == [3]


def test_compact_features_send_each_value_once_and_drop_empty_rows():
    geoms = gpd.GeoSeries([Point(-2.2, 51.9), shapely.Polygon(), Point(-2.1, 51.8)], crs=CRS_WGS84)
    props = pd.DataFrame({"name": ["a", "b", "a"], "n": [1, 2, None]})
    data, keep = compact_features(geoms, props)
    assert keep.tolist() == [True, False, True]
    assert data["k"] == ["name", "n"] and data["v"] == ["a", 1.0, None]
    assert [f[1] for f in data["f"]] == [[0, 1], [0, 2]]
    with pytest.raises(ValueError, match="only Point, LineString, Polygon"):
        maps.encode_geometries(gpd.GeoSeries([shapely.GeometryCollection([Point(0, 0)])]))
