"""Front-end files of a map page: where they live, how they are linked, how they are inlined.

Folium links Leaflet, its plugins, jQuery, Bootstrap and fonts from public CDNs by default;
without internet such a page is blank. :func:`use_local_assets` points every Folium element
at the app's own copies under ``/static/vendor`` (installed from npm by ``make web-assets``,
see ``web/vendor_assets.py``) and raises :class:`~geo_ssgp.errors.AssetError` for an
element that needs a file the app does not ship. The map runtime and its stylesheet
(:data:`APP_ASSETS`, under ``web/static/app/``) are linked from the folder beside the vendor
folder (``/static/app``). :func:`render` returns the page with local links,
:func:`render_parts` splits it for a Jinja2 page, and :func:`render_standalone` inlines every
script, stylesheet and image so the file opens with no server and no network; data that a
served page fetches from the app (the street layer) is embedded in it then (:func:`inlining`).
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink
from folium.elements import JSCSSMixin

from geo_ssgp.config import default_settings
from geo_ssgp.errors import AssetError
from geo_ssgp.maps.state import map_state

#: Folder the app serves as ``/static/vendor`` (filled by ``make web-assets``).
VENDOR_DIR = default_settings().vendor_dir
#: Folder the app serves as ``/static/app``: the map runtime and its stylesheet.
APP_DIR = default_settings().static_dir / "app"
#: URL prefix of the vendor folder in the app; the app folder is its sibling ``app``.
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

#: Asset name -> file under the app folder: the project's own map script and styles.
APP_ASSETS: dict[str, str] = {
    "geo_ssgp_map_js": "map-runtime.js",
    "geo_ssgp_map_css": "map.css",
    "geo_ssgp_streets_js": "streets.js",
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

_EXTERNAL = re.compile(
    r"<(?:script[^>]*\ssrc|link[^>]*\shref)\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE
)
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif", ".jpg": "image/jpeg"}
#: Base URL that marks links for :func:`render_standalone` to replace with file contents.
_INLINE = "geo-ssgp-inline:/vendor"


# --------------------------------------------------------------------------------------------
# Local links
# --------------------------------------------------------------------------------------------


def app_base(base_url: str) -> str:
    """URL prefix of the app folder: the sibling ``app`` of the vendor folder.

    Parameters
    ----------
    base_url : str
        URL prefix of the vendor folder, e.g. ``/static/vendor``.

    Returns
    -------
    str
        E.g. ``/static/app``.
    """
    return posixpath.join(posixpath.dirname(base_url.rstrip("/")), "app")


def current_asset_base(fmap: folium.Map) -> str:
    """The vendor-folder URL prefix a map was last pointed at (default ``/static/vendor``).

    Parameters
    ----------
    fmap : folium.Map

    Returns
    -------
    str
    """
    return map_state(fmap).get("asset_base", DEFAULT_ASSET_BASE)


def inlining(fmap: folium.Map) -> bool:
    """Whether the map is being rendered by :func:`render_standalone` (everything inlined).

    Elements whose data is served separately (the street layer) embed it instead then.

    Parameters
    ----------
    fmap : folium.Map

    Returns
    -------
    bool
    """
    return current_asset_base(fmap) == _INLINE


def _local_url(name: str, base_url: str) -> str | None:
    """The local URL of a named asset, or None when the app does not ship it."""
    if name in VENDOR_ASSETS:
        return f"{base_url}/{VENDOR_ASSETS[name]}"
    if name in APP_ASSETS:
        return f"{app_base(base_url)}/{APP_ASSETS[name]}"
    return None


def _walk(element: Element) -> Iterable[Element]:
    """Yield an element and all its descendants."""
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _local_links(
    element: Element, links: Sequence[tuple[str, str]], base_url: str
) -> list[tuple[str, str]]:
    """Map an element's ``(name, url)`` asset links to the vendor and app folders."""
    out = []
    for name, url in links:
        local = _local_url(name, base_url)
        if local:
            out.append((name, local))
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
        local = _local_url(name, base_url)
        if local:
            child.url = local
        elif name in UNUSED_MAP_ASSETS:
            del figure.header._children[name]
        elif re.match(r"(?:https?:)?//", child.url):
            raise AssetError(f"the page header links {child.url} ({name!r}), a CDN asset")


