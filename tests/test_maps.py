"""Map builders: self-hosted assets, escaping, attribution, legends, compact data, hooks."""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from branca.element import JavascriptLink
from shapely.geometry import MultiPolygon, Point, box

from geo_ssgp import maps
from geo_ssgp.config import ATTRIBUTION, CRS_BNG, CRS_WGS84

ROOT = Path(__file__).resolve().parents[1]
XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
VENDOR_SCRIPT = ROOT / "web" / "vendor_assets.py"
# Gloucester city centre in BNG.
X0, Y0 = 383_000.0, 218_000.0


# ------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------


def _load_vendor_script():
    spec = importlib.util.spec_from_file_location("vendor_assets", VENDOR_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def vendor():
    """The vendor folder, built with web/vendor_assets.py when it is missing or stale."""
    script = _load_vendor_script()
    if not script.is_current():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed: cannot build web/static/vendor (make web-assets)")
        subprocess.run([sys.executable, str(VENDOR_SCRIPT)], check=True)
    assert script.is_current()
    return maps.VENDOR_DIR


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


@pytest.fixture(scope="session")
def real(pack):
    """Real Gloucester layers, geocoded incidents, area statistics and three hotspot layers."""
    from geo_ssgp.areas import area_stats
    from geo_ssgp.geocode import geocode
    from geo_ssgp.hotspots import run_method
    from geo_ssgp.incidents import read_incidents
    from geo_ssgp.pack import load_layer

    incidents = geocode(read_incidents(pack.sample_files(), pack=pack).incidents, pack)
    ok = incidents[incidents["status"] == "ok"]
    layers = {m: run_method(m, incidents, pack) for m in ("grid-count", "kde", "hdbscan")}
    return {
        "incidents": ok,
        "areas": area_stats(incidents, pack, "lsoa21"),
        "wards": load_layer(pack, "ward"),
        "lsoa21": load_layer(pack, "lsoa21"),
        "layers": layers,
    }


@pytest.fixture(scope="session")
def analyst(pack, real, vendor):
    fmap = maps.build_analyst_map(
        pack,
        real["areas"],
        real["wards"],
        real["layers"],
        "grid-count",
        incidents=real["incidents"],
        surface=real["layers"]["kde"].surface,
    )
    return fmap, maps.render(fmap)


# ------------------------------------------------------------------------------------------
# Helpers reading rendered pages
# ------------------------------------------------------------------------------------------


def local_refs(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="/static/vendor/([^"]+)"', page)


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


def decode_page_json(text: str):
    """A JSON literal as it appears in the page script."""
    return json.loads(text)


def legends(page: str) -> list[dict]:
    return [json.loads(m) for m in re.findall(r"legendHtml\((\{.*?\})\);\n", page)]


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
        e for e in layer._parent._children.values() if isinstance(e, maps._Data) and e.key == key
    )
    return decode_page_json(element.data_js)


# ------------------------------------------------------------------------------------------
# Vendor assets
# ------------------------------------------------------------------------------------------


def test_vendor_files_cover_every_asset_the_maps_link(vendor):
    script = _load_vendor_script()
    assert set(maps.VENDOR_ASSETS.values()) <= set(script.FILES)
    for rel in script.FILES:
        assert (vendor / rel).is_file(), rel
    package = json.loads((ROOT / "web" / "package.json").read_text())
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned exactly"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert "1.9.4" in (vendor / "leaflet" / "leaflet.js").read_text()[:200]


def test_vendor_script_is_idempotent(vendor):
    result = subprocess.run(
        [sys.executable, str(VENDOR_SCRIPT)], capture_output=True, text=True, check=True
    )
    assert "already current" in result.stdout
    check = subprocess.run([sys.executable, str(VENDOR_SCRIPT), "--check"], capture_output=True)
    assert check.returncode == 0


def test_use_local_assets_repoints_map_and_plugins(vendor):
    fmap = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(fmap)
    folium.plugins.Draw().add_to(fmap)
    folium.Marker([51.86, -2.24]).add_to(fmap)  # default Leaflet icon: shipped images
    page = maps.render(maps.use_local_assets(fmap, "/static/vendor/"))
    assert_served_locally(page, vendor)
    assert set(local_refs(page)) == set(maps.VENDOR_ASSETS.values())
    assert "bootstrap" not in page and "awesome-markers" not in page
    # The class-level link lists Folium shares between maps are untouched.
    assert folium.Map.default_js[0][1].startswith("https://")
    assert folium.plugins.Draw.default_css[0][1].startswith("https://")
    assert maps.external_assets(folium.Map(tiles=None).get_root().render())


