"""The pages in real headless Chromium (Playwright), with every non-local request blocked.

The app runs under uvicorn in a background thread on 127.0.0.1. Each test fails on any
JavaScript console error or page error and on any dialog (the XSS check). Screenshots go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import geopandas as gpd
import pytest

from geo_ssgp import focus
from geo_ssgp.api.app import page_filters
from geo_ssgp.api.auth import User
from geo_ssgp.config import CRS_BNG, CRS_WGS84, get_settings
from geo_ssgp.pack import load_layer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = ROOT / "test-artifacts" / "screenshots"
XSS = "<img src=x onerror=alert(1)>"
LOCAL_LOG = (
    "ref,date,type,lon,lat,location\n"
    f"B1,2025-08-03,ASB,-2.2437,51.8651,{XSS}\n"
)
LSOA = "E01022313"  # Gloucester 001A, Longlevens: no hotspot over its inner point
MAP_TIMEOUT = 60_000

if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
playwright_sync = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app with the sample, an uploaded XSS incident and an XSS-named focus area.

    Started as ``geo-ssgp serve`` starts it (warm) and used once it is ready.
    """
    import uvicorn

    from geo_ssgp.api import create_app

    settings = get_settings(store_dir=tmp_path_factory.mktemp("browser-store"))
    app = create_app(settings, load_sample=True, warm=True)
    svc = app.state.geo
    svc.ingest_upload("local_log.csv", LOCAL_LOG.encode())
    sel = focus.selection_from(svc.pack, lsoa_codes=[LSOA])
    svc.store.save_focus_area(XSS, f"notes {XSS}", sel.geometry, sel.lsoa_codes,
                              {"selection": {"kind": "lsoa", "label": XSS, "match": "codes"}})
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    assert app.state.ready.wait(600), "the first analyst page was not prepared"
    local = svc.filtered(svc.recent_filters(9))
    xss_lsoa = local.loc[local["location_text"] == XSS, "lsoa21cd"].iloc[0]
    yield {"url": f"http://127.0.0.1:{port}", "svc": svc, "xss_lsoa": xss_lsoa}
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watch:
    """Console errors, page errors, dialogs and blocked requests of one page."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []

    def check(self) -> None:
        assert self.dialogs == [], f"dialogs fired: {self.dialogs}"
        assert self.errors == [], f"JavaScript errors: {self.errors}"
        assert self.blocked == [], f"requests left 127.0.0.1: {self.blocked}"


def _open(browser, server, role="analyst", viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1400, "height": 900})
    context.add_cookies([{"name": "token", "value": f"dev-{role}", "url": server["url"]}])
    page = context.new_page()
    watch = Watch()

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
            r.continue_()
        else:
            watch.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and watch.errors.append(m.text))
    page.on("pageerror", lambda e: watch.errors.append(str(e)))

    def dialog(d):
        watch.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    return context, page, watch


def _shot(page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _map_frame(page, selector: str, url_part: str = ""):
    """The frame of a map iframe once Leaflet and the geoSsgp hook are ready.

    ``url_part`` must occur in the frame's URL: after a filter change, wait for the new map.
    """
    handle = page.wait_for_selector(selector, timeout=MAP_TIMEOUT)
    page.wait_for_function(
        """([sel, part]) => { const f = document.querySelector(sel);
             try { const w = f.contentWindow;
                   return !!(w && w.location.href.includes(part) && w.L && w.geoSsgp &&
                             w.geoSsgp.map && w.document.readyState === "complete"); }
             catch (e) { return false; } }""",
        arg=[selector, url_part],
        timeout=MAP_TIMEOUT,
    )
    return handle.content_frame()


def _assert_streets_drawn(frame) -> None:
    """The OpenStreetMap street lines are on the map, painted, and credited (ODbL)."""
    frame.wait_for_function("() => window.geoSsgp.layers.streets.geoSsgpLoaded",
                            timeout=MAP_TIMEOUT)
    painted = frame.evaluate(
        """() => { const g = window.geoSsgp;
             if (!g.map.hasLayer(g.layers.streets)) return -1;
             const c = document.querySelector(".leaflet-geoSsgpStreets-pane canvas");
             const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
             let n = 0; for (let i = 3; i < d.length; i += 4 * 31) { if (d[i] > 0) n++; }
             return n; }"""
    )
    assert painted > 200, painted
    credit = frame.locator(".leaflet-control-attribution").inner_text()
    assert "© OpenStreetMap contributors (ODbL 1.0" in credit


def _lsoa_point(svc, code: str) -> tuple[float, float]:
    lsoas = load_layer(svc.pack, "lsoa21").set_index("code")
    point = gpd.GeoSeries([lsoas.loc[code].geometry.representative_point()], crs=CRS_BNG)
    p = point.to_crs(CRS_WGS84).iloc[0]
    return p.y, p.x


def _click_lsoa(page, frame, svc, code: str) -> None:
    lat, lon = _lsoa_point(svc, code)
    frame.evaluate(
        "([lat, lon]) => { const m = window.geoSsgp.map; m.setView([lat, lon], 15, "
        "{animate: false}); }",
        [lat, lon],
    )
    page.wait_for_timeout(300)
    xy = frame.evaluate(
        "([lat, lon]) => { const p = window.geoSsgp.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    frame.locator(".folium-map").click(position={"x": xy[0], "y": xy[1]})


def _open_analyst(browser, server, query="", viewport=None):
    context, page, watch = _open(browser, server, viewport=viewport)
    page.goto(server["url"] + "/" + query, timeout=MAP_TIMEOUT)
    frame = _map_frame(page, "#map")
    return context, page, watch, frame


# --------------------------------------------------------------------------------------------


def test_analyst_map_works_offline(browser, server):
    context, page, watch, frame = _open_analyst(browser, server)
    try:
        assert frame.evaluate("typeof window.L.markerClusterGroup") == "function"
        layers = frame.evaluate(
            "() => Object.fromEntries(Object.entries(window.geoSsgp.layers).map(([k, l]) =>"
            " [k, [window.geoSsgp.map.hasLayer(l), l.getLayers ? l.getLayers().length : -1]]))"
        )
        assert layers["areas:rate_per_1000"] == [True, 82]  # LSOA polygons on the map
        assert layers["wards"] == [True, 18]
        assert layers["hotspots:grid-count"][0] is True
        assert layers["hotspots:kde"][0] is False
        # the polygons are painted: the canvas has coloured pixels
        painted = frame.evaluate(
            """() => { const c = document.querySelector("canvas.leaflet-zoom-animated");
                 const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                 let n = 0; for (let i = 3; i < d.length; i += 4 * 97) { if (d[i] > 0) n++; }
                 return n; }"""
        )
        assert painted > 100
        assert "Crown copyright" in frame.locator(".leaflet-control-attribution").inner_text()
        _assert_streets_drawn(frame)
        _shot(page, "analyst")
        watch.check()
    finally:
        context.close()


def test_street_layer_comes_from_one_cached_request(browser, server):
    """The analyst map names the street document; the page fetches it once, compressed."""
    context, page, watch = _open(browser, server)
    streets, docs = [], []
    page.on("response", lambda r: streets.append(r) if "/map/streets.json" in r.url else None)
    page.on("response", lambda r: docs.append(r) if "/map/analyst" in r.url else None)
    try:
        page.goto(server["url"] + "/")
        frame = _map_frame(page, "#map")
        _assert_streets_drawn(frame)
        assert len(streets) == 1, [r.url for r in streets]
        response = streets[0]
        assert response.status == 200 and response.frame == frame
        headers = response.all_headers()
        assert headers["content-encoding"] == "gzip" and headers["etag"].startswith('"')
        assert "max-age=86400" in headers["cache-control"]
        assert frame.evaluate("window.geoSsgp.layers.streets.getLayers().length") == 4
        (doc,) = docs
        text = doc.text()
        assert "window.geoSsgp.streets(\"/map/streets.json?v=" in text
        assert "labelZoom" not in text  # the lines are not inlined in the map document
        watch.check()
    finally:
        context.close()


def test_layer_toggle(browser, server):
    context, page, watch, frame = _open_analyst(browser, server)
    try:
        wards = frame.locator(".leaflet-control-layers label", has_text="Wards").locator("input")
        wards.click()
        assert frame.evaluate(
            "window.geoSsgp.map.hasLayer(window.geoSsgp.layers.wards)") is False
        kde = frame.locator(".leaflet-control-layers label", has_text="Hotspots: kde")
        kde.locator("input").click()
        assert frame.evaluate(
            "window.geoSsgp.map.hasLayer(window.geoSsgp.layers['hotspots:kde'])") is True
        watch.check()
    finally:
        context.close()


def _drawn(frame, layer_id: str) -> list:
    """Once a lazy layer has drawn: [on the map, features drawn, legend titles shown]."""
    frame.wait_for_function(f"() => window.geoSsgp.layers[{layer_id!r}].geoSsgpLoaded",
                            timeout=MAP_TIMEOUT)
    return frame.evaluate(
        """(id) => { const g = window.geoSsgp, l = g.layers[id]; let n = 0;
             l.eachLayer((v) => { n += v.getLayers().length; });
             const titles = [...document.querySelectorAll(".geo-ssgp-legend h4")]
               .map((h) => h.textContent);
             return [g.map.hasLayer(l), n, titles]; }""",
        layer_id,
    )


def _fold_legends(frame) -> None:
    """Fold every open legend with its close button, as a user would."""
    open_legends = frame.locator(".geo-ssgp-legend:not(.folded) .geo-ssgp-close")
    while open_legends.count():
        open_legends.first.click()


def test_layers_off_at_opening_are_fetched_and_drawn_when_switched_on(browser, server):
    """Gi*, the KDE surface and the busiest street segments are not in the map document:
    switching one on fetches its layer once, draws its features and shows its legend; off
    and on again fetches nothing."""
    context, page, watch, frame = _open_analyst(browser, server)
    fetched = []
    page.on("response", lambda r: fetched.append(r) if "/map/analyst/layer/" in r.url else None)
    try:
        svc = server["svc"]
        filters = page_filters(svc, "analyst")
        gistar = svc.hotspots_for("gistar", filters, User("analyst"))
        assert frame.evaluate("window.geoSsgp.layers['hotspots:gistar'].geoSsgpLoaded") is False
        control = frame.locator(".leaflet-control-layers label", has_text="Hotspots: gistar")
        control.locator("input").click()
        on, n, titles = _drawn(frame, "hotspots:gistar")
        assert on and n == len(gistar.hotspots) > 0
        assert "Hotspots: gistar" in titles
        assert [r.status for r in fetched] == [200]
        _fold_legends(frame)  # open legends cover the lower part of the layer control
        control.locator("input").click()  # off: its legend goes with it
        assert "Hotspots: gistar" not in _drawn(frame, "hotspots:gistar")[2]
        control.locator("input").click()
        assert _drawn(frame, "hotspots:gistar")[:2] == [True, n] and len(fetched) == 1
        frame.locator(".leaflet-control-layers label", has_text="KDE surface").locator(
            "input").click()
        on, cells, titles = _drawn(frame, "surface")
        assert on and cells > 0 and any(t.startswith("KDE surface") for t in titles)
        _fold_legends(frame)
        frame.locator(".leaflet-control-layers label", has_text="Streets: incidents per km")\
            .locator("input").click()
        on, lines, _ = _drawn(frame, "street-segments")
        assert on and lines == len(svc.street_layer(filters, User("analyst"))) > 0
        _shot(page, "analyst-lazy-layers")
        watch.check()
    finally:
        context.close()


def test_a_layer_that_cannot_be_loaded_says_so_and_retries(browser, server):
    """An on-demand layer whose request fails shows a note on the map naming the failure;
    switching the layer off removes the note and on again asks once more (and draws)."""
    context, page, watch, frame = _open_analyst(browser, server)
    asked = []

    def fail_first(route):
        asked.append(route.request.url)
        if len(asked) == 1:
            route.fulfill(status=500, body="boom")
        else:
            route.continue_()

    page.route("**/map/analyst/layer/**", fail_first)
    try:
        control = frame.locator(".leaflet-control-layers label", has_text="Hotspots: lisa")
        control.locator("input").click()
        note = frame.locator(".geo-ssgp-layer-note")
        note.wait_for(timeout=MAP_TIMEOUT)
        text = note.inner_text()
        assert "This layer could not be loaded (HTTP 500)" in text
        assert "Switch it off and on again to retry" in text
        assert frame.evaluate("window.geoSsgp.layers['hotspots:lisa'].geoSsgpLoaded") is False
        control.locator("input").click()  # off: the note goes
        assert frame.locator(".geo-ssgp-layer-note").count() == 0
        control.locator("input").click()  # on: asked again, drawn
        on, n, _ = _drawn(frame, "hotspots:lisa")
        assert on and n > 0 and len(asked) == 2
        assert frame.locator(".geo-ssgp-layer-note").count() == 0
        # the refused request is the only console error; nothing else failed or left
        assert all("500" in e for e in watch.errors), watch.errors
        assert watch.dialogs == [] and watch.blocked == []
    finally:
        context.close()


def test_click_lsoa_summarise_save_and_reload(browser, server):
    context, page, watch, frame = _open_analyst(browser, server)
    try:
        _click_lsoa(page, frame, server["svc"], LSOA)
        page.wait_for_function(
            "() => document.getElementById('sum-incidents').textContent.length > 0", timeout=30_000
        )
        assert "Gloucester 001A" in page.locator("#selection-label").inner_text()
        incidents = page.locator("#sum-incidents").inner_text()
        assert re.match(r"^\d[\d,]* of \d[\d,]*$", incidents), incidents
        assert re.match(r"^\d", page.locator("#sum-rate").inner_text())
        assert page.locator("#sum-types tbody tr").count() > 0
        assert page.locator("#sum-trend rect").count() == 9
        assert frame.evaluate("window.geoSsgp.selected") == [LSOA]
        _shot(page, "analyst-selection")

        page.fill("#save-name", "Browser pilot")
        page.fill("#save-notes", "chosen in the browser")
        page.click("#save-button")
        page.wait_for_function(
            "() => /Saved as #\\d+/.test(document.getElementById('save-status').textContent)",
            timeout=30_000,
        )
        page.reload()
        frame = _map_frame(page, "#map")
        page.click("button[data-tab=t-saved]")
        row = page.locator("#saved tbody tr", has_text="Browser pilot")
        row.wait_for(timeout=30_000)
        assert "chosen in the browser" in row.inner_text()
        row.locator("button.open").click()
        page.wait_for_function(
            "() => document.getElementById('selection-label').textContent"
            ".startsWith('Browser pilot')",
            timeout=30_000,
        )
        assert page.locator("#sum-incidents").inner_text() == incidents
        assert frame.evaluate("window.geoSsgp.selected") == [LSOA]

        page.click("button[data-tab=t-saved]")
        page.locator("#saved tbody tr input[type=checkbox]").nth(0).check()
        row.locator("input[type=checkbox]").check()
        page.click("#compare-button")
        page.locator("#compare-table").wait_for(timeout=30_000)
        assert "District" in page.locator("#compare-table thead").inner_text()
        _shot(page, "analyst-compare")
        watch.check()
    finally:
        context.close()


def test_selection_follows_the_user(browser, server):
    context, page, watch, frame = _open_analyst(browser, server)
    try:
        # Choosing hotspot #12 from the list zooms to it and outlines it.
        page.locator("#pick-hotspot option[value='12']").wait_for(state="attached",
                                                                  timeout=30_000)
        zoom_before = frame.evaluate("window.geoSsgp.map.getZoom()")
        page.select_option("#pick-hotspot", "12")
        page.wait_for_function(
            "() => document.getElementById('selection-label').textContent.startsWith('#12')"
            " || /LSOA/.test(document.getElementById('selection-label').textContent)",
            timeout=30_000,
        )
        frame.wait_for_function(
            "() => window.geoSsgp.focused && window.geoSsgp.focused.rank === '12'",
            timeout=10_000,
        )
        assert frame.evaluate("window.geoSsgp.map.getZoom()") > zoom_before
        inside = frame.evaluate(
            """() => { const g = window.geoSsgp, layer = g.layers[g.focused.layer];
                 let hit = null; layer.eachLayer(l => {
                   if (String(l.feature.properties.rank) === '12') hit = l; });
                 return [g.map.getBounds().contains(hit.getBounds().getCenter()),
                         hit.options.weight]; }"""
        )
        assert inside == [True, 5]
        label = page.locator("#selection-label").inner_text()
        assert " 0 LSOAs" not in label
        _shot(page, "analyst-hotspot-12")
        # Three clicks on three LSOAs select three (no popup swallows a click).
        page.click("#clear-selection")
        lsoas = load_layer(server["svc"].pack, "lsoa21")
        codes = [LSOA, "E01022276", "E01022288"]
        assert set(codes) <= set(lsoas["code"])
        for code in codes:
            _click_lsoa(page, frame, server["svc"], code)
            page.wait_for_timeout(400)
        page.wait_for_function(
            "() => / 3 LSOAs /.test(document.getElementById('selection-label').textContent)",
            timeout=30_000,
        )
        assert sorted(frame.evaluate("window.geoSsgp.selected")) == sorted(codes)
        assert frame.locator(".leaflet-popup").count() == 0
        watch.check()
    finally:
        context.close()


def test_filters_reload_only_the_map(browser, server):
    context, page, watch, frame = _open_analyst(browser, server)
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "Anti-social" in r.url else None)
    try:
        page.evaluate("window.__marker = 1")
        page.click("#q-asb")
        frame = _map_frame(page, "#map", "crime_type=Anti-social")
        n_lsoas = "window.geoSsgp.layers['areas:rate_per_1000'].getLayers().length"
        assert frame.evaluate(n_lsoas) == 82
        assert page.evaluate("window.__marker") == 1  # the page itself was not rebuilt
        # The layer test and the hotspot list come after the map (one map worker builds all
        # three, and the backtest must not hold the map back), and they do come.
        page.wait_for_function(
            "() => document.getElementById('layer-accuracy').textContent.startsWith('Tested')",
            timeout=MAP_TIMEOUT)
        page.wait_for_function(
            "() => document.getElementById('pick-hotspot').options.length > 1",
            timeout=MAP_TIMEOUT)
        kinds = [u.split("?")[0].rsplit("/", 2)[-2:] for u in asked]
        assert kinds[0] == ["map", "analyst"], asked
        assert ["hotspots", "accuracy"] in kinds and ["api", "hotspots"] in kinds
        page.click("button[data-tab=t-rank]")
        page.locator("#ranking tbody tr").first.wait_for(timeout=30_000)
        assert page.locator("#ranking thead").inner_text().count("×") == 4
        _shot(page, "analyst-ranking")
        watch.check()
    finally:
        context.close()


def test_xss_text_is_shown_as_text(browser, server):
    context, page, watch, frame = _open_analyst(browser, server)
    try:
        # focus area whose name and notes hold markup
        page.click("button[data-tab=t-saved]")
        name = page.locator("#saved .focus-name", has_text=XSS)
        name.wait_for(timeout=30_000)
        assert name.inner_text() == XSS
        assert page.locator("#saved img").count() == 0
        # the uploaded local incident: its location text in the summary and in a map popup
        page.select_option("#f-source", "local")
        page.select_option("#f-from", "2025-08")
        page.select_option("#f-to", "2025-08")
        frame = _map_frame(page, "#map", "from=2025-08&to=2025-08&source=local")
        page.click("button[data-tab=t-select]")
        _click_lsoa(page, frame, server["svc"], server["xss_lsoa"])
        page.locator("#sum-streets li").first.wait_for(timeout=30_000)
        streets = page.locator("#sum-streets").inner_text()
        assert "<img src=x onerror=alert" in streets
        assert page.locator(".panel img").count() == 0
        frame.evaluate(
            """() => new Promise((done) => {
                 const g = window.geoSsgp, group = g.layers.incidents;
                 g.map.addLayer(group);
                 const m = group.getLayers()[0];
                 group.zoomToShowLayer(m, () => { m.openPopup(); done(); });
               })"""
        )
        popup = frame.locator(".leaflet-popup-content", has_text=XSS).last
        popup.wait_for(timeout=10_000)
        assert XSS in popup.inner_text()
        assert frame.locator(".leaflet-popup-content img").count() == 0
        page.wait_for_timeout(500)
        _shot(page, "analyst-xss")
        watch.check()
    finally:
        context.close()


def test_pcso_area_view_at_phone_width(browser, server):
    context, page, watch = _open(browser, server, role="pcso",
                                 viewport={"width": 390, "height": 844})
    try:
        page.goto(server["url"] + "/area")
        tiles = page.locator("#wards a.tile")
        assert tiles.count() == 18
        assert tiles.first.bounding_box()["height"] >= 44
        _shot(page, "area-index", full_page=True)
        page.locator("#wards a.tile", has_text="Westgate").click()
        page.wait_for_url(re.compile(r"/area/E05010967$"))
        frame = _map_frame(page, "#area-map")
        assert frame.evaluate("window.geoSsgp.map.hasLayer(window.geoSsgp.layers.area)") is True
        _assert_streets_drawn(frame)
        assert page.locator("#area-name").inner_text() == "Westgate"
        assert page.locator("#area-streets li").count() >= 3
        assert page.locator("#area-types li").first.bounding_box()["height"] >= 44
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # no sideways scrolling on a phone
        # PCSOs never see restricted records
        assert XSS not in frame.content()
        page.wait_for_timeout(300)
        _shot(page, "area", full_page=True)
        watch.check()
    finally:
        context.close()


COVERED = """() => {
  // Share of the map covered by controls, legends and attribution (union, sampled every 2 px).
  const map = document.querySelector(".folium-map").getBoundingClientRect();
  const boxes = [...document.querySelectorAll(".leaflet-control")]
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
  let hit = 0, all = 0;
  for (let y = map.top; y < map.bottom; y += 2) {
    for (let x = map.left; x < map.right; x += 2) {
      all++;
      if (boxes.some(r => x >= r.left && x < r.right && y >= r.top && y < r.bottom)) hit++;
    }
  }
  return hit / all;
}"""


def test_pcso_map_stays_visible_on_a_phone(browser, server):
    context, page, watch = _open(browser, server, role="pcso",
                                 viewport={"width": 390, "height": 844})
    try:
        page.goto(server["url"] + "/area/E05010967")
        frame = _map_frame(page, "#area-map")
        page.wait_for_timeout(300)
        covered = frame.evaluate(COVERED)
        print(f"PCSO map at 390x844: {covered:.1%} covered by controls on open")
        assert covered <= 0.15, covered
        _shot(page, "area-phone")
        assert frame.locator(".leaflet-control-layers-expanded").count() == 0
        # A legend opens from its Key button and folds again with its close button.
        key = frame.locator(".geo-ssgp-legend .geo-ssgp-key").first
        key.click()
        legend = frame.locator(".geo-ssgp-legend:not(.folded)")
        assert legend.count() == 1 and "incidents at" in legend.inner_text()
        legend.locator(".geo-ssgp-close").click()
        assert frame.locator(".geo-ssgp-legend:not(.folded)").count() == 0
        credit = frame.locator(".leaflet-control-attribution")
        assert credit.inner_text().strip().startswith("Leaflet | © OpenStreetMap contributors")
        watch.check()
    finally:
        context.close()


@pytest.mark.parametrize("focus", ["", "?focus=postcode:GL11AD"], ids=["plain", "search-result"])
def test_pcso_page_prints_on_one_a4_page(browser, server, tmp_path, focus):
    pdfium = pytest.importorskip("pypdfium2")
    context, page, watch = _open(browser, server, role="pcso")
    try:
        page.goto(server["url"] + "/area/E05010967" + focus)
        frame = _map_frame(page, "#area-map")
        if focus:  # zoomed to the postcode: its label prints, the note above the map does not
            assert _search_layer(frame)["zoom"] == 17
        assert frame.locator(".leaflet-control-zoom").is_visible()
        page.wait_for_timeout(500)
        path = tmp_path / "westgate.pdf"
        page.pdf(path=str(path), format="A4", print_background=True)
        pdf = pdfium.PdfDocument(str(path))
        assert len(pdf) == 1  # one A4 page
        width, height = pdf[0].get_size()
        assert abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5  # A4 in points
        text = pdf[0].get_textpage().get_text_range()
        assert "Westgate" in text and "Current hotspots" in text and "Top streets" in text
        assert "Incident types" not in text and "Print" not in text.split("Printed")[0]
        numbered = page.locator("#area-hotspots li").count()
        assert numbered >= 3 and all(f"{i}" in text for i in range(1, numbered + 1))
        assert page.locator("#area-streets li").first.inner_text().split()[0] in text
        # Rendered: the top third holds the map (street lines and coloured areas), not blank.
        image = pdf[0].render(scale=1).to_pil().convert("RGB")
        image.save(SHOTS / f"area-print{'-focus' if focus else ''}.png") if SHOTS.is_dir() else None
        assert ("GL1 1AD (postcode centre)" in text) == bool(focus)
        assert "On the map:" not in text
        top = image.crop((0, int(height * 0.12), int(width), int(height * 0.45)))
        pixels = list(top.getdata())
        inked = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 40 or r < 200)
        assert inked / len(pixels) > 0.05, inked / len(pixels)
        assert "+" not in text.split("Current hotspots")[0]  # no zoom buttons printed
        watch.check()
    finally:
        context.close()


def test_unknown_area_is_an_html_404_page(browser, server):
    context, page, watch = _open(browser, server, role="pcso")
    try:
        response = page.goto(server["url"] + "/area/Nowhere")
        assert response.status == 404
        assert page.locator("#error-title").inner_text() == "Not found"
        assert "Nowhere" in page.locator("#error-message").inner_text()
        assert page.locator("a", has_text="Choose an area").count() == 1
        assert watch.errors == [
            "Failed to load resource: the server responded with a status of 404 (Not Found)"
        ]
        watch.errors.clear()  # the page's own 404 status, as intended
        # PCSOs see no upload or write controls on the analyst page either.
        page.goto(server["url"] + "/")
        assert page.locator("button[data-tab=t-upload]").count() == 0
        assert page.locator("#upload-form").count() == 0
        watch.check()
    finally:
        context.close()


def test_meeting_view(browser, server):
    context, page, watch = _open(browser, server, role="viewer")
    try:
        page.goto(server["url"] + "/meeting")
        frames = [_map_frame(page, f".side-by-side figure:nth-child({i}) iframe") for i in (1, 2)]
        for frame in frames:
            assert frame.evaluate("Object.keys(window.geoSsgp.layers).some("
                                  "k => k.startsWith('hotspots:'))") is True
            _assert_streets_drawn(frame)
        assert page.locator("#hotspot-change tbody tr").count() >= 1
        assert "Gloucestershire" in page.locator("#rates").inner_text()
        page.wait_for_timeout(300)
        _shot(page, "meeting", full_page=True)
        watch.check()
    finally:
        context.close()


def test_meeting_report_opens_offline_from_a_file(browser, server, tmp_path):
    import httpx

    report = httpx.get(server["url"] + "/meeting/report.html", cookies={"token": "dev-viewer"},
                       timeout=120)
    assert report.status_code == 200
    path = tmp_path / "report.html"
    path.write_text(report.text, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    watch = Watch()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
        ("file:", "data:", "about:")) else (watch.blocked.append(r.request.url), r.abort()))
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and watch.errors.append(m.text))
    try:
        page.goto(path.as_uri())
        for i in (1, 2):
            page.wait_for_function(
                f"""() => {{ const f = document.querySelector(
                      '.side-by-side figure:nth-child({i}) iframe');
                      try {{ return !!f.contentWindow.geoSsgp.map; }}
                      catch (e) {{ return false; }} }}""",
                timeout=MAP_TIMEOUT,
            )
            frame = page.locator(f".side-by-side figure:nth-child({i}) iframe")
            _assert_streets_drawn(frame.element_handle().content_frame())
        assert "/map/streets.json" not in report.text  # embedded: the file works offline
        _shot(page, "meeting-report")
        watch.check()
    finally:
        context.close()


def test_api_docs_render_offline(browser, server):
    context, page, watch = _open(browser, server, role="viewer")
    try:
        page.goto(server["url"] + "/docs")
        page.locator(".swagger-ui .opblock").first.wait_for(timeout=30_000)
        assert page.locator(".swagger-ui .opblock").count() >= 10
        assert "/api/hotspots" in page.locator(".swagger-ui").inner_text()
        _shot(page, "api-docs")
        watch.check()
    finally:
        context.close()


def test_analyst_map_space_time_layers(browser, server):
    """Emerging layer with its category legend; change between two chosen periods, significant
    cells only unless every place is asked for."""
    from geo_ssgp.api.service import MAP_CHANGE, MAP_EMERGING
    from geo_ssgp.filters import Filters
    from geo_ssgp.hotspots.emerging import NO_PATTERN, emerging_scope

    svc = server["svc"]
    context, page, watch = _open(browser, server)
    try:
        page.goto(server["url"] + "/", wait_until="domcontentloaded")  # the map may be cold
        _map_frame(page, "#map")
        page.click("#overlays summary")
        page.check("#o-emerging")
        frame = _map_frame(page, "#map", "emerging=true")
        shown = Filters.of("2025-01", "2025-09")
        result = svc.emerging_result(emerging_scope(shown, svc.months()), MAP_EMERGING)
        patterned = {k: v for k, v in result.category_counts().items() if k != NO_PATTERN}
        layer = "window.geoSsgp.layers.emerging"
        assert frame.evaluate(f"window.geoSsgp.map.hasLayer({layer})") is True
        assert frame.evaluate(f"{layer}.getLayers().length") == sum(patterned.values())
        legend = frame.locator(".geo-ssgp-legend", has_text="Emerging hotspots").inner_text()
        assert "only 9 time steps" in legend
        assert all(name in legend for name in patterned)
        tip = frame.evaluate(
            f"() => {{ const l = {layer}.getLayers()[0]; l.openTooltip(); "
            "return l.getTooltip().getElement().innerText; }"
        )
        assert "Category" in tip and "Trend tau" in tip and "Trend p" in tip
        _shot(page, "analyst-emerging")

        # Change: the last 3 months against the 3 before, chosen in the filter panel.
        periods = [page.input_value(f"#o-{p}") for p in
                   ("before-from", "before-to", "after-from", "after-to")]
        assert periods == ["2025-04", "2025-06", "2025-07", "2025-09"]
        page.select_option("#o-before-from", "2025-01")
        page.check("#o-change")
        frame = _map_frame(page, "#map", "change_before=2025-01")
        table = svc.change_table(
            shown.replace(start="2025-01", end="2025-06"),
            shown.replace(start="2025-07", end="2025-09"),
            MAP_CHANGE,
        )
        significant = table[table["change_class"] != "no significant change"]
        assert len(significant) > 0
        change = "window.geoSsgp.layers.change"
        classes = frame.evaluate(
            f"{change}.getLayers().map(l => l.feature.properties.change_class)"
        )
        assert sorted(classes) == sorted(significant["change_class"])
        legend = frame.locator(".geo-ssgp-legend", has_text="Exact test").inner_text()
        assert f"significant places only: {len(significant):,} of {len(table):,}" in legend
        assert "periods differ (6 and 3 months): counts are compared per month" in legend
        tip = frame.evaluate(
            f"() => {{ const l = {change}.getLayers()[0]; l.openTooltip(); "
            "return l.getTooltip().getElement().innerText; }"
        )
        assert "Before" in tip and "After" in tip and "Adjusted p" in tip
        _shot(page, "analyst-change")
        page.check("#o-change-all")
        frame = _map_frame(page, "#map", "change_all=true")
        assert frame.evaluate(f"{change}.getLayers().length") == len(table)
        # a later period that starts before the earlier one ends is refused in place
        page.select_option("#o-after-from", "2025-05")
        assert "must end before the later one starts" in page.inner_text("#overlay-status")
        watch.check()
    finally:
        context.close()


def test_pcso_finds_a_street_and_opens_its_ward_on_a_phone(browser, server):
    context, page, watch = _open(browser, server, role="pcso",
                                 viewport={"width": 390, "height": 844})
    try:
        page.goto(server["url"] + "/area")
        page.fill("#place-q", "widden")
        page.press("#place-q", "Enter")
        page.wait_for_url(re.compile(r"/area\?q=widden$"))
        first = page.locator("#search-results li").first
        assert "Widden Street" in first.inner_text() and "Barton and Tredworth ward" in (
            first.inner_text()
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(page, "area-search", full_page=True)
        first.locator("a", has_text="Widden Street").click()
        page.wait_for_url(re.compile(r"/area/E05010953\?focus=street%3AE05010953%3AWidden%20Street$"))
        assert page.locator("#area-name").inner_text() == "Barton and Tredworth"
        # the PCSO page searches too: a postcode leads to its ward
        page.fill("#place-q", "gl1 1ad")
        page.press("#place-q", "Enter")
        page.locator("#search-results a", has_text="GL1 1AD").click()
        page.wait_for_url(re.compile(r"/area/E05010967\?focus=postcode%3AGL11AD$"))
        assert page.locator("#area-name").inner_text() == "Westgate"
        watch.check()
    finally:
        context.close()


FITS = """(sel) => {
  // Every element matching sel is painted inside the viewport and inside its scrolling panel,
  // and is the element hit at its own centre (not covered, not clipped away).
  const out = [];
  for (const e of document.querySelectorAll(sel)) {
    e.scrollIntoView({block: "center", inline: "nearest"});
    const r = e.getBoundingClientRect();
    const box = e.closest(".panel").getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    out.push(r.width > 0 && r.left >= box.left - 0.5 && r.right <= box.right + 0.5 &&
             r.left >= 0 && r.right <= window.innerWidth + 0.5 && !!hit &&
             (hit === e || e.contains(hit)));
  }
  return out;
}"""


@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_ranking_and_saved_links_are_not_cut_off(browser, server, viewport):
    width, height = viewport
    context, page, watch, _ = _open_analyst(browser, server,
                                            viewport={"width": width, "height": height})
    try:
        page.click("button[data-tab=t-rank]")
        page.locator("#ranking tbody tr").first.wait_for(timeout=60_000)
        headers = page.locator("#ranking thead th").all_inner_texts()
        assert headers[-1].startswith("deprivation")
        last = "#ranking tbody td:last-child"
        assert page.locator(last).count() >= 10
        assert all(page.evaluate(FITS, last)), "deprivation column cut off"
        assert all(page.evaluate(FITS, "#ranking thead th:last-child"))
        wide = "document.documentElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(wide)  # the page does not scroll sideways to show them
        # rows name the ward and a place beside "Gloucester 0xxY"
        where = page.locator("#ranking tbody td.area-name .where").all_inner_texts()
        assert where and all(w for w in where) and any("near " in w for w in where)
        _shot(page, f"ranking-{width}")
        page.click("button[data-tab=t-saved]")
        page.locator("#saved tbody tr").first.wait_for(timeout=30_000)
        gpkg = "#saved tbody td.actions a[href$='format=gpkg']"
        delete = "#saved tbody td.actions button.danger"
        assert page.locator(gpkg).count() >= 1 and page.locator(delete).count() >= 1
        assert all(page.evaluate(FITS, gpkg)), "GPKG link cut off"
        assert all(page.evaluate(FITS, delete)), "Delete button cut off"
        panel = page.locator(".panel")
        assert panel.evaluate("p => p.scrollWidth <= p.clientWidth")  # no hidden overflow
        assert page.evaluate(wide)
        _shot(page, f"saved-{width}")
        watch.check()
    finally:
        context.close()


def test_subcategory_filter_lists_the_local_log_categories(browser, server):
    context, page, watch, frame = _open_analyst(browser, server)
    try:
        options = page.locator("#f-sub option").all_inner_texts()
        assert options == ["All", "ASB (1)"]  # the uploaded log's own category, counted
        assert page.locator("#f-sub-box").is_visible()
        page.select_option("#f-sub", "ASB")
        _map_frame(page, "#map", "subcategory=ASB")
        watch.check()
    finally:
        context.close()
    context, page, watch = _open(browser, server, role="viewer")
    try:
        page.goto(server["url"] + "/")
        assert page.locator("#f-sub").count() == 0  # restricted categories: analysts only
        assert page.locator(".topbar nav a", has_text="Analyst map").count() == 0
        watch.check()
    finally:
        context.close()


SEARCH_LAYER = """() => { const g = window.geoSsgp, s = g.layers.search;
  if (!s || !g.map.hasLayer(s)) return null;
  const b = s.getBounds(), c = g.map.getCenter();
  // painted pixels of the highlight (its own pane: a canvas, or SVG paths)
  const pane = g.map.getPane("geoSsgpSearch"), canvas = pane.querySelector("canvas");
  let drawn = pane.querySelectorAll("path").length * 1000;
  if (canvas) {
    const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) drawn++; }
  }
  return {inView: g.map.getBounds().contains(b), zoom: g.map.getZoom(),
          centre: [c.lat, c.lng], shape: [b.getCenter().lat, b.getCenter().lng], drawn: drawn,
          label: [...document.querySelectorAll(".geo-ssgp-search-label")]
                   .map(t => t.textContent), ref: g.focused && g.focused.ref}; }"""


def _search_layer(frame) -> dict:
    """The map's search-result layer once drawn: bounds in view, zoom, centre, label."""
    frame.wait_for_function("() => !!window.geoSsgp.layers.search", timeout=MAP_TIMEOUT)
    return frame.evaluate(SEARCH_LAYER)


