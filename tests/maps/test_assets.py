"""Asset handling: vendored files, local links, CDN refusal, render, parts, standalone."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import folium
import folium.plugins
import pytest
from branca.element import JavascriptLink
from maps_testkit import (
    ROOT,
    VENDOR_SCRIPT,
    assert_served_locally,
    local_refs,
    small_areas,
    small_hotspots,
    small_incidents,
    small_surface,
    small_wards,
)

from geo_ssgp import maps
from geo_ssgp.errors import AssetError, GeoSsgpError

# ------------------------------------------------------------------------------------------
# Vendor assets
# ------------------------------------------------------------------------------------------


def test_vendor_files_cover_every_asset_the_maps_link(vendor, vendor_script):
    assert set(maps.VENDOR_ASSETS.values()) <= set(vendor_script.FILES)
    for rel in vendor_script.FILES:
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


def test_asset_error_is_the_project_error():
    assert maps.AssetError is AssetError
    assert issubclass(AssetError, GeoSsgpError) and issubclass(AssetError, RuntimeError)


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


def test_render_standalone_inlines_every_asset(pack, vendor):
    fmap = maps.base_map(pack)
    maps.add_area_layer(fmap, small_areas())
    maps.add_incident_layer(fmap, small_incidents(), show=True)
    maps.add_draw_control(fmap)
    page = maps.render_standalone(fmap)
    assert not re.search(r"<script[^>]*\ssrc=", page)
    assert not re.search(r"<link[^>]*\shref=", page)
    assert "/static/vendor" not in page and "sourceMappingURL" not in page
    assert '="/static/app' not in page
    assert "L.Icon.Default.mergeOptions" in page
    assert 'url("data:image/svg+xml;base64,' in page  # leaflet.draw sprite
    assert 'url("data:image/png;base64,' in page  # layers control icon
    assert "markerClusterGroup" in page and "L.Control.Draw" in page
    # The map itself keeps its local links for the app afterwards.
    assert_served_locally(maps.render(fmap), vendor)


def test_render_standalone_reports_a_missing_file(pack, tmp_path):
    fmap = maps.base_map(pack)
    with pytest.raises(maps.AssetError, match="map-runtime.js is missing"):
        maps.render_standalone(fmap, app_dir=tmp_path)
    with pytest.raises(maps.AssetError, match="make web-assets"):
        maps.render_standalone(fmap, vendor_dir=tmp_path)


def test_render_parts_split_the_page(pack, vendor):
    fmap = maps.base_map(pack, height="500px")
    maps.add_area_layer(fmap, small_areas())
    parts = maps.render_parts(fmap)
    assert "/static/vendor/leaflet/leaflet.js" in parts["header"]
    assert "/static/app/map-runtime.js" in parts["header"]
    assert "/static/app/map.css" in parts["header"]
    assert "html, body" not in parts["header"] and "<meta" not in parts["header"]
    assert "#map_" in parts["header"] and "height: 500.0px" in parts["header"]
    assert 'class="folium-map"' in parts["html"]
    assert "window.geoSsgp.register" in parts["script"]


def test_asset_base_moves_vendor_and_app_links_together(pack):
    fmap = maps.base_map(pack, asset_base="/geo/static/vendor/")
    page = maps.render(fmap)
    assert 'src="/geo/static/vendor/leaflet/leaflet.js"' in page
    assert 'src="/geo/static/app/map-runtime.js"' in page
    assert 'href="/geo/static/app/map.css"' in page
