"""Folium elements that bind a map to the page runtime (``web/static/app/map-runtime.js``).

Each element renders one short call into the runtime with data prepared in Python:
:class:`Setup` links the runtime and its stylesheet and calls ``geoSsgp.init``;
:class:`Attribution`, :class:`Register`, :class:`Legend`, :class:`SharedData`,
:class:`VectorLayer`, :class:`LazyLayer`, :class:`StreetLayer`, :class:`SnapPointCluster` and
:class:`DrawHook` call ``addAttribution``, ``register``, ``addLegend``, ``decode``, ``vector``,
``lazyVector``, ``streets``, ``snapPoints`` and ``hookDraw``. The logic (decoding, styling,
legends, popups, hooks) lives in the ``.js`` files, not here. The helper functions add these
elements to a map once each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from folium.template import Template

from geo_ssgp.config import ATTRIBUTION
from geo_ssgp.errors import AssetError
from geo_ssgp.maps.assets import APP_ASSETS, DEFAULT_ASSET_BASE, app_base, inlining
from geo_ssgp.maps.codec import SCALE, compact_features
from geo_ssgp.maps.format import esc, js_json, layer_name
from geo_ssgp.maps.state import map_state

_APP_URL = app_base(DEFAULT_ASSET_BASE)


def _script(call: str) -> Template:
    """A template whose only output is one script snippet."""
    return Template("{% macro script(this, kwargs) %}\n" + call + "\n{% endmacro %}")


# --------------------------------------------------------------------------------------------
# Elements
# --------------------------------------------------------------------------------------------


class Setup(JSCSSMixin):
    """Links the map runtime and stylesheet and starts ``window.geoSsgp`` on the map."""

    default_js = [("geo_ssgp_map_js", f"{_APP_URL}/{APP_ASSETS['geo_ssgp_map_js']}")]
    default_css = [("geo_ssgp_map_css", f"{_APP_URL}/{APP_ASSETS['geo_ssgp_map_css']}")]
    _template = _script("window.geoSsgp.init({{ this.map_name }}, {{ this.scale }});")

    def __init__(self, map_name: str):
        super().__init__()
        self._name = "GeoSsgpSetup"
        self.map_name = map_name
        self.scale = SCALE


class Attribution(MacroElement):
    """Adds the data attribution lines to the map's attribution control."""

    _template = _script(
        "{%- for line in this.lines %}\n"
        "window.geoSsgp.addAttribution({{ this.map_name }}, {{ line|tojson }});\n"
        "{%- endfor %}"
    )

    def __init__(self, map_name: str, lines: list[str]):
        super().__init__()
        self._name = "GeoSsgpAttribution"
        self.map_name = map_name
        self.lines = lines


class Register(MacroElement):
    """Registers its parent layer in ``window.geoSsgp.layers``."""

    _template = _script(
        "window.geoSsgp.register({{ this.layer_id_js }}, {{ this._parent.get_name() }}, "
        "{{ this.kind_js }});"
    )

    def __init__(self, layer_id: str, kind: str):
        super().__init__()
        self._name = "GeoSsgpRegister"
        self.layer_id = layer_id
        self.kind = kind
        self.layer_id_js = js_json(layer_id)
        self.kind_js = js_json(kind)


class Legend(MacroElement):
    """A legend control shown while its parent layer is on the map (see :func:`legend_spec`)."""

    _template = _script(
        "window.geoSsgp.addLegend({{ this.map_name }}, {{ this._parent.get_name() }}, "
        "{{ this.content_js }});"
    )

    def __init__(self, map_name: str, content: dict):
        super().__init__()
        self._name = "GeoSsgpLegend"
        self.map_name = map_name
        self.content = content
        self.content_js = js_json(content)


class SharedData(MacroElement):
    """Compact feature data decoded once in the page and shared by several layers."""

    _template = _script(
        "window.geoSsgp.data[{{ this.key_js }}] = window.geoSsgp.decode({{ this.data_js }});"
    )

    def __init__(self, key: str, data: dict):
        super().__init__()
        self._name = "GeoSsgpData"
        self.key = key
        self.key_js = js_json(key)
        self.data_js = js_json(data)


