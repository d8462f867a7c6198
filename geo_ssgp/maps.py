"""Folium map and layer builders for the analyst and PCSO maps (no HTTP here).

Every function takes layers in British National Grid (EPSG:27700) and converts to WGS84 only
for the page. Polygons are simplified to about 2 m in BNG, coordinates are rounded to
5 decimal places (about 1 m) and only the properties that are shown are sent.

Page size
---------
Vector layers are not Folium ``GeoJson`` elements but a small layer factory in the page
(``geoSsgp.vector``) fed with compact data: ring coordinates delta-coded as encoded-polyline
text (:func:`encode_ints`), each distinct property value sent once, one style per class
instead of one per feature, and the LSOA polygons sent once for the three choropleths.
Incidents are grouped by snap point (:func:`snap_point_rows`). For the nine-month Gloucester
sample the analyst map is about 0.18 MB against 11.7 MB for one Folium marker and popup per
incident (``benchmarks/bench_maps.py``).

Offline assets
--------------
Folium links Leaflet, its plugins, jQuery, Bootstrap and fonts from public CDNs by default;
without internet such a page is blank. :func:`use_local_assets` points every Folium element
at the app's own copies under ``/static/vendor`` (installed from npm by ``make web-assets``,
see ``web/vendor_assets.py``) and raises :class:`AssetError` for an element that needs a file
the app does not ship. :func:`render` returns the page with local links; :func:`render_standalone`
inlines every script, stylesheet and image so the file opens with no server and no network.
Base-map tiles are optional (``tiles=None`` draws none); LSOA, ward and district outlines keep
the map readable without them.

Escaping
--------
Text from data (names, labels, location text, parameters) is HTML-escaped in Python before it
reaches the page (braces too, because Folium passes rendered scripts through Jinja2 again):
tooltips, popups, legends and Leaflet's layer control insert text with ``innerHTML``, so the
escaped text is displayed literally.

Page hook: ``window.geoSsgp``
-----------------------------
Every map built here creates (or extends) a ``window.geoSsgp`` object that page scripts use:

``geoSsgp.map``
    The ``L.Map``.
``geoSsgp.layers[id]``
    Each layer added by this module under a stable id: ``"areas:<column>"`` (LSOA choropleths,
    e.g. ``"areas:rate_per_1000"``, ``"areas:count"``, ``"areas:imd_decile"``), ``"wards"``,
    ``"hotspots:<key>"``, ``"surface"``, ``"incidents"``, ``"area"`` (outline of the area map),
    ``"draw"`` (the ``L.FeatureGroup`` of drawn shapes). Each layer's ``geoSsgpKind`` is its
    kind (``"areas"``, ``"wards"``, ...).
``geoSsgp.onAreaClick(code, props, layerId)``
    Define it to receive clicks on LSOA features. ``code`` is the LSOA code; ``props`` holds
    the feature's display properties as HTML-escaped text: ``code``, ``name``, ``ward``,
    ``count``, ``population``, ``rate``, ``share``, ``imd``, ``imd_rank``.
``geoSsgp.onDraw(geojson)``
    Define it to receive the polygon drawn with :func:`add_draw_control`: a GeoJSON Feature
    (WGS84) when a polygon is drawn or edited, ``null`` when it is deleted. Only the latest
    polygon is kept.
``geoSsgp.selectAreas(codes)``
    Outline the LSOAs whose codes are listed, in every LSOA layer (``[]`` clears).
``geoSsgp.selected``
    The codes currently outlined.
``geoSsgp.startDrawing()``, ``geoSsgp.clearDrawing()``
    Start the polygon tool as its toolbar button does; remove the drawn polygon
    (``onDraw(null)`` follows).

Page scripts may define the callbacks before or after the map script runs. To embed a map in
a Jinja2 page use :func:`render_parts` (head links and styles, the map ``<div>``, the script),
or serve :func:`render` as a page of its own.

When the map is shown in a same-origin ``<iframe>``, the same events are also posted to the
parent window as ``{type: "geo-ssgp:area-click", code, props, layer}`` and
``{type: "geo-ssgp:draw", geojson}``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from branca.utilities import color_brewer
from folium.elements import JSCSSMixin
from folium.plugins import Draw, MarkerCluster
from folium.template import Template

from geo_ssgp.config import ATTRIBUTION, CRS_BNG, CRS_WGS84, default_settings
from geo_ssgp.pack import AreaPack, load_layer

#: Folder the app serves as ``/static/vendor`` (filled by ``make web-assets``).
VENDOR_DIR = default_settings().vendor_dir
#: URL prefix of the vendor folder in the app.
DEFAULT_ASSET_BASE = "/static/vendor"

#: Folium asset name -> file under the vendor folder, for every asset the app ships.
VENDOR_ASSETS: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "jquery": "jquery/jquery.min.js",
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    "leaflet_draw_js": "leaflet-draw/leaflet.draw.js",
    "leaflet_draw_css": "leaflet-draw/leaflet.draw.css",
}

#: Assets that ``folium.Map`` lists but no element built here uses (Bootstrap, Font Awesome,
#: Awesome Markers); they are dropped from the map. A ``folium.Icon`` needs them and is refused.
UNUSED_MAP_ASSETS = frozenset(
    {
        "bootstrap",
        "bootstrap_css",
        "awesome_markers",
        "awesome_markers_css",
        "awesome_markers_font_css",
        "awesome_rotate_css",
        "glyphicons_css",
    }
)

#: Simplification tolerance (metres, BNG) and coordinate decimals of GeoJSON sent to the page.
SIMPLIFY_M = 2.0
DECIMALS = 5

SNAP_POINT_NOTE = "police.uk snap point: an anonymised map point, not an address"

_HOTSPOT_COLOURS = ("#d7301f", "#6a51a3", "#08519c", "#006d2c", "#b35806", "#c51b7d")
_NO_DATA = "#cccccc"
_STATE = "_geo_ssgp"
_EXTERNAL = re.compile(
    r"<(?:script[^>]*\ssrc|link[^>]*\shref)\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE
)


class AssetError(RuntimeError):
    """A map needs a front-end file that the app does not serve itself."""


# --------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------


def _walk(element: Element) -> Iterable[Element]:
    """Yield an element and all its descendants."""
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _local_links(
    element: Element, links: Sequence[tuple[str, str]], base_url: str
) -> list[tuple[str, str]]:
    """Map an element's ``(name, url)`` asset links to the vendor folder."""
    out = []
    for name, url in links:
        if name in VENDOR_ASSETS:
            out.append((name, f"{base_url}/{VENDOR_ASSETS[name]}"))
        elif isinstance(element, folium.Map) and name in UNUSED_MAP_ASSETS:
            continue
        else:
            raise AssetError(
                f"{type(element).__name__} needs the front-end asset {name!r} ({url}), which "
                "the app does not serve: add its npm package to web/package.json, its files "
                "to web/vendor_assets.py and its name to geo_ssgp.maps.VENDOR_ASSETS"
            )
    return out


def _clean_header(figure: Figure, base_url: str) -> None:
    """Repoint or drop asset links left in the figure header by an earlier render."""
    for name, child in list(figure.header._children.items()):
        if not isinstance(child, (JavascriptLink, CssLink)):
            continue
        if name in VENDOR_ASSETS:
            child.url = f"{base_url}/{VENDOR_ASSETS[name]}"
        elif name in UNUSED_MAP_ASSETS:
            del figure.header._children[name]
        elif re.match(r"(?:https?:)?//", child.url):
            raise AssetError(f"the page header links {child.url} ({name!r}), a CDN asset")


def use_local_assets(fmap: folium.Map, base_url: str = DEFAULT_ASSET_BASE) -> folium.Map:
    """Point the map and every plugin element at the app's own copies of their assets.

    Call it after adding elements from outside this module; the builders here and
    :func:`render` call it themselves.

    Parameters
    ----------
    fmap : folium.Map
    base_url : str
        URL prefix of the vendor folder (``/static/vendor`` in the app).

    Returns
    -------
    folium.Map
        The same map.

    Raises
    ------
    AssetError
        If an element needs a script or stylesheet that is not in :data:`VENDOR_ASSETS`
        (for example a new plugin, or a ``folium.Icon`` that needs Awesome Markers).
    """
    base_url = base_url.rstrip("/")
    figure = fmap.get_root()
    for element in _walk(figure):
        if isinstance(element, folium.Icon):
            raise AssetError(
                "folium.Icon needs Awesome Markers, Bootstrap and Font Awesome, which the app "
                "does not serve; use a CircleMarker or the default Leaflet marker"
            )
        if isinstance(element, JSCSSMixin):
            # Instance attributes: the class-level lists are shared by every map.
            element.default_js = _local_links(element, element.default_js, base_url)
            element.default_css = _local_links(element, element.default_css, base_url)
    if isinstance(figure, Figure):
        _clean_header(figure, base_url)
    _state(fmap)["asset_base"] = base_url
    return fmap


def external_assets(page: str) -> list[str]:
    """Script and stylesheet tags in an HTML page that load from another host.

    Parameters
    ----------
    page : str
        HTML text.

    Returns
    -------
    list of str
        The offending tags (empty when the page loads nothing from a CDN).
    """
    tags = re.findall(r"<script\b[^>]*>|<link\b[^>]*>", page, flags=re.IGNORECASE)
    return [tag for tag in tags if _EXTERNAL.search(tag)]


def render(fmap: folium.Map) -> str:
    """Full HTML page of a map, loading every asset from the app's vendor folder.

    Parameters
    ----------
    fmap : folium.Map

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    AssetError
        If any script or stylesheet would still load from another host.
    """
    use_local_assets(fmap, _state(fmap).get("asset_base", DEFAULT_ASSET_BASE))
    page = fmap.get_root().render()
    bad = external_assets(page)
    if bad:
        raise AssetError(f"the rendered map still loads assets from a CDN: {bad}")
    return page