def use_local_assets(fmap: folium.Map, base_url: str = DEFAULT_ASSET_BASE) -> folium.Map:
    """Point the map and every plugin element at the app's own copies of their assets.

    Call it after adding elements from outside this package; the builders here and
    :func:`render` call it themselves.

    Parameters
    ----------
    fmap : folium.Map
    base_url : str
        URL prefix of the vendor folder (``/static/vendor`` in the app); the map runtime is
        linked from its sibling ``app`` folder.

    Returns
    -------
    folium.Map
        The same map.

    Raises
    ------
    AssetError
        If an element needs a script or stylesheet that is not in :data:`VENDOR_ASSETS`
        or :data:`APP_ASSETS` (for example a new plugin, or a ``folium.Icon`` that needs
        Awesome Markers).
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
    map_state(fmap)["asset_base"] = base_url
    return fmap


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


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
    """Full HTML page of a map, loading every asset from the app's own folders.

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
    use_local_assets(fmap, current_asset_base(fmap))
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


# --------------------------------------------------------------------------------------------
# Inlining
# --------------------------------------------------------------------------------------------


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


def _render_marked(fmap: folium.Map) -> str:
    """The page with every local link under the inline marker; the map keeps its links."""
    previous = current_asset_base(fmap)
    map_state(fmap)["asset_base"] = _INLINE
    try:
        return render(fmap)
    finally:
        map_state(fmap)["asset_base"] = previous
        use_local_assets(fmap, previous)


def render_standalone(
    fmap: folium.Map,
    vendor_dir: str | Path | None = None,
    app_dir: str | Path | None = None,
) -> str:
    """Self-contained HTML of a map: every script, stylesheet and image inlined.

    For downloadable reports that must open from a file with no server and no network.
    Build the map with ``tiles=None`` for a fully offline file.

    Parameters
    ----------
    fmap : folium.Map
    vendor_dir : str or Path, optional
        Vendor folder to read; defaults to :data:`VENDOR_DIR`.
    app_dir : str or Path, optional
        Folder of the map runtime and stylesheet; defaults to :data:`APP_DIR`.

    Returns
    -------
    str
        The HTML document, with no ``<script src>`` and no ``<link href>``.

    Raises
    ------
    AssetError
        If a vendor file is missing (run ``make web-assets``) or a link cannot be inlined.
    """
    folders = {
        "vendor": Path(vendor_dir) if vendor_dir else VENDOR_DIR,
        "app": Path(app_dir) if app_dir else APP_DIR,
    }
    page = _render_marked(fmap)

    def file_of(match: re.Match) -> Path:
        path = folders[match.group(1)] / match.group(2)
        if not path.is_file():
            hint = ": run `make web-assets`" if match.group(1) == "vendor" else ""
            raise AssetError(f"{path} is missing{hint}")
        return path

    def script(match: re.Match) -> str:
        out = f"<script>{_inline_js(file_of(match))}</script>"
        if match.group(1) == "vendor" and match.group(2) == VENDOR_ASSETS["leaflet"]:
            out += _marker_icon_script(folders["vendor"])
        return out

    def style(match: re.Match) -> str:
        return f"<style>{_inline_css(file_of(match))}</style>"

    marked = re.escape(posixpath.dirname(_INLINE)) + r"/(vendor|app)/([^\"']+)"
    page = re.sub(rf"<script src=[\"']{marked}[\"']></script>", script, page)
    page = re.sub(rf"<link rel=\"stylesheet\" href=[\"']{marked}[\"']\s*/?>", style, page)
    left = re.findall(r"<script\b[^>]*\ssrc=[^>]*>|<link\b[^>]*\shref=[^>]*>", page, re.I)
    if left:
        raise AssetError(f"could not inline: {left}")
    return page
