"""Small known layers and helpers that read rendered map pages, shared by tests/maps.

Importable from the test modules because ``tests/maps/conftest.py`` puts this folder on
``sys.path`` (pytest runs with ``--import-mode=importlib``, which does not).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiLineString, MultiPolygon, Point, box

from geo_ssgp import maps
from geo_ssgp.config import CRS_BNG
from geo_ssgp.maps.elements import SharedData

ROOT = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
VENDOR_SCRIPT = ROOT / "web" / "vendor_assets.py"
# Gloucester city centre in BNG.
X0, Y0 = 383_000.0, 218_000.0


# ------------------------------------------------------------------------------------------
# Small layers with known values
# ------------------------------------------------------------------------------------------


@dataclass
class FakeHotspotLayer:
    """Same shape as geo_ssgp.hotspots.layer.HotspotLayer (duck typing)."""

    method: str
    hotspots: gpd.GeoDataFrame
    parameters: dict = field(default_factory=dict)
    surface: gpd.GeoDataFrame | None = None


def small_areas(name_of_first: str = "Area A") -> gpd.GeoDataFrame:
    """Four 500 m square LSOAs with known values (one without population)."""
    squares = [box(X0 + i * 500, Y0, X0 + (i + 1) * 500, Y0 + 500) for i in range(4)]
    frame = gpd.GeoDataFrame(
        {
            "code": ["E01000001", "E01000002", "E01000003", "E01000004"],
            "name": [name_of_first, "Area B", "Area C", "Area D"],
            "ward_cd": ["E05000001"] * 2 + ["E05000002"] * 2,
            "ward_nm": ["Ward One", "Ward One", "Ward Two", XSS],
            "count": [10, 20, 30, 40],
            "population": [1000.0, 1000.0, 1000.0, np.nan],
            "rate_per_1000": [10.0, 20.0, 30.0, np.nan],
            "imd_rank": pd.array([100, 2000, 15000, 30000], dtype="Int64"),
            "imd_decile": pd.array([1, 1, 5, pd.NA], dtype="Int64"),
            "share_of_district": [0.1, 0.2, 0.3, 0.4],
            "area_m2": [250_000.0] * 4,
        },
        geometry=squares,
        crs=CRS_BNG,
    )
    return frame


def small_wards() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["E05000001", "E05000002"], "name": ["Ward One", XSS]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 500), box(X0 + 1000, Y0, X0 + 2000, Y0 + 500)],
        crs=CRS_BNG,
    )


def small_hotspots(label: str = XSS) -> FakeHotspotLayer:
    hotspots = gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "score": [12.5, 3.25],
            "n_incidents": [40, 7],
            "area_m2": [20_000.0, 10_000.0],
            "snap_points": [5, 1],
            "top_snap_share": [0.4, 1.0],
            "single_snap_point": [False, True],
            "label": [label, "Ward Two: Eastgate Street"],
            "cluster_id": [7, 8],
            "z": [4.2, 2.1],
            "p_adj": [0.0004, 0.03],
            "count": [40, 7],
        },
        geometry=[box(X0, Y0, X0 + 200, Y0 + 100), box(X0 + 600, Y0, X0 + 700, Y0 + 100)],
        crs=CRS_BNG,
    )
    params = {
        "method": "gistar",
        "cell_size_m": 100,
        "bandwidth_m": None,
        "neighbours": "queen contiguity",
        "p_adjust": "fdr",
        "period": {"from": "2025-01", "to": "2025-09"},
        "filters": {"crime_types": ["Burglary"], "sources": None},
        "seed": 0,
        "note": XSS,
    }
    return FakeHotspotLayer("gistar", hotspots, params)


def small_incidents() -> gpd.GeoDataFrame:
    """Three incidents at one snap point, one at another, one with an XSS location."""
    pts = [Point(X0 + 100, Y0 + 100)] * 3 + [Point(X0 + 900, Y0 + 400), Point(X0 + 1500, Y0 + 50)]
    return gpd.GeoDataFrame(
        {
            "crime_type": ["Burglary", "Burglary", "Shoplifting", "Drugs", "Robbery"],
            "location_text": ["On or near Widden Street"] * 2
            + ["On or near Other Street", "On or near Park Road", "On or near " + XSS],
            "month": pd.to_datetime(
                ["2025-01-01", "2025-03-01", "2025-02-01", "2025-05-01", "2025-05-01"]
            ),
            "snap_point": [True, True, True, True, False],
        },
        geometry=pts,
        crs=CRS_BNG,
    )


def small_surface() -> gpd.GeoDataFrame:
    """A 4 x 2 grid of 100 m cells: two zero cells and values 1..6."""
    cells = [
        box(X0 + c * 100, Y0 + r * 100, X0 + (c + 1) * 100, Y0 + (r + 1) * 100)
        for r in range(2)
        for c in range(4)
    ]
    return gpd.GeoDataFrame(
        {"density": [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}, geometry=cells, crs=CRS_BNG
    )


# ------------------------------------------------------------------------------------------
# Reading rendered pages
# ------------------------------------------------------------------------------------------


def local_refs(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="/static/vendor/([^"]+)"', page)


def app_refs(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="/static/app/([^"]+)"', page)


def assert_served_locally(page: str, vendor: Path) -> None:
    assert maps.external_assets(page) == []
    refs = local_refs(page)
    assert "leaflet/leaflet.js" in refs and "leaflet/leaflet.css" in refs
    for ref in refs:
        assert (vendor / ref).is_file(), ref
        if ref.endswith(".css"):
            css = (vendor / ref).read_text()
            for url in re.findall(r"url\(['\"]?([^'\")]+)", css):
                if not url.startswith(("#", "data:")):
                    assert ((vendor / ref).parent / url).is_file(), url
    for ref in app_refs(page):
        assert (maps.APP_DIR / ref).is_file(), ref


def decode_page_json(text: str):
    """A JSON literal as it appears in the page script."""
    return json.loads(text)


def legends(page: str) -> list[dict]:
    """Legend contents passed to ``geoSsgp.addLegend(map, layer, content)`` in the page."""
    return [json.loads(m) for m in re.findall(r"addLegend\([\w.]+, [\w.]+, (\{.*?\})\);\n", page)]


def layer_control_names(page: str) -> list[str]:
    block = re.search(r"overlays\s*:\s*\{(.*?)\},", page, re.S).group(1)
    return [json.loads(m) for m in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', block)]


def decode(data: dict) -> list[dict]:
    """Python mirror of the page's geoSsgp.decode (compact data -> GeoJSON features)."""
    scale = 10**maps.DECIMALS
    out = []
    for geom, idx in data["f"]:
        props = {k: data["v"][i] for k, i in zip(data["k"], idx, strict=True)}
        if geom[0] == "p":
            shape = Point(geom[1] / scale, geom[2] / scale)
        elif geom[0] == "L":
            ints, parts = np.array(maps.decode_ints(geom[1])).reshape(-1, 2), []
            for start, n in zip(np.cumsum([0, *geom[2][:-1]]), geom[2], strict=True):
                parts.append(np.cumsum(ints[start : start + n], axis=0) / scale)
            shape = MultiLineString(parts)
        else:
            ints, lens, parts = maps.decode_ints(geom[1]), geom[2], geom[3]
            k, r, polys = 0, 0, []
            for n_rings in parts:
                rings = []
                for _ in range(n_rings):
                    xy = np.cumsum(np.array(ints[k : k + 2 * lens[r]]).reshape(-1, 2), axis=0)
                    rings.append(xy / scale)
                    k += 2 * lens[r]
                    r += 1
                polys.append((rings[0], rings[1:]))
            shape = MultiPolygon(polys)
        out.append({"geometry": shape, "properties": props})
    return out


def data_of(layer) -> dict:
    """Compact data of a vector layer (inline or shared)."""
    text = layer.data_js
    if text.startswith("window.geoSsgp.decode("):
        return decode_page_json(text[len("window.geoSsgp.decode(") : -1])
    key = json.loads(re.search(r"data\[(.*)\]", text).group(1))
    element = next(
        e for e in layer._parent._children.values() if isinstance(e, SharedData) and e.key == key
    )
    return decode_page_json(element.data_js)