def test_unshipped_assets_are_refused():
    fmap = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(fmap)
    with pytest.raises(maps.AssetError, match="Fullscreen needs the front-end asset"):
        maps.use_local_assets(fmap)
    fmap = folium.Map(tiles=None)
    folium.Marker([51.86, -2.24], icon=folium.Icon(color="red")).add_to(fmap)
    with pytest.raises(maps.AssetError, match="Awesome Markers"):
        maps.render(fmap)


def test_render_refuses_a_cdn_link_left_in_the_page():
    fmap = folium.Map(tiles=None)
    fmap.get_root().header.add_child(
        JavascriptLink("https://cdn.example.org/x.js"), name="extra_js"
    )
    with pytest.raises(maps.AssetError, match="cdn.example.org"):
        maps.render(fmap)


def test_external_assets_finds_only_script_and_link_tags():
    page = (
        '<script src="https://a/x.js"></script><link rel="stylesheet" href="//b/y.css"/>'
        '<script src="/static/vendor/leaflet/leaflet.js"></script>'
        '<script>L.tileLayer("https://{s}.tile.org/{z}/{x}/{y}.png")</script>'
    )
    assert maps.external_assets(page) == [
        '<script src="https://a/x.js">',
        '<link rel="stylesheet" href="//b/y.css"/>',
    ]


# ------------------------------------------------------------------------------------------
# Builders render with local assets only
# ------------------------------------------------------------------------------------------


def _each_builder(pack):
    areas, wards = small_areas(), small_wards()
    yield "base", maps.base_map(pack)
    fmap = maps.base_map(pack)
    maps.add_area_layer(fmap, areas)
    yield "area", fmap
    fmap = maps.base_map(pack)
    maps.add_ward_layer(fmap, wards)
    yield "ward", fmap
    fmap = maps.base_map(pack)
    maps.add_hotspot_layer(fmap, small_hotspots())
    yield "hotspot", fmap
    fmap = maps.base_map(pack)
    maps.add_surface_layer(fmap, small_surface(), "density")
    yield "surface", fmap
    fmap = maps.base_map(pack)
    maps.add_incident_layer(fmap, small_incidents())
    yield "incidents", fmap
    fmap = maps.base_map(pack)
    maps.add_draw_control(fmap)
    yield "draw", fmap
    yield (
        "analyst",
        maps.build_analyst_map(
            pack,
            areas,
            wards,
            {"gistar": small_hotspots()},
            "gistar",
            incidents=small_incidents(),
            surface=small_surface(),
        ),
    )
    yield "area_map", maps.build_area_map(pack, areas.iloc[:2], small_incidents(), small_hotspots())


def test_every_builder_serves_assets_itself(pack, vendor):
    names = []
    for name, fmap in _each_builder(pack):
        page = maps.render(fmap)
        assert_served_locally(page, vendor)
        assert "window.geoSsgp" in page
        names.append(name)
    assert len(names) == 9


def test_tiles_are_optional_and_need_attribution(pack, vendor):
    assert "L.tileLayer" not in maps.render(maps.base_map(pack))
    page = maps.render(maps.base_map(pack, tiles="OpenStreetMap"))
    assert "tile.openstreetmap.org" in page and maps.external_assets(page) == []
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    with pytest.raises(ValueError, match="needs an attribution"):
        maps.base_map(pack, tiles=url)
    page = maps.render(maps.base_map(pack, tiles=url + "|© Example tiles"))
    assert "tiles.example.org" in page and "\\u00a9 Example tiles" in page


def test_render_standalone_inlines_every_asset(pack, vendor):
    fmap = maps.base_map(pack)
    maps.add_area_layer(fmap, small_areas())
    maps.add_incident_layer(fmap, small_incidents(), show=True)
    maps.add_draw_control(fmap)
    page = maps.render_standalone(fmap)
    assert not re.search(r"<script[^>]*\ssrc=", page)
    assert not re.search(r"<link[^>]*\shref=", page)
    assert "/static/vendor" not in page and "sourceMappingURL" not in page
    assert "L.Icon.Default.mergeOptions" in page
    assert 'url("data:image/svg+xml;base64,' in page  # leaflet.draw sprite
    assert 'url("data:image/png;base64,' in page  # layers control icon
    assert "markerClusterGroup" in page and "L.Control.Draw" in page
    # The map itself keeps its local links for the app afterwards.
    assert_served_locally(maps.render(fmap), vendor)