class VectorLayer(folium.map.Layer):
    """A Leaflet GeoJSON layer built in the page from compact data and a style spec.

    ``spec``: ``styles`` (list of Leaflet path styles), ``classes`` (style index per
    feature), ``highlight`` (style on hover or None), ``tooltip``/``popup`` (``fields``,
    ``aliases``, ``options``, or None), ``radius`` (circle markers for points) and
    ``interactive``.
    """

    _template = _script(
        "var {{ this.get_name() }} = window.geoSsgp.vector({{ this.data_js }}, {{ this.spec_js }});"
    )

    def __init__(
        self, data_js: str, spec: dict, name: str, show: bool = True, control: bool = True
    ):
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "GeoSsgpVector"
        self.data_js = data_js
        self.spec = spec
        self.spec_js = js_json(spec)


class LazyLayer(folium.map.Layer):
    """A vector layer drawn by ``geoSsgp.lazyVector`` when it is first shown.

    The page fetches ``url``, a JSON document ``{data, spec, legend}`` (as
    :func:`~geo_ssgp.maps.layers.hotspot_document` gives), the first time the layer is added
    to the map. A standalone page cannot fetch: rendering one inlined raises
    :class:`~geo_ssgp.errors.AssetError`.
    """

    _template = _script(
        "var {{ this.get_name() }} = window.geoSsgp.lazyVector({{ this.url_js }});"
    )

    def __init__(self, url: str, name: str, show: bool = False):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoSsgpLazy"
        self.url = url
        self.url_js = js_json(url)

    def render(self, **kwargs: Any) -> None:
        """Refuse a standalone render (its data is only on the server)."""
        if inlining(self._parent):
            raise AssetError(
                f"{self.layer_name!r} is fetched from the server when shown; a standalone "
                "map must be given the layer itself"
            )
        super().render(**kwargs)


