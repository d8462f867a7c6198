"""Layer builders: base map and tiles, attribution, legends, classes, surface, empty layers."""

from __future__ import annotations

import html
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from maps_testkit import (
    X0,
    XSS_ESCAPED,
    Y0,
    assert_served_locally,
    data_of,
    decode,
    small_areas,
    small_hotspots,
    small_incidents,
    small_surface,
)

from geo_ssgp import maps
from geo_ssgp.config import ATTRIBUTION, CRS_BNG, CRS_WGS84
from geo_ssgp.maps.elements import Legend, SharedData


def legend_of(layer) -> dict:
    return next(c for c in layer._children.values() if isinstance(c, Legend)).content


def test_tiles_are_optional_and_need_attribution(pack, vendor):
    assert "L.tileLayer" not in maps.render(maps.base_map(pack))
    page = maps.render(maps.base_map(pack, tiles="OpenStreetMap"))
    assert "tile.openstreetmap.org" in page and maps.external_assets(page) == []
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    with pytest.raises(ValueError, match="needs an attribution"):
        maps.base_map(pack, tiles=url)
    page = maps.render(maps.base_map(pack, tiles=url + "|© Example tiles"))
    assert "tiles.example.org" in page and "\\u00a9 Example tiles" in page


def test_attribution_lines_follow_the_layers_drawn(pack):
    fmap = maps.base_map(pack, streets=False)
    lines = maps.attribution_lines(fmap)
    assert lines == [html.escape(ATTRIBUTION["ons"]), html.escape(ATTRIBUTION["police"])]
    areas = small_areas().drop(columns=["imd_decile"])
    maps.add_area_layer(fmap, areas, level="lsoa21")
    assert len(maps.attribution_lines(fmap)) == 2
    maps.add_area_layer(fmap, small_areas(), level="lsoa11")
    assert maps.attribution_lines(fmap)[2:] == [
        html.escape(ATTRIBUTION["lsoa11"]),
        html.escape(ATTRIBUTION["imd"]),
    ]
    page = maps.render(fmap)
    for key in ("ons", "police", "lsoa11", "imd"):
        assert json.dumps(html.escape(ATTRIBUTION[key])) in page
    assert page.count("addAttribution(") == 4


def test_hotspot_legend_lists_parameters_and_popup_statistics(pack):
    fmap = maps.base_map(pack)
    layer = maps.add_hotspot_layer(fmap, small_hotspots(), show=True)
    legend = legend_of(layer)
    shown = dict(legend["table"])
    # Method and period are shown; the technical parameters are in "All parameters".
    assert shown == {"Method": "gistar", "Period": "from=2025-01, to=2025-09"}
    assert dict(legend["more"]) == {
        "Cell size (m)": "100",
        "Bandwidth (m)": "none",
        "Neighbours": "queen contiguity",
        "P adjust": "fdr",
        "Filters": "crime_types=Burglary, sources=none",
        "Seed": "0",
        "Note": XSS_ESCAPED,
    }
    assert legend["notes"][0] == "2 hotspots"
    assert "Dashed" in legend["notes"][1]
    data = data_of(layer)
    feats = decode(data)
    assert [f["properties"]["rank"] for f in feats] == ["1", "2"]
    first, second = (f["properties"] for f in feats)
    assert first["label"] == XSS_ESCAPED and first["incidents"] == "40"
    assert first["area"] == "2.00 ha" and first["top_snap"] == "40%"
    assert second["snap"] == "yes (not an exact address)" and first["snap"] == "no"
    # Method statistics: z and p_adj; cluster_id is internal and count repeats n_incidents.
    popup = layer.spec["popup"]
    assert popup["aliases"][-2:] == ["Z", "P adj"]
    assert [first[k] for k in popup["fields"][-2:]] == ["4.2", "0.0004"]
    assert layer.spec["classes"] == [0, 1]  # second hotspot drawn dashed
    assert layer.spec["styles"][1]["dashArray"] == "4 3"


def test_hotspot_layers_take_the_next_colour_and_name_the_method(pack):
    fmap = maps.base_map(pack)
    hot = small_hotspots()
    hot.parameters = {"cell_size_m": 50}
    first = maps.add_hotspot_layer(fmap, hot)
    second = maps.add_hotspot_layer(fmap, small_hotspots(), layer_id="other")
    assert first.spec["styles"][0]["color"] != second.spec["styles"][0]["color"]
    assert dict(legend_of(first)["table"])["Method"] == "gistar"
    assert first.layer_name == "Hotspots: gistar"


