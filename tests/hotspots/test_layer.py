"""The hotspot layer contract: cell scores, JSON-safe values, WGS84 GeoJSON, real parameters."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_ssgp.hotspots import DEFAULT_METHOD, run_method
from geo_ssgp.hotspots.count import COUNT_CELL_SIZE_RULE
from geo_ssgp.hotspots.gistar import gistar_grid_hotspots
from geo_ssgp.hotspots.grid import make_grid
from geo_ssgp.hotspots.layer import frame_to_geojson, json_safe


def test_cell_scores_on_the_layers_own_grid_are_its_surface(box, planted):
    layer = gistar_grid_hotspots(planted, box, permutations=0)
    grid = make_grid(box)
    assert layer.cell_scores(grid).to_numpy() == pytest.approx(layer.surface["z"].to_numpy())
    clusters = run_method("dbscan", planted, region=box, max_area_share=0.2)
    scores = clusters.cell_scores(grid)
    assert scores.notna().sum() >= 4
    assert scores.max() == pytest.approx(clusters.hotspots["score"].iloc[0])


def test_json_safe_turns_numpy_and_nan_into_json():
    value = {"a": np.int64(3), "b": np.float32(1.5), "c": float("nan"), "d": np.array([1, 2])}
    value["e"] = pd.Timestamp("2025-01-01")
    value["f"] = (np.bool_(True), None)
    out = json_safe(value)
    assert out == {
        "a": 3,
        "b": 1.5,
        "c": None,
        "d": [1, 2],
        "e": "2025-01-01T00:00:00",
        "f": [True, None],
    }
    json.dumps(out, allow_nan=False)


def test_frame_to_geojson_is_plain_wgs84_geojson(synth):
    x0, y0 = synth.X0, synth.Y0
    frame = gpd.GeoDataFrame(
        {
            "rank": np.array([1, 2, 3], dtype=np.int64),
            "score": [2.5, np.nan, np.inf],
            "hot": [True, False, True],
            "label": ["a", None, "c"],
            "month": pd.to_datetime(["2025-01-01", None, "2025-03-01"]),
            "codes": [np.array(["E1", "E2"]), [], ("E3",)],
            7: [np.float32(0.5), pd.NA, None],
        },
        geometry=[
            shapely.box(x0, y0, x0 + 100, y0 + 100),
            shapely.Point(x0, y0),
            shapely.Polygon(),
        ],
        index=["h7", "h3", "h1"],
        crs="EPSG:27700",
    )
    doc = frame_to_geojson(frame)
    assert set(doc) == {"type", "features"} and doc["type"] == "FeatureCollection"
    assert [set(f) for f in doc["features"]] == [{"type", "properties", "geometry"}] * 3
    assert [f["properties"] for f in doc["features"]] == [
        {
            "rank": 1,
            "score": 2.5,
            "hot": True,
            "label": "a",
            "month": "2025-01-01T00:00:00",
            "codes": ["E1", "E2"],
            "7": 0.5,
        },
        {
            "rank": 2,
            "score": None,
            "hot": False,
            "label": None,
            "month": None,
            "codes": [],
            "7": None,
        },
        {
            "rank": 3,
            "score": None,
            "hot": True,
            "label": "c",
            "month": "2025-03-01T00:00:00",
            "codes": ["E3"],
            "7": None,
        },
    ]
    # geometry exactly as geopandas writes GeoJSON (lists, lon/lat); empty -> null
    wgs = json.loads(frame.geometry.to_crs("EPSG:4326").to_json())["features"]
    assert [f["geometry"] for f in doc["features"]] == [g["geometry"] for g in wgs]
    assert doc["features"][2]["geometry"] is None
    lon, lat = doc["features"][1]["geometry"]["coordinates"]
    assert lon == pytest.approx(-3.448, abs=1e-3) and lat == pytest.approx(51.690, abs=1e-3)
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert frame_to_geojson(frame.iloc[:0]) == {"type": "FeatureCollection", "features": []}
    assert frame.crs == "EPSG:27700" and len(frame.columns) == 8  # input left as it was


def test_real_layer_parameters_and_geojson(sample_ok, pack):
    layer = run_method("default", sample_ok, pack)
    p = layer.parameters
    assert layer.method == DEFAULT_METHOD == p["method"]
    assert p["cell_size_m"] == 50.0 and p["cell_size_rule"] == COUNT_CELL_SIZE_RULE
    assert p["period"] == {"from": "2025-01", "to": "2025-09"}
    assert p["filters"] == {"crime_types": None, "sources": None, "restricted": None}
    assert p["n_incidents"] == len(sample_ok) > 14000
    assert p["region"] == "Gloucester (E07000081)" and p["pack"] == pack.name
    assert p["coverage"] == 0.05
    hot = layer.hotspots
    assert hot["label"].str.len().gt(0).all()  # labelled by the label module
    assert hot["n_incidents"].sum() <= len(sample_ok)
    assert hot["area_m2"].sum() <= 0.05 * layer.surface["area_m2"].sum() + 1e-6
    doc = layer.to_geojson()
    text = json.dumps(doc, allow_nan=False)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(hot)
    assert doc["parameters"]["period"]["from"] == "2025-01" and doc["method"] == DEFAULT_METHOD
    coords = np.array(
        [
            c
            for f in doc["features"]
            for c in shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
        ]
    )
    assert coords[:, 0].min() > -2.4 and coords[:, 0].max() < -2.1  # longitude
    assert coords[:, 1].min() > 51.8 and coords[:, 1].max() < 51.92  # latitude
    assert doc["features"][0]["properties"]["rank"] == 1
    assert json.loads(text)["parameters"]["n_incidents"] == p["n_incidents"]