def render_parts(fmap: folium.Map) -> dict[str, str]:
    """The map's page split into parts for embedding in a Jinja2 template.

    Folium's page-wide settings (``<meta>`` tags, the ``html, body`` and ``#map`` rules) are
    left out so they do not restyle the surrounding page.

    Parameters
    ----------
    fmap : folium.Map

    Returns
    -------
    dict
        ``header`` (asset links and styles for ``<head>``), ``html`` (the map ``<div>``) and
        ``script`` (the map's JavaScript, to be wrapped in ``<script>``).
    """
    render(fmap)
    figure = fmap.get_root()
    header = re.sub(r"<meta\b[^>]*>", "", figure.header.render(), flags=re.S)
    header = re.sub(r"<style>\s*(?:html, body|#map)\s*\{[^}]*\}\s*</style>", "", header)
    return {
        "header": header,
        "html": figure.html.render(),
        "script": figure.script.render(),
    }


_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif", ".jpg": "image/jpeg"}


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    """A stylesheet with its relative ``url(...)`` images replaced by data URIs."""

    def repl(match: re.Match) -> str:
        ref = match.group(2)
        if ref.startswith(("#", "data:")):
            return match.group(0)
        return f'url("{_data_uri(path.parent / ref)}")'

    css = re.sub(r"url\((['\"]?)([^'\")]+)\1\)", repl, path.read_text(encoding="utf-8"))
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def _inline_js(path: Path) -> str:
    js = path.read_text(encoding="utf-8")
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.MULTILINE)
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