@pytest.mark.parametrize("viewport", [(390, 844), (1440, 900)], ids=["phone", "desktop"])
def test_pcso_search_opens_the_ward_zoomed_to_the_street(browser, server, viewport):
    width, height = viewport
    context, page, watch = _open(browser, server, role="pcso",
                                 viewport={"width": width, "height": height})
    try:
        page.goto(server["url"] + "/area/E05010967")  # Westgate
        frame = _map_frame(page, "#area-map")
        full_zoom = frame.evaluate("window.geoSsgp.map.getZoom()")
        map_height = page.locator("#area-map").bounding_box()["height"]
        covered = frame.evaluate(COVERED)
        page.fill("#place-q", "Widden Street")
        page.press("#place-q", "Enter")
        page.locator("#search-results a", has_text="Widden Street").click()
        page.wait_for_url(re.compile(r"/area/E05010953\?focus=street%3AE05010953%3AWidden"))
        frame = _map_frame(page, "#area-map")
        shown = _search_layer(frame)
        assert shown["inView"] and shown["zoom"] >= full_zoom + 2, shown  # zoomed to it
        assert shown["drawn"] >= 500 and shown["label"] == ["Widden Street"], shown
        assert shown["ref"] == "street:E05010953:Widden Street"
        note = page.locator("#search-focus").inner_text()
        assert "Widden Street" in note and "OpenStreetMap line(s) in Barton and Tredworth" in note
        assert page.locator("#focus-elsewhere").count() == 0
        # the map keeps its size and controls cover no more of it than on a plain page
        assert page.locator("#area-map").bounding_box()["height"] == map_height
        assert frame.evaluate(COVERED) <= covered + 0.005
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.wait_for_timeout(300)
        _shot(page, f"area-search-focus-{width}", full_page=width < 600)
        # the same result opened from another ward's page: drawn, and said to be elsewhere
        page.goto(server["url"] + "/area/E05010967?focus=street:E05010953:Widden%20Street")
        frame = _map_frame(page, "#area-map")
        assert _search_layer(frame)["inView"]
        assert "It is not in Westgate" in page.locator("#focus-elsewhere").inner_text()
        watch.check()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_analyst_search_box_centres_the_map_on_a_postcode(browser, server, viewport):
    width, height = viewport
    context, page, watch, frame = _open_analyst(browser, server,
                                                viewport={"width": width, "height": height})
    try:
        box_before = page.locator("#map").bounding_box()
        page.fill("#map-q", "gl1 1ad")
        page.press("#map-q", "Enter")  # one match: drawn at once, the page stays
        shown = _search_layer(frame)
        point = server["svc"].search_focus("postcode:GL11AD")["geometry"]["coordinates"]
        assert shown["centre"] == pytest.approx([point[1], point[0]], abs=2e-4), shown
        assert shown["zoom"] == 17 and shown["label"] == ["GL1 1AD (postcode centre)"]
        assert page.url == server["url"] + "/"
        said = page.locator("#map-q").get_attribute("title")
        assert said == ("GL1 1AD (postcode centre): the postcode's centre point "
                        "(Code-Point Open), not a boundary")
        box_after = page.locator("#map").bounding_box()
        print(f"analyst map at {width}x{height}: {box_before['height']:.0f} px high before the "
              f"search, {box_after['height']:.0f} px with a result shown")
        assert box_after["width"] == box_before["width"]
        assert box_after["height"] == box_before["height"]  # the bar keeps its height
        _shot(page, f"analyst-search-postcode-{width}")
        # a filter change reloads the map: the result is drawn again on the new map
        page.click("#q-asb")
        frame = _map_frame(page, "#map", "crime_type=")
        assert _search_layer(frame)["label"] == ["GL1 1AD (postcode centre)"]
        # several matches: a list to choose from; choosing one moves the highlight
        page.fill("#map-q", "Kingsholm")
        page.click("#map-find")
        choices = page.locator("#map-search-results button")
        choices.first.wait_for(timeout=30_000)
        assert choices.count() >= 3 and "place · Kingsholm and Wotton" in choices.first.inner_text()
        choices.first.click()
        frame.wait_for_function(  # the previous label fades out (Leaflet: 200 ms)
            "() => window.geoSsgp.focused && window.geoSsgp.focused.ref === 'place:Kingsholm'"
            " && document.querySelectorAll('.geo-ssgp-search-label').length === 1",
            timeout=30_000,
        )
        assert frame.evaluate(SEARCH_LAYER)["label"] == ["Kingsholm"]
        assert page.locator("#map-search-results").is_hidden()
        page.click("#map-search-clear")
        assert frame.evaluate("() => !window.geoSsgp.layers.search")
        frame.wait_for_function(
            "() => document.querySelectorAll('.geo-ssgp-search-label').length === 0",
            timeout=5_000,
        )
        watch.check()
    finally:
        context.close()
