"""Locating rows: coordinate tiers, ranges, postcodes and the postcode pattern."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_ssgp.incidents import POSTCODE_PATTERN, normalise_postcode, read_incidents
from geo_ssgp.incidents.locate import distinct_locations, points_of


def test_normalise_postcode():
    values = pd.Series(["gl11ad", " GL1  1AD ", "GL1 1AD", "XYZ", "", None, "sw1a1aa", "GL1"])
    assert normalise_postcode(values).tolist() == [
        "GL1 1AD",
        "GL1 1AD",
        "GL1 1AD",
        "",
        "",
        "",
        "SW1A 1AA",
        "",
    ]


def test_postcode_pattern_checks_values_and_finds_postcodes_in_text():
    # one pattern serves both: fullmatch checks a value, \b...\b finds one inside text
    assert re.fullmatch(POSTCODE_PATTERN, "GL1 1AD") and re.fullmatch(POSTCODE_PATTERN, "SW1A1AA")
    assert re.fullmatch(POSTCODE_PATTERN, "GIR 0AA")
    assert not re.fullmatch(POSTCODE_PATTERN, "GL1") and not re.fullmatch(POSTCODE_PATTERN, "XYZ")
    found = re.compile(rf"\b{POSTCODE_PATTERN}\b", re.IGNORECASE)
    assert found.sub("", "Kings Square, gl1 1ad").strip(" ,") == "Kings Square"
    assert found.findall("near GL11AD and SW1A 1AA") == ["GL11AD", "SW1A 1AA"]


def test_postcode_lookup_uses_every_pack_file(tmp_path, pack, write):
    # GL1 1DA is only in the Code-Point 2014 file of the pack
    f = write(tmp_path / "pc.csv", "date,type,postcode\n2025-01-02,ASB,gl1 1da\n")
    res = read_incidents(f, pack=pack)
    assert (res.incidents.geometry.x[0], res.incidents.geometry.y[0]) == (383773.0, 218403.0)


def test_postcode_rows_need_a_pack(tmp_path, write):
    f = write(tmp_path / "pc.csv", "date,type,postcode\n2025-01-02,ASB,GL1 1AD\n")
    with pytest.raises(ValueError, match="1 rows are located by postcode only"):
        read_incidents(f)
    # rows located otherwise do not need the pack
    g = write(
        tmp_path / "pc2.csv", "date,type,lon,lat,postcode\n2025-01-02,ASB,-2.2437,51.8651,GL1 1AD\n"
    )
    assert len(read_incidents(g).incidents) == 1


def test_first_usable_location_wins(tmp_path, pack, write, reasons_of, gl1_1ad, to_bng):
    f = write(
        tmp_path / "tiers.csv",
        "id,date,type,lon,lat,easting,northing,postcode\n"
        "a,2025-01-02,ASB,51.8651,-2.2437,,,GL1 1AD\n"  # swapped lon/lat -> postcode
        "b,2025-01-02,ASB,-2.2437,51.8651,,,nonsense\n"  # lon/lat fine, bad postcode unused
        "c,2025-01-02,ASB,,,390000,220000,GL1 1AD\n"  # grid ref before postcode
        "d,2025-01-02,ASB,51.8651,-2.2437,,,\n",  # nothing usable: first reason
    )
    res = read_incidents(f, pack=pack)
    xy = dict(
        zip(
            res.incidents["incident_id"],
            zip(res.incidents.geometry.x, res.incidents.geometry.y, strict=True),
            strict=True,
        )
    )
    assert xy["a"] == gl1_1ad
    assert xy["b"] == (
        pytest.approx(to_bng.transform(-2.2437, 51.8651)[0]),
        pytest.approx(to_bng.transform(-2.2437, 51.8651)[1]),
    )
    assert xy["c"] == (390000.0, 220000.0)
    assert reasons_of(res) == {3: "swapped_lat_lon"}


def test_coordinate_ranges(tmp_path, write, reasons_of, details_of):
    f = write(
        tmp_path / "ranges.csv",
        "date,type,lon,lat,easting,northing\n"
        "2025-01-02,ASB,200,95,,\n"
        "2025-01-02,ASB,,,800000,100000\n"
        "2025-01-02,ASB,,,0,0\n"
        "2025-01-02,ASB,,,-100,5000\n"
        "2025-01-02,ASB,,,51.86,-2.24\n"
        "2025-01-02,ASB,,,12.5,\n"
        "2025-01-02,ASB,inf,51.8,,\n"
        "2025-01-02,ASB,1.7,60.5,,\n",  # Shetland-ish: inside the UK extent
    )
    res = read_incidents(f)
    assert reasons_of(res) == {
        0: "impossible_coordinates",
        1: "impossible_coordinates",
        2: "impossible_coordinates",
        3: "impossible_coordinates",
        4: "wrong_crs",
        5: "bad_coordinates",
        6: "bad_coordinates",
    }
    d = details_of(res)
    assert "outside the WGS84 range" in d[0]
    assert "outside the British National Grid extent" in d[1]
    assert "(0, 0)" in d[2]
    assert "look like WGS84 latitude/longitude degrees" in d[4]
    assert d[5] == "northing is blank (easting 12.5)"
    assert len(res.incidents) == 1


def test_distinct_locations_number_places_in_order_of_first_appearance():
    x = np.array([5.0, 1.0, 5.0, 2.0, 1.0, 5.0])
    y = np.array([7.0, 1.0, 7.0, 2.0, 1.0, 8.0])
    place, first = distinct_locations(x, y)
    np.testing.assert_array_equal(place, [0, 1, 0, 2, 1, 3])
    np.testing.assert_array_equal(first, [0, 1, 3, 5])


def test_points_of_equals_one_point_per_row(sample_result):
    """Points built once per snap point equal points built per row, in CRS and coordinates."""
    geoms = sample_result.incidents.geometry
    x, y = geoms.x.to_numpy(), geoms.y.to_numpy()
    points = points_of(x, y)
    assert points.crs == gpd.points_from_xy(x, y, crs=27700).crs
    np.testing.assert_array_equal(shapely.get_coordinates(points), np.c_[x, y])
    # far fewer distinct points than rows on police.uk data (what makes it cheaper)
    assert len(set(map(id, points))) == len(np.unique(np.c_[x, y], axis=0)) < len(x) / 3
