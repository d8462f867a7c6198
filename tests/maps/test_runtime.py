"""The page runtime: real .js/.css files, linked when served, inlined when standalone,
and working in headless Chromium (offline, escaped text, hooks)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import shapely
from maps_testkit import (
    XSS,
    app_refs,
    small_areas,
    small_hotspots,
    small_incidents,
    small_surface,
    small_wards,
)

import geo_ssgp.maps as maps_package
from geo_ssgp import maps
from geo_ssgp.config import default_settings
from geo_ssgp.maps import (
    assets,
    codec,
    elements,
    format,
    layers,
    pages,
    snap_points,
    state,
    streets,
)

RUNTIME = maps.APP_DIR / "map-runtime.js"
STREETS_JS = maps.APP_DIR / "streets.js"
STYLES = maps.APP_DIR / "map.css"
#: Definitions that live only in the runtime file, never in Python or a served page.
RUNTIME_DEFINITIONS = (
    "g.ints = function",
    "g.decode = function",
    "g.lineCoords = function",
    "g.vector = function",
    "g.legendHtml = function",
    "g.addLegend = function",
    "g.snapPoints = function",
    "g.hookDraw = function",
)
#: Definitions that live only in the street layer's file.
STREETS_DEFINITIONS = ("g.streets = function", "var labeller = function")
#: Script and style text that only the runtime files may hold.
RUNTIME_ONLY = (
    *RUNTIME_DEFINITIONS,
    *STREETS_DEFINITIONS,
    "iconCreateFunction",
    "postMessage",
    ".geo-ssgp-legend {",
)
MODULES = (maps_package, assets, codec, elements, format, layers, pages, snap_points, state)
MODULES += (streets,)


def _full_map(pack):
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
    return fmap


def test_runtime_files_are_in_the_static_app_folder():
    assert maps.APP_DIR == default_settings().static_dir / "app"
    assert set(maps.APP_ASSETS.values()) == {RUNTIME.name, STREETS_JS.name, STYLES.name}
    js, css = RUNTIME.read_text(), STYLES.read_text()
    for definition in RUNTIME_DEFINITIONS:
        assert definition in js, definition
    for definition in STREETS_DEFINITIONS:
        assert definition in STREETS_JS.read_text() and definition not in js, definition
    assert ".geo-ssgp-legend" in css and ".geo-ssgp-label" in css
    for text in (js, STREETS_JS.read_text()):
        assert "{{" not in text and "{%" not in text  # a file, not a template


def test_served_page_links_the_runtime_and_keeps_only_calls(pack, vendor):
    page = maps.render(_full_map(pack))
    assert sorted(app_refs(page)) == ["map-runtime.js", "map.css", "streets.js"]
    assert '<script src="/static/app/map-runtime.js"></script>' in page
    assert '<link rel="stylesheet" href="/static/app/map.css"/>' in page
    # The runtime loads after Leaflet and before the map's own script.
    assert page.index("leaflet/leaflet.js") < page.index("map-runtime.js")
    streets_js = page.index("/static/app/streets.js")
    assert page.index("map-runtime.js") < streets_js < page.index("window.geoSsgp.init(")
    for text in RUNTIME_ONLY:
        assert text not in page, text
    for call in ("init", "decode", "vector", "register", "addLegend", "snapPoints", "hookDraw"):
        assert f"window.geoSsgp.{call}(" in page, call


def test_standalone_page_inlines_the_runtime(pack, vendor):
    page = maps.render_standalone(_full_map(pack))
    assert '="/static/app/' not in page
    for definition in (*RUNTIME_DEFINITIONS, *STREETS_DEFINITIONS):
        assert page.count(definition) == 1, definition
    assert ".geo-ssgp-legend {" in page
    assert page.index("g.decode = function") < page.index("window.geoSsgp.init(")


def test_no_script_logic_in_python():
    for module in MODULES:
        source = inspect.getsource(module)
        for text in ("function (", "function(", "=>", "L.geoJson", "L.control(", *RUNTIME_ONLY):
            assert text not in source, f"{text!r} in {module.__name__}"


def test_element_snippets_are_single_runtime_calls(pack):
    fmap = _full_map(pack)
    maps.render(fmap)
    snippets = {}
    for element in _walk(fmap):
        if type(element).__module__ == elements.__name__:
            snippet = element._template.module.script(element, {}).strip()
            snippets.setdefault(type(element).__name__, snippet)
    assert set(snippets) == {
        "Setup",
        "Attribution",
        "Register",
        "Legend",
        "SharedData",
        "VectorLayer",
        "SnapPointCluster",
        "StreetLayer",
        "DrawHook",
    }
    call = r"(?:var \w+ = |window\.geoSsgp\.data\[\"\"\] = )?window\.geoSsgp\.\w+\(.*\)"
    for name, snippet in snippets.items():
        code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', snippet)  # strings from data
        assert "function" not in code and "=>" not in code, name
        for statement in filter(str.strip, code.split(";")):
            assert re.fullmatch(call, statement.strip(), re.S), (name, statement)


def _walk(element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


# ------------------------------------------------------------------------------------------
# In the browser: offline, escaped, hooks
# ------------------------------------------------------------------------------------------


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
    fmap = _full_map(pack)
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
        "streets": 4,  # one polyline per road class group drawn
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
    assert "© OpenStreetMap contributors" in attribution
    # Street names appear along the lines at street zoom only, and never take a click.
    names = page.evaluate(
        """() => {
          const g = geoSsgp, at = (z) => { g.map.setView([51.8654, -2.2480], z, {animate: false});
            return [...document.querySelectorAll('.geo-ssgp-street-name span')]; };
          const far = at(14).length, near = at(17);
          return {far, names: near.map(e => e.innerText), rotated: near.filter(
            e => /rotate\\((-?[1-9]\\d*)deg\\)/.test(e.style.transform)).length,
            click: getComputedStyle(near[0]).pointerEvents};
        }"""
    )
    assert names["far"] == 0
    assert {"Westgate Street", "Northgate Street"} <= set(names["names"])
    assert names["rotated"] > 0 and names["click"] == "none"
    assert errors == [] and requests == []
    page.close()


@pytest.mark.browser
def test_runtime_builds_snap_point_popups_and_legends(pack, vendor, browser_page, tmp_path):
    fmap = maps.base_map(pack)
    maps.add_incident_layer(fmap, small_incidents(), show=True)
    maps.add_hotspot_layer(fmap, small_hotspots(), show=True)
    path = tmp_path / "runtime.html"
    path.write_text(maps.render_standalone(fmap), encoding="utf-8")
    page, errors, requests = _open_offline(browser_page, path, ready="incidents")
    result = page.evaluate(
        """() => {
          const g = geoSsgp, markers = [];
          g.layers.incidents.eachLayer(m => markers.push(m));
          const big = markers.find(m => m.options.n === 3);
          g.layers.incidents.zoomToShowLayer(big, () => {});
          return {popup: big.getPopup()._content(big),
                  legends: [...document.querySelectorAll('.geo-ssgp-legend h4')]
                    .map(e => e.innerText),
                  background: getComputedStyle(document.querySelector('.geo-ssgp-legend'))
                    .backgroundColor};
        }"""
    )
    assert "Widden Street" in result["popup"]
    assert "3 incidents, Jan 2025 – Mar 2025" in result["popup"]
    assert "Burglary: 2" in result["popup"] and "Shoplifting: 1" in result["popup"]
    assert sorted(result["legends"]) == ["Hotspots: gistar", "Incidents"]
    assert result["background"] == "rgba(255, 255, 255, 0.92)"  # map.css applied
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


@pytest.mark.browser
def test_line_features_decode_beside_the_street_layer(pack, vendor, browser_page, tmp_path):
    """Street-segment hotspots (line geometry) draw on a map that also has the street layer.

    Both decode delta-coded lines with ``geoSsgp.lineCoords`` (the street layer's copy of the
    decoder once replaced the runtime's, so line features failed to decode).
    """
    layer = small_hotspots()
    x0, y0 = layer.hotspots.total_bounds[:2]
    layer.hotspots["geometry"] = [
        shapely.LineString([(x0, y0), (x0 + 300, y0)]),
        shapely.MultiLineString(
            [[(x0, y0 + 50), (x0, y0 + 250)], [(x0 + 9, y0), (x0 + 9, y0 + 40)]]
        ),
    ]
    fmap = maps.base_map(pack)
    maps.add_hotspot_layer(fmap, layer, show=True, layer_id="hotspots:streets")
    path = tmp_path / "segments.html"
    path.write_text(maps.render_standalone(fmap), encoding="utf-8")
    page, errors, requests = _open_offline(browser_page, path, ready="hotspots:streets")
    parts = page.evaluate(
        """() => geoSsgp.layers['hotspots:streets'].getLayers().map(l => {
             const ll = l.getLatLngs(); return Array.isArray(ll[0]) ? ll.length : 1; })"""
    )
    assert parts == [1, 2]
    assert page.evaluate("geoSsgp.layers.streets.getLayers().length") == 4
    assert errors == [] and requests == []
    page.close()