def _marker_icon_script(vendor: Path) -> str:
    """Script giving Leaflet's default marker its images as data URIs."""
    images = vendor / "leaflet" / "images"
    urls = {
        "iconUrl": _data_uri(images / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(images / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(images / "marker-shadow.png"),
    }
    return (
        "<script>L.Icon.Default.imagePath = '';"
        f"L.Icon.Default.mergeOptions({json.dumps(urls)});</script>"
    )


def render_standalone(fmap: folium.Map, vendor_dir: str | Path | None = None) -> str:
    """Self-contained HTML of a map: every script, stylesheet and image inlined.

    For downloadable reports that must open from a file with no server and no network.
    Build the map with ``tiles=None`` for a fully offline file.

    Parameters
    ----------
    fmap : folium.Map
    vendor_dir : str or Path, optional
        Vendor folder to read; defaults to :data:`VENDOR_DIR`.

    Returns
    -------
    str
        The HTML document, with no ``<script src>`` and no ``<link href>``.

    Raises
    ------
    AssetError
        If a vendor file is missing (run ``make web-assets``) or a link cannot be inlined.
    """
    vendor = Path(vendor_dir) if vendor_dir else VENDOR_DIR
    marker = "geo-ssgp-inline:"
    previous = _state(fmap).get("asset_base", DEFAULT_ASSET_BASE)
    _state(fmap)["asset_base"] = marker
    try:
        page = render(fmap)
    finally:
        _state(fmap)["asset_base"] = previous
        use_local_assets(fmap, previous)

    def file_of(ref: str) -> Path:
        path = vendor / ref
        if not path.is_file():
            raise AssetError(f"{path} is missing: run `make web-assets`")
        return path

    def script(match: re.Match) -> str:
        path = file_of(match.group(1))
        out = f"<script>{_inline_js(path)}</script>"
        if match.group(1) == VENDOR_ASSETS["leaflet"]:
            out += _marker_icon_script(vendor)
        return out

    def style(match: re.Match) -> str:
        return f"<style>{_inline_css(file_of(match.group(1)))}</style>"

    quoted = re.escape(marker) + r"/([^\"']+)"
    page = re.sub(rf"<script src=[\"']{quoted}[\"']></script>", lambda m: script(m), page)
    page = re.sub(rf"<link rel=\"stylesheet\" href=[\"']{quoted}[\"']\s*/?>", style, page)
    left = re.findall(r"<script\b[^>]*\ssrc=[^>]*>|<link\b[^>]*\shref=[^>]*>", page, re.I)
    if left:
        raise AssetError(f"could not inline: {left}")
    return page


# --------------------------------------------------------------------------------------------
# Map state, page script, attribution, legends
# --------------------------------------------------------------------------------------------


def _state(fmap: folium.Map) -> dict[str, Any]:
    state = getattr(fmap, _STATE, None)
    if state is None:
        state = {
            "asset_base": DEFAULT_ASSET_BASE,
            "attribution": [],
            "hotspot_layers": 0,
            "shared": {},
        }
        setattr(fmap, _STATE, state)
    return state


def _esc(text: Any) -> str:
    """HTML-escape text for the page; braces become entities too.

    Folium passes every rendered script through Jinja2 again, so ``{{``, ``{%`` and ``{#``
    from data would be evaluated as template code; ``&#123;`` displays as ``{``.
    """
    return html.escape(str(text)).replace("{", "&#123;").replace("}", "&#125;")


def _js_json(obj: Any) -> str:
    """Compact JSON for a ``<script>`` block.

    ``<`` and ``>`` are written as JSON unicode escapes so no text can close the script
    element; ``&`` is kept, so HTML-escaped text (``&lt;img``) reads as such in the page.
    """
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    # Folium renders script text through Jinja2 again: break up its delimiters. In compact
    # JSON these pairs only occur inside strings, where the escape is valid.
    return text.replace("{{", "{\\u007b").replace("{%", "\\u007b%").replace("{#", "\\u007b#")


_CSS = """
<style>
.leaflet-container { background: #f4f4f2; }
.leaflet-control-attribution { white-space: normal; max-width: 70vw; font-size: 10px; }
.geo-ssgp-legend { background: rgba(255,255,255,0.92); padding: 6px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; max-width: 280px;
  max-height: 45vh; overflow: auto; }
.geo-ssgp-legend summary { cursor: pointer; margin-top: 4px; }
.leaflet-control-layers { font: 13px/1.4 sans-serif; }
.geo-ssgp-legend h4 { margin: 0 0 4px; font-size: 12px; }
.geo-ssgp-legend i { display: inline-block; width: 14px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid rgba(0,0,0,0.3); }
.geo-ssgp-legend table, .geo-ssgp-table { border-collapse: collapse; }
.geo-ssgp-legend th, .geo-ssgp-table th { text-align: left; padding: 0 8px 0 0;
  font-weight: 600; vertical-align: top; }
.geo-ssgp-legend td, .geo-ssgp-table td { padding: 0; }
.geo-ssgp-table { font: 13px/1.35 sans-serif; }
.geo-ssgp-legend .note { margin-top: 4px; font-style: italic; color: #444; }
.leaflet-tooltip.geo-ssgp-label { background: transparent; border: none; box-shadow: none;
  font: 600 11px sans-serif; color: #222; text-shadow: 0 0 3px #fff, 0 0 3px #fff; }
</style>
"""

#: The page script shared by every layer: compact-data decoder, layer factory and hooks.
_SETUP_JS = """
(function () {
  var g = window.geoSsgp = window.geoSsgp || {};
  g.map = {{ this.map_name }};
  g.layers = g.layers || {};
  g.data = g.data || {};
  g.selected = g.selected || [];
  g.selStyle = {color: "#1d3fbb", weight: 3, opacity: 1};
  var S = {{ this.scale }};
  var post = function (msg) {
    if (window.parent !== window && window.location.origin !== "null") {
      try { window.parent.postMessage(msg, window.location.origin); } catch (e) {}
    }
  };
  g.ints = function (s) {
    var out = [], v = 0, shift = 0;
    for (var k = 0; k < s.length; k++) {
      var b = s.charCodeAt(k) - 63;
      v |= (b & 31) << shift;
      shift += 5;
      if (b < 32) { out.push((v >>> 1) ^ -(v & 1)); v = 0; shift = 0; }
    }
    return out;
  };
  var polygons = function (e) {
    var c = g.ints(e[1]), lens = e[2], parts = e[3], k = 0, r = 0, out = [];
    for (var p = 0; p < parts.length; p++) {
      var rings = [];
      for (var j = 0; j < parts[p]; j++, r++) {
        var ring = [], x = 0, y = 0;
        for (var i = 0; i < lens[r]; i++, k += 2) {
          x = i ? x + c[k] : c[k];
          y = i ? y + c[k + 1] : c[k + 1];
          ring.push([x / S, y / S]);
        }
        ring.push(ring[0]);
        rings.push(ring);
      }
      out.push(rings);
    }
    return {type: "MultiPolygon", coordinates: out};
  };
  // {k: [names], v: [values], f: [[geometry, [value indexes]], ...]} -> FeatureCollection.
  // Geometry: ["p", x, y] or ["M", delta-coded coordinates as encoded-polyline text,
  // ring lengths, rings per part].
  g.decode = function (d) {
    return {type: "FeatureCollection", features: d.f.map(function (f, n) {
      var props = {_i: n};
      d.k.forEach(function (key, i) { props[key] = d.v[f[1][i]]; });
      var geom = f[0][0] === "p"
        ? {type: "Point", coordinates: [f[0][1] / S, f[0][2] / S]} : polygons(f[0]);
      return {type: "Feature", geometry: geom, properties: props};
    })};
  };
  // Values are HTML-escaped text prepared on the server.
  g.table = function (p, fields, aliases) {
    return "<table class=\\"geo-ssgp-table\\">" + fields.map(function (key, i) {
      return "<tr>" + (aliases ? "<th>" + aliases[i] + "</th>" : "")
        + "<td>" + (p[key] == null ? "\\u2013" : p[key]) + "</td></tr>";
    }).join("") + "</table>";
  };
  // Legend parts are HTML-escaped text prepared on the server.
  g.legendHtml = function (c) {
    var out = "<h4>" + c.title + "</h4>";
    c.swatches.forEach(function (s) {
      out += "<div><i style=\\"background:" + s[0] + "\\"></i>" + s[1] + "</div>";
    });
    var rows = function (t) {
      return "<table>" + t.map(function (r) {
        return "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>";
      }).join("") + "</table>";
    };
    if (c.table.length) { out += rows(c.table); }
    if (c.more.length) {
      out += "<details><summary>All parameters</summary>" + rows(c.more) + "</details>";
    }
    c.notes.forEach(function (n) { out += "<div class=\\"note\\">" + n + "</div>"; });
    return out;
  };
  g.isSelected = function (l) {
    return !!(l.feature && g.selected.indexOf(l.feature.properties.code) >= 0);
  };
  g.vector = function (fc, spec) {
    var styleOf = function (f) { return spec.styles[spec.classes[f.properties._i]]; };
    var layer = L.geoJson(fc, {
      interactive: spec.interactive,
      style: styleOf,
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend({radius: spec.radius}, styleOf(f)));
      },
      onEachFeature: function (f, l) {
        var t = spec.tooltip, p = spec.popup;
        if (t) {
          l.bindTooltip(t.options.permanent ? g.table(f.properties, t.fields, t.aliases)
            : function () { return g.table(f.properties, t.fields, t.aliases); }, t.options);
        }
        if (p) {
          l.bindPopup(function () { return g.table(f.properties, p.fields, p.aliases); },
                      {maxWidth: 360});
        }
        if (spec.highlight) {
          l.on("mouseover", function () { l.setStyle(spec.highlight); });
          l.on("mouseout", function () {
            layer.resetStyle(l);
            if (g.isSelected(l)) { l.setStyle(g.selStyle); }
          });
        }
      }
    });
    return layer;
  };
  g.register = function (id, layer, kind) {
    g.layers[id] = layer;
    layer.geoSsgpKind = kind;
    if (kind !== "areas") { return; }
    layer.on("click", function (e) {
      var f = e.layer && e.layer.feature;
      if (!f) { return; }
      if (typeof g.onAreaClick === "function") {
        g.onAreaClick(f.properties.code, f.properties, id);
      }
      post({type: "geo-ssgp:area-click", code: f.properties.code, props: f.properties, layer: id});
    });
    layer.eachLayer(function (l) { if (g.isSelected(l)) { l.setStyle(g.selStyle); } });
  };
  g.drawn = function (geojson) {
    if (typeof g.onDraw === "function") { g.onDraw(geojson); }
    post({type: "geo-ssgp:draw", geojson: geojson});
  };
  g.selectAreas = function (codes) {
    g.selected = (codes || []).slice();
    Object.keys(g.layers).forEach(function (id) {
      var layer = g.layers[id];
      if (layer.geoSsgpKind !== "areas") { return; }
      layer.eachLayer(function (l) {
        layer.resetStyle(l);
        if (g.isSelected(l)) { l.setStyle(g.selStyle); }
      });
    });
  };
})();
"""


class _Setup(MacroElement):
    """Page CSS and the ``window.geoSsgp`` script (rendered before any layer)."""

    _template = Template(
        "{% macro header(this, kwargs) %}" + _CSS + "{% endmacro %}"
        "{% macro script(this, kwargs) %}" + _SETUP_JS + "{% endmacro %}"
    )

    def __init__(self, map_name: str):
        super().__init__()
        self._name = "GeoSsgpSetup"
        self.map_name = map_name
        self.scale = 10**DECIMALS


class _Attribution(MacroElement):
    """Adds the data attribution lines to the map's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
          if (!map.attributionControl) {
            map.attributionControl = L.control.attribution().addTo(map);
          }
          {%- for line in this.lines %}
          map.attributionControl.addAttribution({{ line|tojson }});
          {%- endfor %}
        })({{ this.map_name }});
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str, lines: list[str]):
        super().__init__()
        self._name = "GeoSsgpAttribution"
        self.map_name = map_name
        self.lines = lines


class _Register(MacroElement):
    """Registers its parent layer in ``window.geoSsgp.layers``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.geoSsgp.register({{ this.layer_id_js }}, {{ this._parent.get_name() }},
                                {{ this.kind_js }});
        {% endmacro %}
        """
    )

    def __init__(self, layer_id: str, kind: str):
        super().__init__()
        self._name = "GeoSsgpRegister"
        self.layer_id = layer_id
        self.kind = kind
        self.layer_id_js = _js_json(layer_id)
        self.kind_js = _js_json(kind)


class _Legend(MacroElement):
    """A legend control shown while its parent layer is on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, layer) {
          var legend = L.control({position: "bottomright"});
          legend.onAdd = function () {
            var div = L.DomUtil.create("div", "geo-ssgp-legend");
            div.innerHTML = window.geoSsgp.legendHtml({{ this.content_js }});
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          var sync = function () {
            if (map.hasLayer(layer)) { legend.addTo(map); } else { legend.remove(); }
          };
          map.on("layeradd layerremove", function (e) { if (e.layer === layer) { sync(); } });
          sync();
        })({{ this.map_name }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str, content: dict):
        super().__init__()
        self._name = "GeoSsgpLegend"
        self.map_name = map_name
        self.content = content
        self.content_js = _js_json(content)


class _Data(MacroElement):
    """Compact feature data decoded once and shared by several layers."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.geoSsgp.data[{{ this.key_js }}] = window.geoSsgp.decode({{ this.data_js }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, data: dict):
        super().__init__()
        self._name = "GeoSsgpData"
        self.key = key
        self.key_js = _js_json(key)
        self.data_js = _js_json(data)


class _VectorLayer(folium.map.Layer):
    """A Leaflet GeoJSON layer built in the page from compact data and a style spec.

    ``spec``: ``styles`` (list of Leaflet path styles), ``classes`` (style index per
    feature), ``highlight`` (style on hover or None), ``tooltip``/``popup`` (``fields``,
    ``aliases``, ``options``, or None), ``radius`` (circle markers for points) and
    ``interactive``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = window.geoSsgp.vector({{ this.data_js }}, {{ this.spec_js }});
        {% endmacro %}
        """
    )

    def __init__(
        self, data_js: str, spec: dict, name: str, show: bool = True, control: bool = True
    ):
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "GeoSsgpVector"
        self.data_js = data_js
        self.spec = spec
        self.spec_js = _js_json(spec)


def _ensure_setup(fmap: folium.Map) -> dict[str, Any]:
    """Add the page CSS, script and attribution element once per map."""
    state = _state(fmap)
    # Marker clustering needs a maximum zoom, which a tile-less map would not have.
    fmap.options.setdefault("max_zoom", 18)
    if "setup" not in state:
        state["setup"] = _Setup(fmap.get_name())
        fmap.add_child(state["setup"], name="geo_ssgp_setup")
        state["attribution_element"] = _Attribution(fmap.get_name(), state["attribution"])
        fmap.add_child(state["attribution_element"], name="geo_ssgp_attribution")
    return state


def _attribute(fmap: folium.Map, *keys: str) -> None:
    """Add attribution lines (keys of ``geo_ssgp.config.ATTRIBUTION``) once each."""
    lines = _ensure_setup(fmap)["attribution"]
    for key in keys:
        line = _esc(ATTRIBUTION[key])
        if line not in lines:
            lines.append(line)


def attribution_lines(fmap: folium.Map) -> list[str]:
    """The data attribution lines a map shows (HTML-escaped).

    Parameters
    ----------
    fmap : folium.Map

    Returns
    -------
    list of str
    """
    return list(_state(fmap)["attribution"])


def _register(fmap: folium.Map, layer: Element, layer_id: str, kind: str) -> None:
    _ensure_setup(fmap)
    layer.add_child(_Register(layer_id, kind), name=f"register_{layer.get_name()}")


def _legend_spec(
    title: str,
    swatches: Sequence[tuple[str, str]] = (),
    table: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    more: Mapping[str, str] | None = None,
) -> dict:
    """A legend's content for ``geoSsgp.legendHtml``; every text is escaped here.

    ``table`` rows are always shown; ``more`` rows sit in a collapsed "All parameters" list.
    """
    return {
        "title": _esc(title),
        "swatches": [[_esc(c), _esc(label)] for c, label in swatches],
        "table": [[_esc(k), _esc(v)] for k, v in (table or {}).items()],
        "more": [[_esc(k), _esc(v)] for k, v in (more or {}).items()],
        "notes": [_esc(n) for n in notes],
    }


def _legend(fmap: folium.Map, layer: Element, content: dict) -> None:
    layer.add_child(_Legend(fmap.get_name(), content), name=f"legend_{layer.get_name()}")


# --------------------------------------------------------------------------------------------
# Compact geometry and formatting helpers
# --------------------------------------------------------------------------------------------


def _wgs84(geoms: gpd.GeoSeries, simplify: float | None = SIMPLIFY_M) -> gpd.GeoSeries:
    """Simplify in BNG (metres), then convert to WGS84."""
    geoms = geoms.set_crs(CRS_BNG) if geoms.crs is None else geoms.to_crs(CRS_BNG)
    if simplify:
        geoms = geoms.simplify(simplify, preserve_topology=True)
    return geoms.to_crs(CRS_WGS84)


def encode_ints(values: Any) -> tuple[str, np.ndarray]:
    """Encode signed integers as text with the encoded-polyline algorithm.

    Each value is zigzag-mapped to a non-negative number and written as 5-bit chunks, low
    first, each chunk ``+ 63`` with ``0x20`` set while more chunks follow: one to seven
    printable ASCII characters (``?`` to ``~``) per value and no separators.

    Parameters
    ----------
    values : array-like of int
        Values with ``|v| < 2**31``.

    Returns
    -------
    (str, numpy.ndarray)
        The text and the number of characters of each value.
    """
    v = np.asarray(values, dtype=np.int64).ravel()
    if len(v) and np.abs(v).max() >= 2**31:
        raise ValueError("encode_ints takes values below 2**31 in magnitude")
    z = (v << 1) ^ (v >> 63)
    shifts = np.arange(7, dtype=np.int64) * 5
    chunks = (z[:, None] >> shifts) & 31
    n_chars = np.maximum(1, (np.floor(np.log2(np.maximum(z, 1))).astype(int) // 5) + 1)
    n_chars = np.where(z == 0, 1, n_chars)
    more = np.arange(7)[None, :] < (n_chars[:, None] - 1)
    codes = chunks + np.where(more, 0x20, 0) + 63
    valid = np.arange(7)[None, :] < n_chars[:, None]
    text = codes[valid].astype(np.uint8).tobytes().decode("ascii")
    return text, n_chars


def decode_ints(text: str) -> list[int]:
    """Inverse of :func:`encode_ints` (the page's ``geoSsgp`` script does the same).

    Parameters
    ----------
    text : str

    Returns
    -------
    list of int
    """
    out, value, shift = [], 0, 0
    for char in text:
        b = ord(char) - 63
        value |= (b & 31) << shift
        shift += 5
        if b < 0x20:
            out.append((value >> 1) ^ -(value & 1))
            value, shift = 0, 0
    return out


def encode_geometries(geoms: gpd.GeoSeries) -> list[list]:
    """Encode WGS84 points and (multi)polygons compactly for the page's decoder.

    Coordinates are integers in units of ``10**-DECIMALS`` degrees; within each ring the
    first vertex is absolute and the others are differences from the previous one; the
    closing vertex is left out. The x, y sequence of a geometry is written with
    :func:`encode_ints`.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Points, Polygons or MultiPolygons in WGS84, none empty.

    Returns
    -------
    list
        Per geometry ``["p", x, y]`` or ``["M", text, ring_lengths, rings_per_part]`` where
        ``ring_lengths`` counts vertices.
    """
    arr = np.asarray(geoms.values)
    types = shapely.get_type_id(arr)
    if not np.isin(types, (0, 3, 6)).all():
        raise ValueError("only Point, Polygon and MultiPolygon geometries can be drawn")
    scale = 10**DECIMALS
    out: list[list] = [[] for _ in range(len(arr))]
    points = np.flatnonzero(types == 0)
    if len(points):
        xy = np.rint(shapely.get_coordinates(arr[points]) * scale).astype(np.int64).tolist()
        for i, (x, y) in zip(points.tolist(), xy, strict=True):
            out[i] = ["p", x, y]
    polys = np.flatnonzero(types != 0)
    if not len(polys):
        return out
    parts, part_geom = shapely.get_parts(arr[polys], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    # Drop each ring's closing vertex (the decoder closes rings again).
    last = np.r_[coord_ring[1:] != coord_ring[:-1], True]
    coords, coord_ring = coords[~last], coord_ring[~last]
    q = np.rint(coords * scale).astype(np.int64)
    delta = np.diff(q, axis=0, prepend=q[:1])
    first = np.r_[True, coord_ring[1:] != coord_ring[:-1]]
    delta[first] = q[first]
    ring_geom = part_geom[ring_part]
    ring_len = np.bincount(coord_ring, minlength=len(rings))
    coord_geom = ring_geom[coord_ring]
    n_geom = len(polys)
    split_c = np.cumsum(np.bincount(coord_geom, minlength=n_geom))[:-1]
    split_r = np.cumsum(np.bincount(ring_geom, minlength=n_geom))[:-1]
    split_p = np.cumsum(np.bincount(part_geom, minlength=n_geom))[:-1]
    rings_per_part = np.bincount(ring_part, minlength=len(parts))
    text, n_chars = encode_ints(delta.ravel())
    char_end = np.cumsum(n_chars)
    starts = np.r_[0, char_end[2 * split_c - 1]] if len(split_c) else np.array([0])
    ends = np.r_[starts[1:], len(text)]
    c_chunks = [text[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    r_chunks = np.split(ring_len, split_r)
    p_chunks = np.split(rings_per_part, split_p)
    for i, c, r, p in zip(polys.tolist(), c_chunks, r_chunks, p_chunks, strict=True):
        out[i] = ["M", c, r.tolist(), p.tolist()]
    return out


def _polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Geometry collections (e.g. from ``make_valid``) reduced to their polygon parts."""
    arr = np.asarray(geoms.values)
    collections = np.flatnonzero(shapely.get_type_id(arr) == 7)
    if not len(collections):
        return geoms
    parts, owner = shapely.get_parts(arr[collections], return_index=True)
    parts, sub_owner = shapely.get_parts(parts, return_index=True)  # flatten multi-parts
    owner = owner[sub_owner]
    polygon = shapely.get_type_id(parts) == 3
    fixed = np.array([shapely.MultiPolygon()] * len(collections), dtype=object)
    if polygon.any():
        merged = (
            pd.Series(parts[polygon])
            .groupby(owner[polygon])
            .agg(lambda s: shapely.MultiPolygon(list(s)))
        )
        fixed[merged.index.to_numpy()] = merged.to_numpy()
    arr = arr.copy()
    arr[collections] = fixed
    return gpd.GeoSeries(arr, index=geoms.index, crs=geoms.crs)


def _compact(geoms: gpd.GeoSeries, props: pd.DataFrame) -> tuple[dict, np.ndarray]:
    """Compact feature data of the non-empty rows, for ``geoSsgp.decode`` in the page.

    ``{k: property names, v: distinct values, f: [[geometry, [value index, ...]], ...]}``:
    each distinct property value is sent once. Returns the data and the mask of rows kept.
    """
    geoms = _polygonal(geoms)
    keep = ~(geoms.is_empty | geoms.isna()).to_numpy()
    kept = props.reset_index(drop=True)[keep]
    values = kept.astype(object).where(kept.notna(), None).to_numpy()
    flat = pd.Series(values.ravel(), dtype=object)
    codes, uniques = pd.factorize(flat.map(_js_json))
    index = codes.reshape(values.shape).tolist() if values.size else [[] for _ in range(len(kept))]
    encoded = encode_geometries(geoms[keep])
    data = {
        "k": list(props.columns),
        "v": [json.loads(u) for u in uniques],
        "f": [list(f) for f in zip(encoded, index, strict=True)],
    }
    return data, keep


def _float(values: Any) -> pd.Series:
    """Numbers as float64 with NaN for missing (nullable integers included)."""
    return pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")


def _text(values: pd.Series) -> pd.Series:
    """Escaped display text; missing values become an en dash."""
    out = values.astype(object).where(values.notna(), None)
    return out.map(lambda v: "–" if v is None or v == "" else _esc(str(v))).astype(object)


def _int_text(values: pd.Series) -> pd.Series:
    return _float(values).map(lambda v: "–" if pd.isna(v) else f"{int(round(v)):,}").astype(object)


def _num_text(values: pd.Series, digits: int = 1) -> pd.Series:
    return _float(values).map(lambda v: "–" if pd.isna(v) else f"{v:,.{digits}f}").astype(object)


def _value_text(value: Any) -> str:
    """Plain (unescaped) text of a parameter or statistic value."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "none"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if abs(value) >= 1000 or value == int(value):
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_value_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return ", ".join(_value_text(v) for v in value) or "none"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m")
    return str(value)


_UNITS = (("_per_km2", " per km²"), ("_km2", " (km²)"), ("_m2", " (m²)"), ("_m", " (m)"))


def _pretty(key: str) -> str:
    """Display name of a column or parameter: ``cell_size_m`` -> ``Cell size (m)``."""
    text = str(key)
    for suffix, unit in _UNITS:
        if text.endswith(suffix):
            text = text[: -len(suffix)] + unit
            break
    text = text.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def classify(
    values: Any, k: int = 5, scheme: str = "quantiles"
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Class of each value with mapclassify, and each class's (low, high) bounds.

    Parameters
    ----------
    values : array-like
        Numbers; missing values get class -1.
    k : int
        Number of classes, reduced to the number of distinct values when there are fewer.
    scheme : {"quantiles", "fisher_jenks"}
        ``mapclassify.Quantiles`` or ``mapclassify.FisherJenks``.

    Returns
    -------
    (numpy.ndarray, list of (float, float))
        Class index per value (0 = lowest) and the bounds of the classes in use; a class
        holds values above the previous class's upper bound up to its own.
    """
    schemes = {"quantiles": mapclassify.Quantiles, "fisher_jenks": mapclassify.FisherJenks}
    if scheme not in schemes:
        raise ValueError(f"scheme must be one of {sorted(schemes)}, not {scheme!r}")
    y = _float(values).to_numpy()
    ok = np.isfinite(y)
    cls = np.full(len(y), -1, dtype=int)
    if not ok.any():
        return cls, []
    k = max(1, min(int(k), len(np.unique(y[ok]))))
    if k == 1:
        cls[ok] = 0
        return cls, [(float(y[ok].min()), float(y[ok].max()))]
    classifier = schemes[scheme](y[ok], k=k)
    bins = np.asarray(classifier.bins, dtype=float)
    lows = np.r_[y[ok].min(), bins[:-1]]
    used, dense = np.unique(np.asarray(classifier.yb), return_inverse=True)
    cls[ok] = dense
    return cls, [(float(lows[c]), float(bins[c])) for c in used]


def _range_label(low: float, high: float, digits: int) -> str:
    return f"{low:,.{digits}f} – {high:,.{digits}f}"


def _layer_name(name: str) -> str:
    """Layer-control names are inserted with innerHTML by Leaflet: escape them."""
    return _esc(str(name))


def _ramp(name: str, n: int) -> list[str]:
    """``n`` colours of a ColorBrewer ramp (at least 3 are drawn, the darkest kept)."""
    return color_brewer(name, max(3, n))[-n:] if n else []


def _vector(
    fmap: folium.Map,
    data_js: str,
    spec: dict,
    name: str,
    layer_id: str,
    kind: str,
    show: bool = True,
    control: bool = True,
) -> _VectorLayer:
    spec = {
        "highlight": None,
        "tooltip": None,
        "popup": None,
        "radius": 8,
        "interactive": True,
        **spec,
    }
    layer = _VectorLayer(data_js, spec, name=_layer_name(name), show=show, control=control)
    layer.add_to(fmap)
    _register(fmap, layer, layer_id, kind)
    return layer


def _inline_data(geoms: gpd.GeoSeries, props: pd.DataFrame) -> tuple[str, np.ndarray]:
    data, keep = _compact(geoms, props)
    return f"window.geoSsgp.decode({_js_json(data)})", keep


# --------------------------------------------------------------------------------------------
# Base map
# --------------------------------------------------------------------------------------------


def _tile_layer(tiles: str | folium.TileLayer, tiles_attr: str | None) -> folium.TileLayer:
    """A base-map tile layer from a Folium/xyzservices name or a URL template.

    A URL template takes its attribution from ``tiles_attr`` or from ``"URL|attribution"``.
    """
    if isinstance(tiles, folium.TileLayer):
        return tiles
    url, _, attr = str(tiles).partition("|")
    attr = attr or tiles_attr
    if "{z}" in url and not attr:
        raise ValueError(
            f"tile URL template {url!r} needs an attribution: pass tiles_attr= or 'URL|attribution'"
        )
    return folium.TileLayer(url, attr=attr, name="Base map", control=False)


def _district(pack: AreaPack) -> gpd.GeoDataFrame:
    district = load_layer(pack, "district")
    mine = district[district["code"].isin(pack.district_codes)]
    return mine if len(mine) else district


def _fit(fmap: folium.Map, bounds: list[list[float]]) -> None:
    """Fit the map to bounds at once (no zoom animation for page scripts to race with)."""
    fit = folium.map.FitBounds(bounds)
    fit.options["animate"] = False
    fmap.add_child(fit, name="geo_ssgp_fit_bounds")


def _bounds(geoms: gpd.GeoSeries) -> list[list[float]]:
    west, south, east, north = geoms.to_crs(CRS_WGS84).total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]


def _outline(fmap: folium.Map, geoms: gpd.GeoSeries, layer_id: str) -> _VectorLayer:
    """A non-interactive dashed outline, not in the layer control."""
    data_js, keep = _inline_data(_wgs84(geoms), pd.DataFrame(index=range(len(geoms))))
    style = {"color": "#222", "weight": 2.5, "fill": False, "dashArray": "6 4"}
    spec = {"styles": [style], "classes": [0] * int(keep.sum()), "interactive": False}
    return _vector(fmap, data_js, spec, layer_id, layer_id, "outline", control=False)


def base_map(
    pack: AreaPack,
    tiles: str | folium.TileLayer | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    tiles_attr: str | None = None,
    **kw: Any,
) -> folium.Map:
    """An empty map fitted to the pack's district, with local assets and data attribution.

    Parameters
    ----------
    pack : AreaPack
    tiles : str or folium.TileLayer, optional
        ``None`` draws no base map (works offline); otherwise a Folium/xyzservices tile name
        (``"OpenStreetMap"``, ``"CartoDB Positron"``) or a URL template.
    asset_base : str
        URL prefix of the vendor folder.
    tiles_attr : str, optional
        Attribution of a URL-template tile layer (or pass ``"URL|attribution"`` as ``tiles``).
    **kw
        Passed to ``folium.Map`` (e.g. ``width``, ``height``, ``zoom_start``).

    Returns
    -------
    folium.Map
        With the district outline (layer id ``"district"``), ``prefer_canvas=True``, the
        ONS/OS and police.uk attribution lines and the ``window.geoSsgp`` script.
    """
    district = _district(pack)
    (south, west), (north, east) = _bounds(district.geometry)
    options = {"zoom_start": 12, "control_scale": True, "prefer_canvas": True, **kw}
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, **options)
    _ensure_setup(fmap)
    _state(fmap)["asset_base"] = asset_base.rstrip("/")
    if tiles:
        _tile_layer(tiles, tiles_attr).add_to(fmap)
    _fit(fmap, [[south, west], [north, east]])
    _outline(fmap, district.geometry, "district")
    _attribute(fmap, "ons", "police")
    return use_local_assets(fmap, asset_base)


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------

_AREA_TITLES = {
    "rate_per_1000": "Incidents per 1,000 residents",
    "count": "Incidents",
    "imd_decile": "IMD 2019 decile (1 = most deprived 10%)",
    "share_of_district": "Share of district incidents",
}
_AREA_TIP = (
    ["name", "ward", "count", "rate", "imd"],
    ["LSOA", "Ward", "Incidents", "Per 1,000 residents", "IMD decile"],
)
_AREA_POPUP = (
    ["name", "code", "ward", "count", "population", "rate", "share", "imd", "imd_rank"],
    [
        "LSOA",
        "Code",
        "Ward",
        "Incidents",
        "Residents",
        "Per 1,000 residents",
        "Share of district",
        "IMD decile",
        "IMD rank",
    ],
)


def area_level(area_stats: pd.DataFrame, default: str | None = None) -> str | None:
    """Geography of an area table: ``"lsoa21"``, ``"lsoa11"``, ``"ward"`` or ``default``.

    Read from ``attrs["level"]``, ``attrs["area_stats"]["level"]`` (set by
    ``geo_ssgp.areas.area_stats``) or the ``lsoa_vintage`` column.

    Parameters
    ----------
    area_stats : pandas.DataFrame
    default : str, optional

    Returns
    -------
    str or None
    """
    attrs = area_stats.attrs or {}
    level = attrs.get("level") or (attrs.get("area_stats") or {}).get("level")
    if level:
        return str(level)
    if "lsoa_vintage" in area_stats and len(area_stats):
        vintage = str(area_stats["lsoa_vintage"].iloc[0])
        return {"2011": "lsoa11", "2021": "lsoa21"}.get(vintage, default)
    return default


def _area_fields(fields: tuple[list[str], list[str]], unit: str) -> tuple[list[str], list[str]]:
    """Tooltip/popup fields for LSOAs, or for wards (no ward row, "Ward" as the name)."""
    if unit == "LSOA":
        return fields
    pairs = [(f, unit if a == "LSOA" else a) for f, a in zip(*fields, strict=True) if f != "ward"]
    return [f for f, _ in pairs], [a for _, a in pairs]


def _area_props(area_stats: pd.DataFrame) -> pd.DataFrame:
    """Display properties (escaped text) of LSOA features."""

    def col(name: str) -> pd.Series:
        if name in area_stats:
            return area_stats[name]
        return pd.Series(np.nan, index=area_stats.index)

    share = _float(col("share_of_district"))
    share_pct = share * 100 if share.max(skipna=True) <= 1 else share
    pct = _num_text(share_pct, 1)
    decile = _int_text(col("imd_decile"))
    return pd.DataFrame(
        {
            "code": _text(col("code")),
            "name": _text(col("name")),
            "ward": _text(col("ward_nm")),
            "count": _int_text(col("count")),
            "population": _int_text(col("population")),
            "rate": _num_text(col("rate_per_1000"), 1),
            "share": pct.where(share_pct.isna(), pct + "%"),
            "imd": decile.where(decile == "–", decile + " of 10"),
            "imd_rank": _int_text(col("imd_rank")),
        }
    ).reset_index(drop=True)


def _area_classes(
    values: pd.Series, column: str, k: int, scheme: str
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Class per area (-1 = no data) and legend swatches (colour, label)."""
    if column == "imd_decile":
        num = _float(values).to_numpy()
        ok = (num >= 1) & (num <= 10)
        cls = np.where(ok, np.nan_to_num(num).astype(int) - 1, -1)
        ends = {1: " (most deprived)", 10: " (least deprived)"}
        labels = [f"{d}{ends.get(d, '')}" for d in range(1, 11)]
        swatches = list(zip(color_brewer("RdYlBu", 10), labels, strict=True))
    else:
        cls, bounds = classify(values, k, scheme)
        digits = 0 if column == "count" else 1
        swatches = [
            (c, _range_label(lo, hi, digits))
            for c, (lo, hi) in zip(_ramp("YlOrRd", len(bounds)), bounds, strict=True)
        ]
    return cls, swatches


def _shared_area_data(fmap: folium.Map, area_stats: gpd.GeoDataFrame) -> tuple[str, np.ndarray]:
    """Add (once per map) the LSOA polygons and properties that all area layers share."""
    geoms = area_stats.geometry
    digest = hashlib.sha1(b"".join(shapely.to_wkb(np.asarray(geoms.values))))
    digest.update(pd.util.hash_pandas_object(_area_props(area_stats), index=False).to_numpy())
    key = f"areas-{digest.hexdigest()[:12]}"
    shared = _state(fmap)["shared"]
    if key not in shared:
        data, keep = _compact(_wgs84(geoms), _area_props(area_stats))
        fmap.add_child(_Data(key, data), name=f"data_{key}")
        shared[key] = keep
    return f"window.geoSsgp.data[{_js_json(key)}]", shared[key]


def add_area_layer(
    fmap: folium.Map,
    area_stats: gpd.GeoDataFrame,
    column: str = "rate_per_1000",
    name: str | None = None,
    show: bool = True,
    k: int = 5,
    scheme: str = "quantiles",
    layer_id: str | None = None,
    level: str | None = None,
) -> _VectorLayer:
    """LSOA choropleth with mapclassify classes, a legend, tooltips and popups.

    Layers drawn from the same ``area_stats`` share one copy of the polygons in the page.

    Parameters
    ----------
    fmap : folium.Map
    area_stats : geopandas.GeoDataFrame
        Per-LSOA table from ``geo_ssgp.areas.area_stats`` (EPSG:27700): ``code``, ``name``,
        ``geometry`` and ``column``; ``ward_nm``, ``count``, ``population``,
        ``rate_per_1000``, ``share_of_district``, ``imd_rank``, ``imd_decile`` are shown
        when present.
    column : str
        Column that colours the areas. ``imd_decile`` uses the ten fixed deciles.
    name : str, optional
        Name in the layer control.
    show : bool
        Whether the layer is on when the page opens.
    k : int
        Number of classes (reduced when there are fewer distinct values).
    scheme : {"quantiles", "fisher_jenks"}
        mapclassify scheme.
    layer_id : str, optional
        Key in ``window.geoSsgp.layers``; default ``"areas:<column>"``.
    level : {"lsoa21", "lsoa11"}, optional
        LSOA vintage of the polygons; ``lsoa11`` adds the CC BY line of the LSOA 2011
        boundaries. Defaults to :func:`area_level` of ``area_stats``.

    Returns
    -------
    folium.map.Layer
        The layer; each feature's ``code`` property is its LSOA code.
    """
    missing = [c for c in ("code", "name", column) if c not in area_stats]
    if missing:
        raise ValueError(f"area_stats lacks column(s) {missing}")
    _ensure_setup(fmap)
    cls, swatches = _area_classes(area_stats[column], column, k, scheme)
    base = {"fillOpacity": 0.65, "color": "#555", "weight": 0.6}
    styles = [{**base, "fillColor": c} for c, _ in swatches] + [{**base, "fillColor": _NO_DATA}]
    if (cls < 0).any():
        swatches = [*swatches, (_NO_DATA, "no data")]
    data_js, keep = _shared_area_data(fmap, area_stats)
    classes = np.where(cls < 0, len(styles) - 1, cls)[keep].tolist()
    title = _AREA_TITLES.get(column, _pretty(column))
    level = level or area_level(area_stats)
    unit = "Ward" if level == "ward" else "LSOA"
    tip, popup = _area_fields(_AREA_TIP, unit), _area_fields(_AREA_POPUP, unit)
    spec = {
        "styles": styles,
        "classes": classes,
        "highlight": {"weight": 2.5, "color": "#000"},
        "tooltip": {"fields": tip[0], "aliases": tip[1], "options": {"sticky": True}},
        "popup": {"fields": popup[0], "aliases": popup[1]},
    }
    layer = _vector(
        fmap,
        data_js,
        spec,
        name or f"{unit}: {title}",
        layer_id or f"areas:{column}",
        "areas",
        show=show,
    )
    note = "IMD 2019 deciles" if column == "imd_decile" else f"{scheme.replace('_', ' ')} classes"
    _legend(fmap, layer, _legend_spec(title, swatches, notes=[f"{unit}s, {note}"]))
    _attribute(fmap, "ons")
    if level == "lsoa11":
        _attribute(fmap, "lsoa11")
    if "imd_decile" in area_stats and area_stats["imd_decile"].notna().any():
        _attribute(fmap, "imd")
    return layer


def add_ward_layer(
    fmap: folium.Map,
    wards: gpd.GeoDataFrame,
    name: str = "Wards",
    show: bool = True,
    labels: bool = True,
    layer_id: str = "wards",
) -> _VectorLayer:
    """Ward outlines with their names as permanent labels.

    Parameters
    ----------
    fmap : folium.Map
    wards : geopandas.GeoDataFrame
        ``code``, ``name``, ``geometry`` (EPSG:27700), e.g. ``load_layer(pack, "ward")``.
    name : str
        Name in the layer control.
    show : bool
        Whether the layer is on when the page opens.
    labels : bool
        Permanent name labels at each ward's centre; otherwise a hover tooltip.
    layer_id : str
        Key in ``window.geoSsgp.layers``.

    Returns
    -------
    folium.map.Layer
    """
    _ensure_setup(fmap)
    props = pd.DataFrame({"code": _text(wards["code"]), "name": _text(wards["name"])})
    data_js, keep = _inline_data(_wgs84(wards.geometry), props)
    options = (
        {"permanent": True, "direction": "center", "className": "geo-ssgp-label"}
        if labels
        else {"sticky": True}
    )
    spec = {
        "styles": [{"color": "#333", "weight": 1.8, "fill": False}],
        "classes": [0] * int(keep.sum()),
        "tooltip": {"fields": ["name"], "aliases": None, "options": options},
        # Outlines with permanent labels must not take clicks meant for the areas below
        # (Leaflet's canvas renderer hit-tests unfilled polygons by their whole area).
        "interactive": not labels,
    }
    layer = _vector(fmap, data_js, spec, name, layer_id, "wards", show=show)
    _attribute(fmap, "ons")
    return layer


#: Hotspot columns shown under fixed names; every other column is a method statistic.
_HOTSPOT_FIXED = (
    "label",
    "rank",
    "score",
    "n_incidents",
    "area_m2",
    "snap_points",
    "top_snap_share",
    "single_snap_point",
)
#: Internal identifiers not shown in popups.
_HOTSPOT_HIDDEN = ("cluster_id", "cell_id")


#: Parameters always shown in a hotspot legend (the others are under "All parameters").
_KEY_PARAMETER = re.compile(
    r"^(method|cell_size(_m)?|bandwidth(_m)?|neighbou?rs?(_rule)?|p_adjust(ment)?|alpha"
    r"|period|filters|min_cluster_size|eps(_m)?|min_samples|area_level|coverage)$",
    re.IGNORECASE,
)


def _repeats(values: pd.Series, frame: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether a statistic column only repeats one of ``columns`` (e.g. ``count``)."""
    for other in columns:
        if (
            other in frame
            and len(frame)
            and bool((values.astype(object) == frame[other].astype(object)).all())
        ):
            return True
    return False


def _hotspot_props(hotspots: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Display properties of hotspot features, popup fields and aliases."""
    n = len(hotspots)

    def col(name: str) -> pd.Series:
        if name in hotspots:
            return hotspots[name]
        return pd.Series([None] * n, index=hotspots.index, dtype=object)

    single = col("single_snap_point").astype(object).where(col("single_snap_point").notna(), False)
    single = single.astype(bool)
    props = {
        "label": _text(col("label")),
        "rank": _int_text(col("rank")),
        "score": col("score").map(_value_text).map(_esc),
        "incidents": _int_text(col("n_incidents")),
        "area": _num_text(_float(col("area_m2")) / 10_000, 2) + " ha",
        "snap_points": _int_text(col("snap_points")),
        "top_snap": _num_text(_float(col("top_snap_share")) * 100, 0) + "%",
        "snap": single.map({True: "yes (not an exact address)", False: "no"}),
    }
    props["top_snap"] = props["top_snap"].replace("–%", "–")
    aliases = [
        "Hotspot",
        "Rank",
        "Score",
        "Incidents",
        "Area",
        "Snap points",
        "Busiest snap point",
        "Single snap point",
    ]
    geometry = hotspots.geometry.name if isinstance(hotspots, gpd.GeoDataFrame) else "geometry"
    stats = [
        c
        for c in hotspots.columns
        if c not in (*_HOTSPOT_FIXED, *_HOTSPOT_HIDDEN, geometry)
        and not _repeats(hotspots[c], hotspots, ("score", "n_incidents"))
    ]
    for i, stat in enumerate(stats):
        props[f"s{i}"] = hotspots[stat].map(_value_text).map(_esc)
        aliases.append(_esc(_pretty(stat)))
    out = pd.DataFrame(props).reset_index(drop=True)
    return out, list(out.columns), aliases


def add_hotspot_layer(
    fmap: folium.Map,
    layer: Any,
    name: str | None = None,
    show: bool = False,
    layer_id: str | None = None,
    color: str | None = None,
) -> _VectorLayer:
    """Hotspots of one method, with popups of their statistics and a legend of parameters.

    Parameters
    ----------
    fmap : folium.Map
    layer : geo_ssgp.hotspots.layer.HotspotLayer
        Any object with ``method`` (str), ``parameters`` (dict: method, cell size, bandwidth,
        neighbour rule, p adjustment, period, filters) and ``hotspots`` (GeoDataFrame,
        EPSG:27700, with ``rank``, ``score``, ``n_incidents``, ``area_m2``, ``snap_points``,
        ``single_snap_point``, ``label`` and method statistics in further columns).
    name : str, optional
        Name in the layer control; default ``"Hotspots: <method>"``.
    show : bool
        Whether the layer is on when the page opens.
    layer_id : str, optional
        Key in ``window.geoSsgp.layers``; default ``"hotspots:<method>"``.
    color : str, optional
        Outline and fill colour; by default one per hotspot layer on the map.

    Returns
    -------
    folium.map.Layer
        Polygons are filled cells or areas; point hotspots are circle markers. Hotspots that
        sit on a single police.uk snap point are drawn dashed and say so in their popup.
    """
    state = _ensure_setup(fmap)
    method = str(getattr(layer, "method", "hotspots"))
    hotspots = layer.hotspots
    params = dict(getattr(layer, "parameters", None) or {})
    color = color or _HOTSPOT_COLOURS[state["hotspot_layers"] % len(_HOTSPOT_COLOURS)]
    state["hotspot_layers"] += 1
    props, fields, aliases = _hotspot_props(hotspots)
    single = props["snap"].str.startswith("yes").to_numpy()
    data_js, keep = _inline_data(_wgs84(hotspots.geometry), props)
    style = {"color": color, "fillColor": color, "weight": 2, "fillOpacity": 0.35}
    spec = {
        "styles": [style, {**style, "dashArray": "4 3"}],
        "classes": single[keep].astype(int).tolist(),
        "highlight": {"weight": 4, "fillOpacity": 0.55},
        "tooltip": {
            "fields": ["label", "rank"],
            "aliases": ["Hotspot", "Rank"],
            "options": {"sticky": True},
        },
        "popup": {"fields": fields, "aliases": aliases},
    }
    title = name or f"Hotspots: {method}"
    geo = _vector(
        fmap, data_js, spec, title, layer_id or f"hotspots:{method}", "hotspots", show=show
    )
    key = [k for k in params if _KEY_PARAMETER.match(str(k))]
    table = {_pretty(k): _value_text(params[k]) for k in key}
    if not any(str(k).lower() == "method" for k in params):
        table = {"Method": method, **table}
    more = {_pretty(k): _value_text(v) for k, v in params.items() if k not in key}
    notes = [f"{len(hotspots):,} hotspots" if len(hotspots) else "No hotspots found"]
    if single.any():
        notes.append(f"Dashed: all incidents at one {SNAP_POINT_NOTE}.")
    _legend(fmap, geo, _legend_spec(title, [(color, "hotspot")], table, notes, more))
    _attribute(fmap, "police")
    return geo


def add_surface_layer(
    fmap: folium.Map,
    surface: gpd.GeoDataFrame,
    column: str,
    name: str = "KDE surface",
    show: bool = False,
    k: int = 5,
    scheme: str = "quantiles",
    layer_id: str = "surface",
) -> _VectorLayer:
    """A gridded surface (e.g. KDE density) as coloured cells, merged per class.

    Only cells with a value above zero are drawn; cells of the same class are dissolved into
    one feature, which keeps the page small.

    Parameters
    ----------
    fmap : folium.Map
    surface : geopandas.GeoDataFrame
        Grid cells (EPSG:27700) with a numeric ``column``.
    column : str
        Value column.
    name : str
        Name in the layer control.
    show : bool
        Whether the layer is on when the page opens.
    k : int
        Number of classes.
    scheme : {"quantiles", "fisher_jenks"}
        mapclassify scheme (over the non-zero cells).
    layer_id : str
        Key in ``window.geoSsgp.layers``.

    Returns
    -------
    folium.map.Layer
    """
    if column not in surface:
        raise ValueError(f"surface lacks column {column!r}")
    _ensure_setup(fmap)
    values = _float(surface[column]).to_numpy()
    positive = values > 0
    cells = gpd.GeoDataFrame(
        {"cls": classify(values[positive], k, scheme)[0]},
        geometry=surface.geometry.to_numpy()[positive],
        crs=surface.crs or CRS_BNG,
    )
    bounds = classify(values[positive], k, scheme)[1]
    merged = cells.dissolve(by="cls").reset_index()
    colours = _ramp("PuBuGn", len(bounds))
    digits = 3 if bounds and bounds[-1][1] < 10 else 1
    labels = [_range_label(lo, hi, digits) for lo, hi in bounds]
    props = pd.DataFrame({"value": [_esc(labels[c]) for c in merged["cls"]]})
    # Dissolved cells keep every cell corner; a tiny tolerance drops only collinear ones.
    data_js, keep = _inline_data(_wgs84(merged.geometry, simplify=0.5), props)
    spec = {
        "styles": [{"fillColor": c, "color": c, "fillOpacity": 0.55, "weight": 0} for c in colours],
        "classes": merged["cls"].to_numpy()[keep].astype(int).tolist(),
        "tooltip": {
            "fields": ["value"],
            "aliases": [_esc(_pretty(column))],
            "options": {"sticky": True},
        },
    }
    layer = _vector(fmap, data_js, spec, name, layer_id, "surface", show=show)
    swatches = list(zip(colours, labels, strict=True))
    content = _legend_spec(
        f"{name}: {_pretty(column)}", swatches, notes=["Cells with a value of zero are not drawn."]
    )
    _legend(fmap, layer, content)
    _attribute(fmap, "police")
    return layer


class _SnapPointCluster(MarkerCluster):
    """Clustered circle markers, one per snap point, built in the page from columnar data.

    See :func:`snap_point_rows` for the data. Cluster icons show the number of incidents,
    not of points. Popups are built on first opening from escaped text.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
          var d = {{ this.data_js }}, S = {{ this.scale }};
          var group = L.markerClusterGroup({{ this.options|tojavascript }});
          group.options.iconCreateFunction = function (cluster) {
            var n = 0;
            cluster.getAllChildMarkers().forEach(function (m) { n += m.options.n; });
            var size = n < 50 ? "small" : n < 500 ? "medium" : "large";
            return L.divIcon({html: "<div><span>" + n + "</span></div>",
                              className: "marker-cluster marker-cluster-" + size,
                              iconSize: L.point(40, 40)});
          };
          var exact = {};
          d.exact.forEach(function (i) { exact[i] = true; });
          var popup = function (i) {
            var rows = [], re = /([a-zA-Z])(\\d+)/g, r;
            while ((r = re.exec(d.t[i])) !== null) {
              var c = r[1].charCodeAt(0);
              rows.push(d.types[c >= 97 ? c - 97 : c - 39] + ": " + r[2]);
            }
            var span = d.spans[d.m[i]], m0 = d.months[span[0]], m1 = d.months[span[1]];
            return "<b>" + d.prefix + d.loc[i] + "</b><br>" + d.n[i]
              + (d.n[i] === 1 ? " incident, " : " incidents, ")
              + (m0 === m1 ? m0 : m0 + " \\u2013 " + m1)
              + "<br>" + rows.join("<br>") + (exact[i] ? "" : "<br><i>" + d.note + "</i>");
          };
          var dlat = window.geoSsgp.ints(d.lat), dlon = window.geoSsgp.ints(d.lon);
          var lat = 0, markers = d.n.map(function (n, i) {
            lat += dlat[i];
            var m = L.circleMarker([lat / S, (d.lon0 + dlon[i]) / S], {
              n: n, radius: Math.min(4 + Math.sqrt(n), 14), color: "#08306b", weight: 1,
              fillColor: "#2b8cbe", fillOpacity: 0.8
            });
            m.bindPopup(function () { return popup(i); });
            return m;
          });
          group.addLayers(markers);
          return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, name: str, show: bool, **options: Any):
        super().__init__(name=name, overlay=True, control=True, show=show, **options)
        self._name = "SnapPointCluster"
        self.data = data
        self.data_js = _js_json(data)
        self.scale = 10**DECIMALS


def snap_point_rows(incidents: gpd.GeoDataFrame) -> dict:
    """Incidents grouped by identical location: one entry per snap point, in columns.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents (EPSG:27700) with ``crime_type``, ``location_text``, ``month`` and
        optionally ``snap_point``.

    Returns
    -------
    dict
        Columns over points sorted south to north: ``lat`` (first absolute, then differences,
        in ``10**-DECIMALS`` degrees) and ``lon`` (offsets from ``lon0``), both written with
        :func:`encode_ints`, ``n`` (incidents),
        ``loc`` (most common location text, escaped, without the common ``prefix`` such as
        ``"On or near "``), ``t`` (incidents per crime type, largest first, as type letter
        ``a``, ``b``, ... indexing ``types`` followed by the count: ``"a12c3"``), ``m`` (index
        into ``spans`` of ``[first, last]`` month indexes into ``months``); ``exact`` lists
        the points whose incidents are not all police.uk snap points; ``note`` is the
        snap-point caveat. All text is HTML-escaped.
    """
    pts = incidents[~(incidents.geometry.is_empty | incidents.geometry.isna())]
    pts = pts.to_crs(CRS_BNG) if pts.crs is not None else pts
    snap = (
        pts["snap_point"].astype(object).where(pts["snap_point"].notna(), False).astype(bool)
        if "snap_point" in pts
        else pd.Series(False, index=pts.index)
    )
    frame = pd.DataFrame(
        {
            "x": pts.geometry.x.to_numpy(),
            "y": pts.geometry.y.to_numpy(),
            "type": pts["crime_type"].astype(str).to_numpy(),
            "loc": pts["location_text"]
            .astype(object)
            .where(pts["location_text"].notna(), "")
            .astype(str)
            .to_numpy(),
            "month": pd.to_datetime(pts["month"]).dt.strftime("%Y-%m").to_numpy(),
            "snap": snap.to_numpy(),
        }
    )
    types = sorted(frame["type"].unique())
    months = sorted(frame["month"].unique())
    frame["t"] = pd.Categorical(frame["type"], categories=types).codes
    frame["m"] = pd.Categorical(frame["month"], categories=months).codes
    points = frame.groupby(["x", "y"]).agg(
        n=("t", "size"), m0=("m", "min"), m1=("m", "max"), snap=("snap", "all")
    )
    # Most common location text per point (ties: alphabetical).
    locs = frame.groupby(["x", "y", "loc"]).size().rename("k").reset_index()
    locs = locs.sort_values(["k", "loc"], ascending=[False, True]).drop_duplicates(["x", "y"])
    points = points.join(locs.set_index(["x", "y"])["loc"])
    # Incidents per crime type at each point, largest first, as "a12c3" (type letter, count).
    by_type = frame.groupby(["x", "y", "t"]).size().rename("k").reset_index()
    by_type = by_type.sort_values(["k", "t"], ascending=[False, True], ignore_index=True)
    by_type["code"] = _type_letters(by_type["t"].to_numpy()) + by_type["k"].astype(str)
    points = points.join(by_type.groupby(["x", "y"])["code"].agg("".join))
    points = points.reset_index()
    lonlat = gpd.GeoSeries(gpd.points_from_xy(points["x"], points["y"]), crs=CRS_BNG)
    lonlat = lonlat.to_crs(CRS_WGS84)
    scale = 10**DECIMALS
    lat = np.rint(lonlat.y.to_numpy() * scale).astype(np.int64)
    lon = np.rint(lonlat.x.to_numpy() * scale).astype(np.int64)
    order = np.argsort(lat, kind="stable")
    points, lat, lon = points.iloc[order].reset_index(drop=True), lat[order], lon[order]
    lon0 = int(lon.min()) if len(lon) else 0
    spans, span_index = np.unique(
        points[["m0", "m1"]].to_numpy(dtype=int), axis=0, return_inverse=True
    )
    loc = points["loc"].astype(str)
    prefix = "On or near "
    if not (len(loc) and loc.str.startswith(prefix).all()):
        prefix = ""
    loc = loc.str.slice(len(prefix)).map(_esc).replace("", "location not given")
    return {
        "lat": encode_ints(np.diff(lat, prepend=0))[0],
        "lon": encode_ints(lon - lon0)[0],
        "lon0": lon0,
        "n": points["n"].astype(int).tolist(),
        "loc": loc.tolist(),
        "prefix": _esc(prefix),
        "t": points["code"].tolist(),
        "m": np.asarray(span_index).ravel().astype(int).tolist(),
        "spans": spans.reshape(-1, 2).tolist(),
        "exact": np.flatnonzero(~points["snap"].to_numpy(dtype=bool)).tolist(),
        "types": [_esc(t) for t in types],
        "months": [pd.Timestamp(m).strftime("%b %Y") for m in months],
        "note": _esc(SNAP_POINT_NOTE),
    }


_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), dtype=object)


