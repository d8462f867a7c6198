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
    busiest_segments,
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


def test_busiest_segments_are_the_top_of_the_curve_by_length():
    # 19 segments of 100 m with 50, 30, 20, 5 and zero incidents, and a 2.5 m stub with 2
    lines = {f"Street {i}": shapely.LineString([(0, 100 * i), (100, 100 * i)]) for i in range(19)}
    lines["Stub"] = shapely.LineString([(500, 0), (502.5, 0)])
    counts = _segments(lines).assign(n_incidents=[50, 30, 20, 5] + [0] * 15 + [2])
    counts["per_km"] = counts["n_incidents"] / counts["length_m"] * 1000
    total = counts["length_m"].sum()  # 1,902.5 m
    # 11% = 209 m: the stub (800 per km), then 50 and 30 fit; the 20 does not
    top = busiest_segments(counts, street_share=0.11)
    assert top["name"].tolist() == ["Street 0", "Street 1"]  # the 2-incident stub not drawn
    assert top["street_share"].tolist() == pytest.approx([102.5 / total, 202.5 / total])
    assert top["incident_share"].tolist() == pytest.approx([52 / 107, 82 / 107])  # stub counts
    assert top.attrs["incident_share"] == pytest.approx(82 / 107)
    assert top.attrs["street_share"] == 0.11 and top.attrs["min_incidents"] == 3
    every = busiest_segments(counts, street_share=1.0, min_incidents=1)
    assert every["name"].tolist() == ["Stub", "Street 0", "Street 1", "Street 2", "Street 3"]
    assert every["incident_share"].iloc[-1] == pytest.approx(1.0)
    with pytest.raises(BadInput, match="street_share"):
        busiest_segments(counts, street_share=0)


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
    # the map's layer: the busiest 5% of street length, whole segments, as the curve says
    top = busiest_segments(report.segments)
    assert top["street_share"].max() <= 0.05 and top.attrs["incident_share"] == pytest.approx(
        district["top_5%_length"], abs=0.005
    )
    assert (top["n_incidents"] >= 3).all() and top["per_km"].is_monotonic_decreasing


def test_real_report_by_ward(pack, sample_geocoded):
    table = street_report(sample_geocoded, pack, group_by="ward").concentration
    wards = table.iloc[1:]
    assert len(wards) >= 15 and wards["group"].str.contains(r"\(E05\d{6}\)").all()
    assert wards["n_incidents"].sum() == table.iloc[0]["n_incidents"]
