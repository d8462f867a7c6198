"""Space-time overlays: emerging categories and tested change, drawn with legends and tooltips."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from maps_testkit import X0, XSS, XSS_ESCAPED, Y0, data_of, decode

from geo_ssgp import maps
from geo_ssgp.config import CRS_BNG
from geo_ssgp.maps.elements import Legend
from geo_ssgp.maps.spacetime import CHANGE_COLOURS, EMERGING_COLOURS, p_text


def legend_of(layer) -> dict:
    return next(c for c in layer._children.values() if isinstance(c, Legend)).content


def props_of(layer) -> list[dict]:
    return [f["properties"] for f in decode(data_of(layer))]


def cells(n: int) -> list[shapely.Polygon]:
    return [shapely.box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100) for i in range(n)]


def emerging_places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "category": ["persistent hot spot", "no pattern", "new hot spot"],
            "label": ["Westgate: Eastgate Street", "", XSS],
            "trend_tau": [0.123, 0.0, -0.5],
            "trend_p": [0.5, 1.0, 0.00001],
            "n_hot": [33, 0, 1],
            "n_cold": [0, 0, 0],
            "total": [1200, 3, 40],
        },
        geometry=cells(3),
        crs=CRS_BNG,
    )


def change_table() -> gpd.GeoDataFrame:
    table = gpd.GeoDataFrame(
        {
            "code": ["c1", "c2", "c3"],
            "change_class": ["significant increase", "no significant change",
                             "significant decrease"],
            "before": [1, 2, 30],
            "after": [20, 2, 3],
            "before_per_month": [0.33, 0.67, 10.0],
            "after_per_month": [6.67, 0.67, 1.0],
            "p_value": [0.0001, 1.0, 0.00002],
            "p_adjusted": [0.001, 1.0, 0.0002],
        },
        geometry=cells(3),
        crs=CRS_BNG,
    )
    table.attrs["parameters"] = {
        "before": {"from": "2025-04", "to": "2025-06"},
        "after": {"from": "2025-07", "to": "2025-09"},
        "note": "both periods are 3 months",
    }
    return table


def test_emerging_layer_draws_categories_with_legend_and_tooltips(pack):
    """Only places with a pattern; a swatch per category drawn; tooltip category + trend."""
    fmap = maps.base_map(pack, tiles=None)
    params = {"scheme": "arcgis", "cube": {"steps": 9, "step": "month",
                                           "period": {"from": "2025-01", "to": "2025-09"}}}
    note = "only 9 time steps: categories need at least 10"
    layer = maps.add_emerging_layer(fmap, emerging_places(), params, warnings=[note])
    assert layer.layer_name == "Emerging hotspots"
    legend = legend_of(layer)
    assert legend["swatches"] == [
        [EMERGING_COLOURS["new hot spot"], "new hot spot"],
        [EMERGING_COLOURS["persistent hot spot"], "persistent hot spot"],
    ]
    assert legend["notes"][0] == note
    assert "2 of 3 places have a pattern (arcgis categories)" in legend["notes"]
    assert "9 steps of a month, 2025-01 to 2025-09" in legend["notes"]
    assert layer.spec["tooltip"]["aliases"] == ["Category", "Place", "Trend tau", "Trend p"]
    props = props_of(layer)
    assert [p["category"] for p in props] == ["persistent hot spot", "new hot spot"]
    assert props[0]["trend_tau"] == "0.12" and props[0]["trend_p"] == "0.5"
    assert props[1]["trend_p"] == "&lt; 0.0001" and props[1]["label"] == XSS_ESCAPED
    assert props[0]["total"] == "1,200"
    # classes follow the legend's order
    assert [layer.spec["styles"][c]["fillColor"] for c in layer.spec["classes"]] == [
        EMERGING_COLOURS["persistent hot spot"], EMERGING_COLOURS["new hot spot"]
    ]
    page = maps.render(fmap)
    assert XSS not in page


def test_emerging_layer_with_no_pattern_says_so(pack):
    places = emerging_places().assign(category="no pattern")
    layer = maps.add_emerging_layer(maps.base_map(pack, tiles=None), places, {})
    legend = legend_of(layer)
    assert legend["swatches"] == [] and legend["notes"][0] == "nothing to draw for these filters"
    assert "0 of 3 places have a pattern (arcgis categories)" in legend["notes"]


def test_change_layer_significant_only_by_default_and_all_on_request(pack):
    layer = maps.add_change_layer(maps.base_map(pack, tiles=None), change_table())
    props = props_of(layer)
    assert [p["code"] for p in props] == ["c1", "c3"]
    assert props[0] == {
        "change_class": "significant increase", "code": "c1", "before": "1", "after": "20",
        "p_adjusted": "0.001", "before_per_month": "0.3", "after_per_month": "6.7",
        "p_value": "0.0001", **{k: v for k, v in props[0].items() if k.startswith("_")},
    }
    assert layer.spec["tooltip"]["aliases"] == ["Change", "Place", "Before", "After",
                                                "Adjusted p"]
    legend = legend_of(layer)
    assert legend["swatches"] == [
        [CHANGE_COLOURS["significant increase"], "significant increase"],
        [CHANGE_COLOURS["significant decrease"], "significant decrease"],
    ]
    assert legend["notes"][0] == (
        "2025-04 to 2025-06 against 2025-07 to 2025-09; both periods are 3 months"
    )
    assert "significant places only: 2 of 3" in legend["notes"]
    every = maps.add_change_layer(
        maps.base_map(pack, tiles=None), change_table(), significant_only=False
    )
    assert [p["code"] for p in props_of(every)] == ["c1", "c2", "c3"]
    assert len(legend_of(every)["swatches"]) == 3
    assert not any("significant places only" in n for n in legend_of(every)["notes"])


def test_p_text():
    got = p_text(pd.Series([0.04567, 0.00001, None, 1.0])).tolist()
    assert got == ["0.046", "&lt; 0.0001", "–", "1"]