def test_render_parts_split_the_page(pack, vendor):
    fmap = maps.base_map(pack, height="500px")
    maps.add_area_layer(fmap, small_areas())
    parts = maps.render_parts(fmap)
    assert "/static/vendor/leaflet/leaflet.js" in parts["header"]
    assert "html, body" not in parts["header"] and "<meta" not in parts["header"]
    assert "#map_" in parts["header"] and "height: 500.0px" in parts["header"]
    assert 'class="folium-map"' in parts["html"]
    assert "window.geoSsgp.register" in parts["script"]


# ------------------------------------------------------------------------------------------
# Escaping, attribution, legends
# ------------------------------------------------------------------------------------------


def test_text_from_data_is_escaped(pack, vendor):
    fmap = maps.build_analyst_map(
        pack,
        small_areas(XSS),
        small_wards(),
        {XSS: small_hotspots()},
        XSS,
        incidents=small_incidents(),
    )
    page = maps.render(fmap)
    assert "<img" not in page
    assert "onerror=alert(1)" in page
    # Area and ward names, hotspot label, location text and layer name, all as text.
    assert page.count(XSS_ESCAPED) >= 5
    assert "Hotspots: " + XSS_ESCAPED in layer_control_names(page)
    standalone = maps.render_standalone(fmap)
    assert "<img src=x" not in standalone and XSS_ESCAPED in standalone


def test_template_syntax_in_data_is_not_evaluated(pack, vendor):
    areas = small_areas("{{ 7*7 }} {% if 1 %}yes{% endif %} {# c #}")
    fmap = maps.base_map(pack)
    maps.add_area_layer(fmap, areas)
    layer = maps.add_hotspot_layer(fmap, small_hotspots("{{ 6*7 }}"), name="{{ 5*5 }}")
    page = maps.render(fmap)
    assert "&#123;&#123; 7*7 &#125;&#125;" in page and "&#123;% if 1 %&#125;yes" in page
    assert "&#123;&#123; 6*7 &#125;&#125;" in page and "&#123;&#123; 5*5 &#125;&#125;" in page
    assert layer.layer_name == "&#123;&#123; 5*5 &#125;&#125;"
    assert "49 yes" not in page and "Hotspots: 25" not in page
    assert decode(data_of(layer))[0]["properties"]["label"] == "&#123;&#123; 6*7 &#125;&#125;"


def test_attribution_lines_follow_the_layers_drawn(pack):
    fmap = maps.base_map(pack)
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
    legend = next(c for c in layer._children.values() if isinstance(c, maps._Legend)).content
    shown = dict(legend["table"])
    assert shown == {
        "Method": "gistar",
        "Cell size (m)": "100",
        "Bandwidth (m)": "none",
        "Neighbours": "queen contiguity",
        "P adjust": "fdr",
        "Period": "from=2025-01, to=2025-09",
        "Filters": "crime_types=Burglary, sources=none",
    }
    assert dict(legend["more"]) == {"Seed": "0", "Note": XSS_ESCAPED}
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
    legend = next(c for c in layer._children.values() if isinstance(c, maps._Legend)).content
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
    assert sum(isinstance(c, maps._Data) for c in fmap._children.values()) == 1


def test_classify_uses_mapclassify_bins():
    cls, bounds = maps.classify([1, 2, 3, 4, 5, 6, np.nan], k=3, scheme="quantiles")
    assert cls.tolist() == [0, 0, 1, 1, 2, 2, -1]
    np.testing.assert_allclose(bounds, [(1, 8 / 3), (8 / 3, 13 / 3), (13 / 3, 6)])
    cls, bounds = maps.classify([1, 1, 1, 10, 10, 11], k=2, scheme="fisher_jenks")
    assert cls.tolist() == [0, 0, 0, 1, 1, 1]
    cls, bounds = maps.classify([5, 5, 5], k=5)
    assert cls.tolist() == [0, 0, 0] and bounds == [(5.0, 5.0)]
    with pytest.raises(ValueError, match="scheme must be one of"):
        maps.classify([1, 2], scheme="equal")


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


# ------------------------------------------------------------------------------------------
# Compact encodings
# ------------------------------------------------------------------------------------------


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
    data, keep = maps._compact(wgs, pd.DataFrame({"code": lsoa["code"]}))
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


# ------------------------------------------------------------------------------------------
# Whole maps on the real sample
# ------------------------------------------------------------------------------------------