def _type_letters(codes: np.ndarray) -> pd.Series:
    """Letter per crime-type index (a-z, A-Z) for the compact per-point breakdown."""
    if len(codes) and codes.max() >= len(_LETTERS):
        raise ValueError(f"at most {len(_LETTERS)} crime types can be shown on one map")
    return pd.Series(_LETTERS[codes], dtype=object)


def add_incident_layer(
    fmap: folium.Map,
    incidents: gpd.GeoDataFrame,
    name: str = "Incidents",
    show: bool = False,
    layer_id: str = "incidents",
) -> folium.map.Layer:
    """Incidents as clustered markers, one per snap point with its count and location text.

    Police.uk publishes incidents at anonymised snap points, so many share coordinates;
    sending one marker per distinct location keeps the page small and fast for tens of
    thousands of incidents.

    Parameters
    ----------
    fmap : folium.Map
    incidents : geopandas.GeoDataFrame
        Incidents (EPSG:27700) with ``crime_type``, ``location_text``, ``month``.
    name : str
        Name in the layer control.
    show : bool
        Whether the layer is on when the page opens.
    layer_id : str
        Key in ``window.geoSsgp.layers``.

    Returns
    -------
    folium.map.Layer
        A ``leaflet.markercluster`` group.
    """
    _ensure_setup(fmap)
    data = snap_point_rows(incidents)
    layer = _SnapPointCluster(
        data, name=_layer_name(name), show=show, chunked_loading=True, max_cluster_radius=50
    )
    layer.add_to(fmap)
    _register(fmap, layer, layer_id, "incidents")
    total, points = sum(data["n"]), len(data["n"])
    content = _legend_spec(
        name,
        [("#2b8cbe", f"{total:,} incidents at {points:,} locations")],
        notes=["Locations are police.uk snap points: anonymised map points, not addresses."],
    )
    _legend(fmap, layer, content)
    use_local_assets(fmap, _state(fmap)["asset_base"])
    _attribute(fmap, "police")
    return layer


