"""The PCSO area view's pieces in reports.py: a place's hotspots, streets against places,
change against the previous period (small known data, plus the real Gloucester streets)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from geo_ssgp import focus, reports
from geo_ssgp.config import CRS_BNG
from geo_ssgp.hotspots import HotspotLayer


def _layer() -> HotspotLayer:
    """Three 100 m cells against a ward x in [0, 1000]: inside, 60% inside, 20% inside."""
    cells = [box(400, 0, 500, 100), box(940, 0, 1040, 100), box(980, 200, 1080, 300)]
    spots = gpd.GeoDataFrame(
        {
            "rank": [3, 1, 2],
            "label": ["inside", "mostly inside", "grazing"],
            "n_incidents": [5, 40, 30],
            "single_snap_point": [False, True, False],
        },
        geometry=cells,
        crs=CRS_BNG,
    )
    return HotspotLayer("grid-count", spots, {"method": "grid-count"})


WARD = box(0, -500, 1000, 500)


def test_a_place_keeps_hotspots_mostly_inside_it_numbered_by_rank():
    rows = reports.area_hotspots(_layer(), WARD)
    assert [(r["number"], r["rank"], r["label"]) for r in rows] == [
        (1, 1, "mostly inside"),
        (2, 3, "inside"),
    ]
    assert rows[0]["single_snap_point"] is True


def test_point_hotspots_and_incidents_count_when_they_touch():
    points = gpd.GeoDataFrame(
        {"rank": [1, 2], "label": ["in", "out"], "n_incidents": [9, 9]},
        geometry=[Point(1000, 0), Point(1001, 0)],
        crs=CRS_BNG,
    )
    layer = HotspotLayer("hdbscan", points, {})
    shown, incidents = reports.place_content(WARD, layer, points)
    assert list(shown.hotspots["label"]) == ["in"]  # on the edge belongs to the place
    assert list(incidents["label"]) == ["in"]


def test_streets_and_places_are_told_apart(pack):
    rows = [
        {"street": "Supermarket", "incidents": 40},
        {"street": "Westgate Street", "incidents": 30},
        {"street": "Parking Area", "incidents": 20},
        {"street": "Some New Road", "incidents": 10},  # not in OSM, ends with a street word
        {"street": "Hospital", "incidents": 5},
    ]
    streets, places = reports.streets_and_places(rows, pack)
    assert [r["street"] for r in streets] == ["Westgate Street", "Some New Road"]
    assert [r["street"] for r in places] == ["Supermarket", "Parking Area", "Hospital"]
    assert "westgate street" in reports.street_names(pack)


def test_real_ward_view_lists_only_its_own_hotspots(sample_geocoded, pack):
    from geo_ssgp.hotspots import run_method
    from geo_ssgp.pack import load_layer

    wards = load_layer(pack, "ward")
    barton = wards.loc[wards["name"] == "Barton and Tredworth", "geometry"].iloc[0]
    layer = run_method("grid-count", sample_geocoded, pack, start="2025-07", end="2025-09")
    rows = reports.area_hotspots(layer, barton, top=50)
    assert rows and all(not r["label"].startswith("Westgate") for r in rows)
    assert [r["number"] for r in rows] == list(range(1, len(rows) + 1))
    assert pd.Series([r["rank"] for r in rows]).is_monotonic_increasing


def test_district_and_county_count_the_same_sources(sample_geocoded, pack):
    local = sample_geocoded[sample_geocoded["lad_cd"] == "E07000081"].head(500).copy()
    local["source"] = "local"
    both = pd.concat([sample_geocoded, local], ignore_index=True)
    plain = reports.district_county_summary(sample_geocoded, pack, "2025-01", "2025-09")
    with_local = reports.district_county_summary(both, pack, "2025-01", "2025-09")
    assert with_local["rows"] == plain["rows"]  # local records change neither side
    assert with_local["notes"][-1] == reports.COMPARISON_NOTE


def test_a_search_result_on_a_pcso_page_says_when_it_lies_in_another_ward(pack):
    ref = "street:E05010953:Widden Street"
    home = reports.area_focus(pack, focus.find_place(pack, "E05010953"), ref)
    away = reports.area_focus(pack, focus.find_place(pack, "Westgate"), ref)
    assert home["elsewhere"] is False and away["elsewhere"] is True
    assert home["found"].ward_nm == away["found"].ward_nm == "Barton and Tredworth"
    assert home["feature"]["type"] == "Feature"
    assert home["feature"]["geometry"]["type"] == "LineString"
    assert home["feature"]["properties"]["label"] == "Widden Street"
    # an LSOA page: the postcode's point lies in its LSOA or it does not
    postcode = "postcode:GL11AD"
    assert not reports.area_focus(pack, focus.find_place(pack, "E01032937"), postcode)["elsewhere"]
    assert reports.area_focus(pack, focus.find_place(pack, "E01022289"), postcode)["elsewhere"]