def test_analyst_map_layers_and_size(analyst, real, vendor):
    fmap, page = analyst
    assert layer_control_names(page) == [
        "LSOA: incidents",
        "LSOA: incidents per 1,000 residents",
        "LSOA: IMD decile",
        "KDE surface",
        "Hotspots: grid-count",
        "Hotspots: kde",
        "Hotspots: hdbscan",
        "Incidents",
        "Wards",
    ]
    shown = {
        c.layer_name
        for c in fmap._children.values()
        if isinstance(c, folium.map.Layer) and c.control and c.show
    }
    assert shown == {"LSOA: incidents per 1,000 residents", "Hotspots: grid-count", "Wards"}
    assert_served_locally(page, vendor)
    assert len(page.encode()) <= 1_000_000
    # One marker per snap point carrying every incident.
    cluster = next(c for c in fmap._children.values() if isinstance(c, maps._SnapPointCluster))
    assert sum(cluster.data["n"]) == len(real["incidents"])
    assert len(cluster.data["n"]) == real["incidents"].geometry.apply(lambda p: p.wkb).nunique()
    for key in ("ons", "police", "imd"):
        assert html.escape(ATTRIBUTION[key]) in maps.attribution_lines(fmap)
    assert html.escape(ATTRIBUTION["lsoa11"]) not in maps.attribution_lines(fmap)
    hotspot_legends = [lg for lg in legends(page) if lg["title"].startswith("Hotspots")]
    assert len(hotspot_legends) == 3
    grid = dict(hotspot_legends[0]["table"])
    assert grid["Method"] == "grid-count" and grid["Cell size (m)"] == "100"
    assert grid["Period"] == "from=2025-01, to=2025-09"


def test_analyst_map_area_features_match_area_stats(analyst, real):
    fmap, _ = analyst
    rate = next(
        c
        for c in fmap._children.values()
        if getattr(c, "layer_name", "") == "LSOA: incidents per 1,000 residents"
    )
    feats = decode(data_of(rate))
    areas = real["areas"]
    assert [f["properties"]["code"] for f in feats] == list(areas["code"])
    counts = [int(f["properties"]["count"].replace(",", "")) for f in feats]
    assert counts == areas["count"].tolist()
    # Shapes survive simplification: areas within 0.5 %.
    got = gpd.GeoSeries([f["geometry"] for f in feats], crs=CRS_WGS84).to_crs(CRS_BNG).area
    np.testing.assert_allclose(got.to_numpy(), areas.area.to_numpy(), rtol=5e-3)


def test_default_method_must_be_a_layer(pack):
    with pytest.raises(ValueError, match="default_method 'kde' is not one of"):
        maps.build_analyst_map(
            pack, small_areas(), small_wards(), {"gistar": small_hotspots()}, "kde"
        )


def test_area_map_keeps_only_what_is_inside(pack, real, vendor):
    ward = real["wards"][real["wards"]["name"] == "Westgate"]
    layer = real["layers"]["grid-count"]
    fmap = maps.build_area_map(pack, ward, real["incidents"], layer)
    page = maps.render(fmap)
    assert_served_locally(page, vendor)
    assert layer_control_names(page) == ["Westgate", "Hotspots: grid-count", "Incidents"]
    cluster = next(c for c in fmap._children.values() if isinstance(c, maps._SnapPointCluster))
    inside = real["incidents"].intersects(ward.geometry.iloc[0])
    assert sum(cluster.data["n"]) == int(inside.sum()) > 0
    hot = next(
        c for c in fmap._children.values() if getattr(c, "layer_name", "") == "Hotspots: grid-count"
    )
    expected = int(layer.hotspots.intersects(ward.geometry.iloc[0]).sum())
    assert len(decode(data_of(hot))) == expected < len(layer.hotspots)


def test_naive_baseline_uses_cdn_and_one_marker_per_incident():
    incidents = small_incidents()
    fmap = maps.naive_map(incidents)
    page = fmap.get_root().render()
    assert maps.external_assets(page)
    assert page.count("L.marker(") == len(incidents)
    assert "<img" not in page


# ------------------------------------------------------------------------------------------
# In the browser: offline, escaped, hooks
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield browser
        browser.close()


def _open_offline(browser, path: Path, ready: str = "wards"):
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.route("http*://**", lambda route: (requests.append(route.request.url), route.abort()))
    page.goto(path.as_uri())
    page.wait_for_function(f"window.geoSsgp && window.geoSsgp.layers[{ready!r}]")
    return page, errors, requests


