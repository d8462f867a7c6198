"""Street segments: splitting at junctions, snapping with name preference, concentration.

Constructed streets where the answer is known, then the real Gloucester sample (OSM streets
of the pack, police.uk 2025-01..09).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.filters import Filters
from geo_ssgp.streets import (
    _segment_id,
    concentration,
    concentration_curve,
    segment_counts,
    share_on_top,
    snap_to_segments,
    street_key,
    street_report,
    street_segments,
)


def _segments(lines: dict[str, shapely.LineString]) -> gpd.GeoDataFrame:
    names = list(lines)
    return gpd.GeoDataFrame(
        {
            "segment_id": [f"s{i}" for i in range(len(names))],
            "name": names,
            "ward_cd": "W1",
            "ward_nm": "Ward",
            "length_m": [g.length for g in lines.values()],
        },
        geometry=list(lines.values()),
        crs=CRS_BNG,
    )


def _points(xy: list[tuple[float, float]], text: list[str], crime="Burglary") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"location_text": text, "crime_type": crime},
        geometry=shapely.points(np.asarray(xy, dtype=float)),
        crs=CRS_BNG,
    )


def test_street_key_strips_police_uk_prefix_and_case():
    assert street_key("On or near  Barnett   Way ") == "barnett way"
    keys = street_key(pd.Series(["on or near High Street", None]))
    assert keys.tolist() == ["high street", ""]


def test_snap_prefers_the_named_street_over_a_nearer_one():
    segs = _segments(
        {
            "Main Road": shapely.LineString([(0, 0), (100, 0)]),
            "Side Lane": shapely.LineString([(0, 10), (100, 10)]),
        }
    )
    pts = _points(
        [(50, 3), (50, 3), (50, 200)], ["On or near Side Lane", "On or near Car Park", "x"]
    )
    snapped = snap_to_segments(pts, segs, max_distance_m=30)
    assert snapped["segment_id"].iloc[0] == "s1" and bool(snapped["name_match"].iloc[0])
    assert snapped["snap_distance_m"].iloc[0] == pytest.approx(7.0)
    assert snapped["segment_id"].iloc[1] == "s0" and not snapped["name_match"].iloc[1]
    assert snapped["snap_distance_m"].iloc[1] == pytest.approx(3.0)
    assert pd.isna(snapped["segment_id"].iloc[2])  # 190 m away: left unsnapped
    with pytest.raises(BadInput, match="positive"):
        snap_to_segments(pts, segs, max_distance_m=0)


def test_counts_per_km_and_concentration_of_a_known_layout():
    # ten 100 m segments; 50 incidents on one, 5 on each of the nine others (95 in all)
    lines = {f"Street {i}": shapely.LineString([(0, 100 * i), (100, 100 * i)]) for i in range(10)}
    segs = _segments(lines)
    xy = [(50, 0)] * 50 + [(50, 100 * i) for i in range(1, 10) for _ in range(5)]
    pts = _points(xy, [""] * len(xy))
    counts = segment_counts(pts, segs)
    assert counts["n_incidents"].tolist() == [50] + [5] * 9
    assert counts["per_km"].iloc[0] == pytest.approx(500.0)
    curve = concentration_curve(counts, "length")
    assert share_on_top(curve, 0.10) == pytest.approx(50 / 95)
    assert share_on_top(curve, 0.05) == pytest.approx(25 / 95)  # half the busiest segment
    table = concentration(pts, segs)
    assert table.loc[0, "top_10%_segments"] == pytest.approx(50 / 95)
    assert table.loc[0, "segments_for_half"] == pytest.approx(0.1 * 47.5 / 50)


def test_even_spread_shows_no_concentration():
    lines = {f"Street {i}": shapely.LineString([(0, 100 * i), (100, 100 * i)]) for i in range(10)}
    segs = _segments(lines)
    xy = [(50, 100 * i) for i in range(10) for _ in range(4)]
    table = concentration(_points(xy, [""] * 40), segs)
    assert table.loc[0, "top_20%_length"] == pytest.approx(0.2)
    with pytest.raises(NotEnoughData):
        concentration_curve(segment_counts(_points([(5000, 5000)], [""]), segs))


def test_segment_id_is_derived_from_geometry_not_direction():
    line = shapely.LineString([(0, 0), (10, 0), (20, 5)])
    assert _segment_id(line) == _segment_id(line.reverse())
    assert _segment_id(line) != _segment_id(shapely.LineString([(0, 0), (10, 0)]))


# --------------------------------------------------------------------------------------------
# the real sample


def test_real_streets_split_at_junctions(pack):
    segs = street_segments(pack)
    assert (
        segs["segment_id"].is_unique and segs["segment_id"].str.match(r"^seg-[0-9a-f]{12}$").all()
    )
    assert len(segs) > 10_000 and segs["length_m"].min() >= 1.0
    assert street_segments(pack)["segment_id"].tolist() == segs["segment_id"].tolist()
    # no segment passes through a point where a third line joins: ends meet, interiors don't
    sample = segs[segs["name"] == "Southgate Street"]
    assert 3 <= len(sample) <= 40


def test_real_report_district_and_asb(pack, sample_geocoded):
    report = street_report(sample_geocoded, pack, Filters.of("2025-01", "2025-09"))
    district = report.concentration.iloc[0]
    assert district["group"] == "all" and district["n_incidents"] == report.parameters["n_snapped"]
    assert report.parameters["n_snapped"] + report.parameters["n_unsnapped"] == 14_333
    assert report.parameters["n_unsnapped"] < 0.08 * 14_333
    assert 0.80 < district["top_5%_length"] < 0.95  # measured 88.3%
    assert report.segments["n_incidents"].iloc[0] == report.segments["n_incidents"].max()
    asb = street_report(sample_geocoded, pack, Filters.of(crime_types="asb")).concentration
    assert asb.iloc[0]["top_5%_length"] > district["top_5%_length"]


def test_real_report_by_ward(pack, sample_geocoded):
    table = street_report(sample_geocoded, pack, group_by="ward").concentration
    wards = table.iloc[1:]
    assert len(wards) >= 15 and wards["group"].str.contains(r"\(E05\d{6}\)").all()
    assert wards["n_incidents"].sum() == table.iloc[0]["n_incidents"]