class StreetLayer(JSCSSMixin, folium.map.Layer):
    """Street lines and names built in the page by ``geoSsgp.streets`` (``streets.js``).

    A served page fetches the street data from ``url`` (one cached document for every map);
    a standalone page (:func:`~geo_ssgp.maps.render_standalone`) embeds ``data()``, the JSON
    of :func:`geo_ssgp.maps.streets.street_data`, so the file works with no server.
    """

    default_js = [
        ("geo_ssgp_streets_js", f"{_APP_URL}/{APP_ASSETS['geo_ssgp_streets_js']}")
    ]
    _PRELOAD = "geo_ssgp_streets_preload"
    _template = _script(
        "var {{ this.get_name() }} = window.geoSsgp.streets({{ this.source_js }});"
    )

    def __init__(self, data: Callable[[], str], url: str, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoSsgpStreets"
        self.data = data
        self.url = url
        self.source_js = js_json(url)

    def render(self, **kwargs: Any) -> None:
        """Embed the data when the map is rendered standalone, else point at ``url``.

        A served page also preloads ``url`` from its ``<head>``, so the download runs while
        Leaflet and the map's script load instead of after them.
        """
        header = self.get_root().header
        if inlining(self._parent):
            header._children.pop(self._PRELOAD, None)
            self.source_js = self.data()
        else:
            link = f'<link rel="preload" href="{esc(self.url)}" as="fetch" crossorigin="anonymous">'
            header.add_child(Element(link), name=self._PRELOAD)
            header._children.move_to_end(self._PRELOAD, last=False)  # before the scripts
            self.source_js = js_json(self.url)
        super().render(**kwargs)


class SnapPointCluster(MarkerCluster):
    """Clustered circle markers, one per snap point, built in the page from columnar data.

    See :func:`geo_ssgp.maps.snap_points.snap_point_rows` for the data. Cluster icons show
    the number of incidents, not of points. Popups are built on first opening from escaped
    text.
    """

    _template = _script(
        "var {{ this.get_name() }} = window.geoSsgp.snapPoints({{ this.data_js }}, "
        "{{ this.options|tojavascript }});"
    )

    def __init__(self, data: dict, name: str, show: bool, **options: Any):
        super().__init__(name=name, overlay=True, control=True, show=show, **options)
        self._name = "SnapPointCluster"
        self.data = data
        self.data_js = js_json(data)


class DrawHook(MacroElement):
    """Keeps one drawn polygon and passes it to ``window.geoSsgp.onDraw``."""

    _template = _script(
        "window.geoSsgp.hookDraw({{ this.map_name }}, drawnItems_{{ this.draw_name }}, "
        "{{ this.draw_name }}, {{ this.layer_id_js }});"
    )

    def __init__(self, map_name: str, draw_name: str, layer_id: str):
        super().__init__()
        self._name = "GeoSsgpDrawHook"
        self.map_name = map_name
        self.draw_name = draw_name
        self.layer_id = layer_id
        self.layer_id_js = js_json(layer_id)


# --------------------------------------------------------------------------------------------
# Adding them to a map
# --------------------------------------------------------------------------------------------


def ensure_setup(fmap: folium.Map) -> dict[str, Any]:
    """Add the runtime setup and the attribution element once per map.

    Parameters
    ----------
    fmap : folium.Map

    Returns
    -------
    dict
        The map's state (:func:`geo_ssgp.maps.state.map_state`).
    """
    state = map_state(fmap)
    # Marker clustering needs a maximum zoom, which a tile-less map would not have.
    fmap.options.setdefault("max_zoom", 18)
    if "setup" not in state:
        state["setup"] = Setup(fmap.get_name())
        fmap.add_child(state["setup"], name="geo_ssgp_setup")
        state["attribution_element"] = Attribution(fmap.get_name(), state["attribution"])
        fmap.add_child(state["attribution_element"], name="geo_ssgp_attribution")
    return state


def attribute(fmap: folium.Map, *keys: str) -> None:
    """Add attribution lines (keys of ``geo_ssgp.config.ATTRIBUTION``) once each.

    Parameters
    ----------
    fmap : folium.Map
    *keys : str
        E.g. ``"ons"``, ``"police"``, ``"imd"``, ``"lsoa11"``.
    """
    lines = ensure_setup(fmap)["attribution"]
    for key in keys:
        line = esc(ATTRIBUTION[key])
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
    return list(map_state(fmap)["attribution"])


def register(fmap: folium.Map, layer: Element, layer_id: str, kind: str) -> None:
    """Register a layer in ``window.geoSsgp.layers`` under ``layer_id``.

    Parameters
    ----------
    fmap : folium.Map
    layer : branca.element.Element
        A layer already added to ``fmap``.
    layer_id : str
    kind : str
        ``"areas"`` layers report clicks to ``geoSsgp.onAreaClick``.
    """
    ensure_setup(fmap)
    layer.add_child(Register(layer_id, kind), name=f"register_{layer.get_name()}")


def legend_spec(
    title: str,
    swatches: Sequence[tuple[str, str]] = (),
    table: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    more: Mapping[str, str] | None = None,
) -> dict:
    """A legend's content for ``geoSsgp.legendHtml``; every text is escaped here.

    Parameters
    ----------
    title : str
    swatches : sequence of (colour, label)
    table : mapping of str to str, optional
        Rows that are always shown.
    notes : sequence of str
    more : mapping of str to str, optional
        Rows in a collapsed "All parameters" list.

    Returns
    -------
    dict
        ``title``, ``swatches``, ``table``, ``more``, ``notes``.
    """
    return {
        "title": esc(title),
        "swatches": [[esc(c), esc(label)] for c, label in swatches],
        "table": [[esc(k), esc(v)] for k, v in (table or {}).items()],
        "more": [[esc(k), esc(v)] for k, v in (more or {}).items()],
        "notes": [esc(n) for n in notes],
    }


def add_legend(fmap: folium.Map, layer: Element, content: dict) -> None:
    """Show a legend (from :func:`legend_spec`) while ``layer`` is on the map.

    Parameters
    ----------
    fmap : folium.Map
    layer : branca.element.Element
    content : dict
    """
    layer.add_child(Legend(fmap.get_name(), content), name=f"legend_{layer.get_name()}")


def inline_data(geoms: gpd.GeoSeries, props: pd.DataFrame) -> tuple[str, np.ndarray]:
    """Script expression decoding the compact features of one layer.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        WGS84 geometries.
    props : pandas.DataFrame
        Display properties, one row per geometry.

    Returns
    -------
    (str, numpy.ndarray)
        ``window.geoSsgp.decode(...)`` and the mask of rows kept (non-empty geometry).
    """
    data, keep = compact_features(geoms, props)
    return f"window.geoSsgp.decode({js_json(data)})", keep


def shared_data(
    fmap: folium.Map, key: str, build: Callable[[], tuple[gpd.GeoSeries, pd.DataFrame]]
) -> tuple[str, np.ndarray]:
    """Script expression of features sent once per map under ``key`` and shared by layers.

    Parameters
    ----------
    fmap : folium.Map
    key : str
        Identifies the data; a second call with the same key adds nothing.
    build : callable
        Returns the WGS84 geometries and their display properties; only called the first
        time ``key`` is seen.

    Returns
    -------
    (str, numpy.ndarray)
        ``window.geoSsgp.data[key]`` and the mask of rows kept.
    """
    shared = map_state(fmap)["shared"]
    if key not in shared:
        data, keep = compact_features(*build())
        fmap.add_child(SharedData(key, data), name=f"data_{key}")
        shared[key] = keep
    return f"window.geoSsgp.data[{js_json(key)}]", shared[key]


def vector_spec(spec: dict) -> dict:
    """A :class:`VectorLayer` spec with its unset keys at their defaults.

    Parameters
    ----------
    spec : dict
        ``styles`` and ``classes``; optionally ``highlight``, ``tooltip``, ``popup``,
        ``radius`` (8) and ``interactive`` (true).

    Returns
    -------
    dict
    """
    return {
        "highlight": None,
        "tooltip": None,
        "popup": None,
        "radius": 8,
        "interactive": True,
        **spec,
    }


def add_vector(
    fmap: folium.Map,
    data_js: str,
    spec: dict,
    name: str,
    layer_id: str,
    kind: str,
    show: bool = True,
    control: bool = True,
) -> VectorLayer:
    """Add and register a :class:`VectorLayer`; unset spec keys take their defaults.

    Parameters
    ----------
    fmap : folium.Map
    data_js : str
        From :func:`inline_data` or :func:`shared_data`.
    spec : dict
        ``styles`` and ``classes``; optionally ``highlight``, ``tooltip``, ``popup``,
        ``radius`` (8) and ``interactive`` (true).
    name : str
        Name in the layer control (escaped here).
    layer_id : str
        Key in ``window.geoSsgp.layers``.
    kind : str
        ``geoSsgpKind`` of the layer in the page.
    show : bool
        Whether the layer is on when the page opens.
    control : bool
        Whether the layer is listed in the layer control.

    Returns
    -------
    VectorLayer
    """
    spec = vector_spec(spec)
    layer = VectorLayer(data_js, spec, name=layer_name(name), show=show, control=control)
    layer.add_to(fmap)
    register(fmap, layer, layer_id, kind)
    return layer


def add_document(
    fmap: folium.Map, doc: dict, name: str, layer_id: str, kind: str, show: bool = True
) -> VectorLayer:
    """Draw a layer document at once: a :class:`VectorLayer` and its legend.

    The same document a :class:`LazyLayer` fetches when it is first shown.

    Parameters
    ----------
    fmap : folium.Map
    doc : dict
        ``data`` (compact features), ``spec`` and ``legend`` (:func:`legend_spec`), e.g.
        :func:`~geo_ssgp.maps.layers.hotspot_document`.
    name, layer_id, kind, show
        As :func:`add_vector`.

    Returns
    -------
    VectorLayer
    """
    data_js = f"window.geoSsgp.decode({js_json(doc['data'])})"
    layer = add_vector(fmap, data_js, doc["spec"], name, layer_id, kind, show=show)
    add_legend(fmap, layer, doc["legend"])
    return layer