class _DrawHook(MacroElement):
    """Keeps one drawn polygon and passes it to ``window.geoSsgp.onDraw``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, items) {
          var g = window.geoSsgp;
          g.register({{ this.layer_id_js }}, items, "draw");
          g.drawnItems = items;
          g.drawControl = {{ this.draw_name }};
          g.drawHandler = {{ this.draw_name }}._toolbars.draw._modes.polygon.handler;
          g.startDrawing = function () { g.drawHandler.enable(); };
          g.clearDrawing = function () { items.clearLayers(); g.drawn(null); };
          map.on(L.Draw.Event.CREATED, function (e) {
            items.eachLayer(function (l) { if (l !== e.layer) { items.removeLayer(l); } });
            g.drawn(e.layer.toGeoJSON());
          });
          map.on(L.Draw.Event.EDITED, function (e) {
            e.layers.eachLayer(function (l) { g.drawn(l.toGeoJSON()); });
          });
          map.on(L.Draw.Event.DELETED, function () {
            if (items.getLayers().length === 0) { g.drawn(null); }
          });
        })({{ this.map_name }}, drawnItems_{{ this.draw_name }});
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str, draw_name: str, layer_id: str):
        super().__init__()
        self._name = "GeoSsgpDrawHook"
        self.map_name = map_name
        self.draw_name = draw_name
        self.layer_id = layer_id
        self.layer_id_js = _js_json(layer_id)


def add_draw_control(fmap: folium.Map, layer_id: str = "draw") -> Draw:
    """A polygon drawing tool whose result reaches page scripts via ``geoSsgp.onDraw``.

    Parameters
    ----------
    fmap : folium.Map
    layer_id : str
        Key of the drawn-shapes group in ``window.geoSsgp.layers``.

    Returns
    -------
    folium.plugins.Draw
        Polygon only; one polygon is kept (a new one replaces it).
    """
    _ensure_setup(fmap)
    off = dict.fromkeys(("polyline", "rectangle", "circle", "marker", "circlemarker"), False)
    shape = {"color": "#1d3fbb", "weight": 2, "fillOpacity": 0.1}
    draw = Draw(
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            **off,
            "polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": shape},
        },
        edit_options={"poly": {"allowIntersection": False}},
    )
    draw.add_to(fmap)
    fmap.add_child(_DrawHook(fmap.get_name(), draw.get_name(), layer_id))
    use_local_assets(fmap, _state(fmap)["asset_base"])
    return draw


# --------------------------------------------------------------------------------------------
# Whole maps
# --------------------------------------------------------------------------------------------


def _surface_column(surface: gpd.GeoDataFrame) -> str:
    for name in ("score", "density_per_km2", "density"):
        if name in surface:
            return name
    numeric = surface.drop(columns=surface.geometry.name).select_dtypes("number").columns
    if not len(numeric):
        raise ValueError("surface has no numeric column to draw")
    return str(numeric[0])


def build_analyst_map(
    pack: AreaPack,
    area_stats: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    hotspot_layers: Mapping[str, Any],
    default_method: str,
    incidents: gpd.GeoDataFrame | None = None,
    surface: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    surface_column: str | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
) -> folium.Map:
    """The analyst map: LSOA choropleths, hotspot layers, surface, incidents and wards.

    Parameters
    ----------
    pack : AreaPack
    area_stats : geopandas.GeoDataFrame
        Per-LSOA statistics (see :func:`add_area_layer`).
    wards : geopandas.GeoDataFrame
        Ward polygons (``code``, ``name``).
    hotspot_layers : mapping of str to HotspotLayer
        Hotspot layers by method key (e.g. ``"gistar"``, ``"kde"``, ``"hdbscan"``).
    default_method : str
        Key of the hotspot layer shown when the page opens.
    incidents : geopandas.GeoDataFrame, optional
        Incidents, drawn clustered by snap point (off by default).
    surface : geopandas.GeoDataFrame, optional
        KDE density grid (off by default).
    tiles : str, optional
        Base-map tiles; ``None`` draws none.
    surface_column : str, optional
        Value column of ``surface``; default ``score`` (a hotspot layer's surface),
        ``density_per_km2``, ``density`` or the first numeric column.
    asset_base : str
        URL prefix of the vendor folder.

    Returns
    -------
    folium.Map
        With an expanded layer control listing :data:`ANALYST_LAYER_NAMES` (count, rate,
        IMD decile choropleths, rate on), one ``"Hotspots: <key>"`` per hotspot layer
        (``default_method`` on), ``"KDE surface"`` and ``"Incidents"`` (off) and
        ``"Wards"`` (on).
    """
    if hotspot_layers and default_method not in hotspot_layers:
        raise ValueError(
            f"default_method {default_method!r} is not one of {sorted(hotspot_layers)}"
        )
    fmap = base_map(pack, tiles=tiles, asset_base=asset_base)
    level = area_level(area_stats, pack.primary_lsoa)
    for column, name in ANALYST_LAYER_NAMES.items():
        if column == "imd_decile" and not (
            column in area_stats and area_stats[column].notna().any()
        ):
            continue
        add_area_layer(
            fmap, area_stats, column, name=name, show=column == "rate_per_1000", level=level
        )
    if surface is not None:
        add_surface_layer(fmap, surface, surface_column or _surface_column(surface))
    for key, layer in hotspot_layers.items():
        add_hotspot_layer(
            fmap,
            layer,
            name=f"Hotspots: {key}",
            show=key == default_method,
            layer_id=f"hotspots:{key}",
        )
    if incidents is not None:
        add_incident_layer(fmap, incidents, show=False)
    add_ward_layer(fmap, wards)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return use_local_assets(fmap, asset_base)


#: Names of the analyst map's LSOA layers in the layer control, by column.
ANALYST_LAYER_NAMES = {
    "count": "LSOA: incidents",
    "rate_per_1000": "LSOA: incidents per 1,000 residents",
    "imd_decile": "LSOA: IMD decile",
}


def _as_geoseries(area_geom: Any) -> gpd.GeoSeries:
    if isinstance(area_geom, gpd.GeoDataFrame):
        return area_geom.geometry
    if isinstance(area_geom, gpd.GeoSeries):
        return area_geom
    return gpd.GeoSeries([area_geom], crs=CRS_BNG)


class _LayerView:
    """A hotspot layer with a subset of its hotspots (same method and parameters)."""

    def __init__(self, layer: Any, hotspots: gpd.GeoDataFrame):
        self.method = getattr(layer, "method", "hotspots")
        self.parameters = getattr(layer, "parameters", {})
        self.hotspots = hotspots


def build_area_map(
    pack: AreaPack,
    area_geom: Any,
    incidents: gpd.GeoDataFrame | None,
    hotspot_layer: Any | None,
    tiles: str | None = None,
    name: str | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
) -> folium.Map:
    """A simple map of one ward or LSOA for PCSOs: outline, hotspots and incidents inside it.

    Parameters
    ----------
    pack : AreaPack
    area_geom : GeoDataFrame, GeoSeries or shapely geometry
        The area (EPSG:27700); a GeoDataFrame's ``name`` column titles the outline.
    incidents : geopandas.GeoDataFrame, optional
        Incidents; those inside the area (or on its edge) are drawn (on).
    hotspot_layer : HotspotLayer, optional
        Hotspots; those intersecting the area are drawn (on).
    tiles : str, optional
        Base-map tiles; ``None`` draws none.
    name : str, optional
        Area name for the layer control; defaults to the GeoDataFrame's ``name``.
    asset_base : str
        URL prefix of the vendor folder.

    Returns
    -------
    folium.Map
        Fitted to the area; layer ids ``"area"``, ``"hotspots"``, ``"incidents"``.
    """
    geoms = _as_geoseries(area_geom)
    geoms = geoms.set_crs(CRS_BNG) if geoms.crs is None else geoms.to_crs(CRS_BNG)
    if name is None and isinstance(area_geom, gpd.GeoDataFrame) and "name" in area_geom:
        name = ", ".join(area_geom["name"].astype(str))
    name = name or "Area"
    area = shapely.union_all(np.asarray(geoms.values))
    fmap = base_map(pack, tiles=tiles, asset_base=asset_base)
    _fit(fmap, _bounds(gpd.GeoSeries([area.buffer(100)], crs=CRS_BNG)))
    data_js, _ = _inline_data(
        _wgs84(gpd.GeoSeries([area], crs=CRS_BNG)), pd.DataFrame({"name": [_esc(name)]})
    )
    spec = {
        "styles": [{"color": "#1d3fbb", "weight": 3, "fill": False}],
        "classes": [0],
        "tooltip": {"fields": ["name"], "aliases": None, "options": {"sticky": True}},
    }
    _vector(fmap, data_js, spec, name, "area", "area")
    if hotspot_layer is not None:
        inside = hotspot_layer.hotspots[hotspot_layer.hotspots.intersects(area)]
        add_hotspot_layer(fmap, _LayerView(hotspot_layer, inside), show=True, layer_id="hotspots")
    if incidents is not None:
        add_incident_layer(fmap, incidents[incidents.intersects(area)], show=True)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return use_local_assets(fmap, asset_base)


# --------------------------------------------------------------------------------------------
# Baseline for benchmarks
# --------------------------------------------------------------------------------------------


def naive_map(incidents: gpd.GeoDataFrame) -> folium.Map:
    """The straightforward Folium map: one clustered marker with a popup per incident.

    Uses Folium's defaults (CDN assets, OpenStreetMap tiles). Only for
    ``benchmarks/bench_maps.py``, as the baseline for page size and render time.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents (EPSG:27700) with ``crime_type``, ``location_text``, ``month``.

    Returns
    -------
    folium.Map
    """
    pts = incidents.to_crs(CRS_WGS84)
    west, south, east, north = pts.total_bounds
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12)
    texts = (
        pts["crime_type"].astype(str)
        + ", "
        + pd.to_datetime(pts["month"]).dt.strftime("%Y-%m")
        + ", "
        + pts["location_text"].fillna("").astype(str)
    ).map(_esc)
    MarkerCluster(
        locations=np.column_stack([pts.geometry.y, pts.geometry.x]).tolist(),
        popups=texts.tolist(),
        name="Incidents",
    ).add_to(fmap)
    return fmap