def test_area_layer_classes_legend_and_codes(pack):
    fmap = maps.base_map(pack)
    layer = maps.add_area_layer(fmap, small_areas(), "rate_per_1000", k=3)
    feats = decode(data_of(layer))
    assert [f["properties"]["code"] for f in feats] == list(small_areas()["code"])
    assert feats[0]["properties"]["rate"] == "10.0"
    assert feats[3]["properties"]["rate"] == "–"
    assert feats[0]["properties"]["share"] == "10.0%"
    assert feats[0]["properties"]["imd"] == "1 of 10"
    # 10, 20, 30 in three quantile classes, the missing rate in the no-data style.
    assert layer.spec["classes"] == [0, 1, 2, 3]
    assert layer.spec["styles"][3]["fillColor"] == "#cccccc"
    legend = legend_of(layer)
    assert [s[1] for s in legend["swatches"]] == [
        "10.0 – 16.7",
        "16.7 – 23.3",
        "23.3 – 30.0",
        "no data",
    ]
    imd = maps.add_area_layer(fmap, small_areas(), "imd_decile")
    assert imd.spec["classes"] == [0, 0, 4, 10]
    assert len(imd.spec["styles"]) == 11
    # Both layers share one copy of the polygons.
    assert imd.data_js == layer.data_js
    assert sum(isinstance(c, SharedData) for c in fmap._children.values()) == 1


def test_area_layer_needs_its_columns(pack):
    with pytest.raises(ValueError, match="lacks column"):
        maps.add_area_layer(maps.base_map(pack), small_areas(), "no_such_column")


def test_surface_draws_non_zero_cells_merged_per_class(pack):
    fmap = maps.base_map(pack)
    layer = maps.add_surface_layer(fmap, small_surface(), "density", k=3)
    feats = decode(data_of(layer))
    assert len(feats) == 3 and layer.spec["classes"] == [0, 1, 2]
    area = gpd.GeoSeries([f["geometry"] for f in feats], crs=CRS_WGS84).to_crs(CRS_BNG).area
    # Zero cells are left out; coordinates are rounded to about a metre.
    np.testing.assert_allclose(area.sum(), 6 * 100 * 100, rtol=5e-3)
    np.testing.assert_allclose(sorted(area), [20_000] * 3, rtol=5e-3)
    assert [f["properties"]["value"] for f in feats] == [
        "1.000 – 2.667",
        "2.667 – 4.333",
        "4.333 – 6.000",
    ]


def test_empty_layers_and_geometry_collections_render(pack, vendor):
    fmap = maps.base_map(pack)
    cluster = maps.add_incident_layer(fmap, small_incidents().iloc[:0])
    empty = small_hotspots()
    empty.hotspots = empty.hotspots.iloc[:0]
    hot = maps.add_hotspot_layer(fmap, empty)
    surface = small_surface().assign(density=0.0)
    flat = maps.add_surface_layer(fmap, surface, "density")
    areas = small_areas()
    square = areas.geometry.iloc[0]
    areas.loc[0, "geometry"] = shapely.GeometryCollection(
        [square, shapely.LineString([(X0, Y0), (X0 + 10, Y0 + 10)])]
    )
    layer = maps.add_area_layer(fmap, areas)
    assert_served_locally(maps.render(fmap), vendor)
    assert cluster.data["n"] == [] and decode(data_of(hot)) == [] and decode(data_of(flat)) == []
    legend = legend_of(hot)
    assert legend["notes"] == ["No hotspots found"]
    first = decode(data_of(layer))[0]["geometry"]
    area = gpd.GeoSeries([first], crs=CRS_WGS84).to_crs(CRS_BNG).area.iloc[0]
    assert abs(area - square.area) / square.area < 5e-3  # the line part is dropped


def test_area_level_comes_from_area_stats(pack, real):
    from geo_ssgp.areas import area_stats

    assert maps.area_level(real["areas"]) == "lsoa21"
    lsoa11 = area_stats(real["incidents"], pack, "lsoa11")
    assert maps.area_level(lsoa11) == "lsoa11"
    fmap = maps.base_map(pack)
    maps.add_area_layer(fmap, lsoa11)
    assert html.escape(ATTRIBUTION["lsoa11"]) in maps.attribution_lines(fmap)
    wards = area_stats(real["incidents"], pack, "ward")
    layer = maps.add_area_layer(maps.base_map(pack), wards, "rate_per_1000")
    assert layer.layer_name == "Ward: Incidents per 1,000 residents"
    assert (
        layer.spec["tooltip"]["aliases"][0] == "Ward"
        and "ward" not in layer.spec["tooltip"]["fields"]
    )
    assert maps.area_level(small_areas(), "lsoa21") == "lsoa21"