@pytest.mark.browser
def test_standalone_map_works_offline_and_shows_text(pack, vendor, browser_page, tmp_path):
    fmap = maps.build_analyst_map(
        pack,
        small_areas(XSS),
        small_wards(),
        {"gistar": small_hotspots()},
        "gistar",
        incidents=small_incidents(),
        surface=small_surface(),
    )
    maps.add_draw_control(fmap)
    path = tmp_path / "map.html"
    path.write_text(maps.render_standalone(fmap), encoding="utf-8")
    page, errors, requests = _open_offline(browser_page, path)
    counts = page.evaluate(
        "() => Object.fromEntries(Object.entries(geoSsgp.layers)"
        ".map(([k, l]) => [k, l.getLayers().length]))"
    )
    assert counts == {
        "district": 1,
        "areas:count": 4,
        "areas:rate_per_1000": 4,
        "areas:imd_decile": 4,
        "surface": 5,
        "hotspots:gistar": 2,
        "incidents": 3,
        "wards": 2,
        "draw": 0,
    }
    # Popups and tooltips show the markup as text; no element is created from it.
    text = page.evaluate(
        """() => {
          const g = geoSsgp;
          g.map.addLayer(g.layers.incidents);
          g.layers['hotspots:gistar'].getLayers()[0].openPopup();
          const hot = document.querySelector('.leaflet-popup-content').innerText;
          const area = g.layers['areas:rate_per_1000'].getLayers()[0];
          area.openTooltip();
          return {hot: hot, tip: area.getTooltip().getElement().innerText,
                  labels: [...document.querySelectorAll('.geo-ssgp-label')].map(e => e.innerText),
                  imgs: document.querySelectorAll('img').length};
        }"""
    )
    assert XSS in text["hot"] and "Rank" in text["hot"]
    assert XSS in text["tip"] and "10.0" in text["tip"]
    assert sorted(text["labels"]) == sorted(["Ward One", XSS])
    assert text["imgs"] == 0
    attribution = page.inner_text(".leaflet-control-attribution")
    assert "Office for National Statistics" in attribution and "data.police.uk" in attribution
    assert errors == [] and requests == []
    page.close()


@pytest.mark.browser
def test_page_hooks_report_clicks_selection_and_drawing(pack, vendor, browser_page, tmp_path):
    fmap = maps.base_map(pack)
    maps.add_area_layer(fmap, small_areas())
    maps.add_draw_control(fmap)
    path = tmp_path / "hooks.html"
    path.write_text(maps.render_standalone(fmap), encoding="utf-8")
    page, errors, _ = _open_offline(browser_page, path, ready="draw")
    page.evaluate(
        """() => {
          window.events = [];
          geoSsgp.onAreaClick = (code, props, id) => events.push(['click', code, props.name, id]);
          geoSsgp.onDraw = (geojson) => events.push(['draw', geojson]);
          const g = geoSsgp, layer = g.layers['areas:rate_per_1000'];
          g.map.fitBounds(layer.getBounds(), {animate: false});
        }"""
    )
    # Click the middle of the second square.
    point = page.evaluate(
        """() => { const g = geoSsgp, l = g.layers['areas:rate_per_1000'].getLayers()[1];
                   const p = g.map.latLngToContainerPoint(l.getBounds().getCenter());
                   const r = g.map.getContainer().getBoundingClientRect();
                   return [r.left + p.x, r.top + p.y]; }"""
    )
    page.mouse.click(*point)
    page.wait_for_function("window.events.length === 1")
    selected = page.evaluate(
        """() => { geoSsgp.map.closePopup(); geoSsgp.selectAreas(['E01000003']);
                   return geoSsgp.layers['areas:rate_per_1000'].getLayers()
                     .map(l => l.options.color); }"""
    )
    assert selected[2] == "#1d3fbb" and selected[0] == "#555"
    # Draw a triangle with the polygon tool, closing on the first vertex.
    page.click(".leaflet-draw-draw-polygon")
    assert page.evaluate("() => geoSsgp.drawHandler.enabled()")
    # Finish a triangle as Leaflet.draw does, by firing its "created" event on the map
    # (moving the mouse through Leaflet.draw's vertex handlers is timing-dependent).
    page.evaluate(
        """() => { geoSsgp.drawHandler.disable();
                   const b = geoSsgp.layers['areas:rate_per_1000'].getBounds();
                   const s = b.getSouth(), n = b.getNorth(), w = b.getWest(), e = b.getEast();
                   const poly = L.polygon([[s, w], [s, e], [n, (w + e) / 2]]);
                   geoSsgp.map.fire('draw:created', {layer: poly, layerType: 'polygon'}); }"""
    )
    page.wait_for_function("window.events.some(e => e[0] === 'draw')")
    events = page.evaluate("() => window.events")
    assert events[0] == ["click", "E01000002", "Area B", "areas:rate_per_1000"]
    draw = [e for e in events if e[0] == "draw"]
    assert len(draw) == 1
    geometry = draw[0][1]["geometry"]
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == 4
    assert errors == []
    page.close()


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
    legend = next(c for c in hot._children.values() if isinstance(c, maps._Legend)).content
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
