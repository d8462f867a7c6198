"""Layer builders: the base map and each kind of layer a page is made of.

:func:`base_map` makes an empty map fitted to the pack's district (local assets, data
attribution, the runtime set up, tiles optional). The ``add_*`` functions each add one
layer under a stable id in ``window.geoSsgp.layers``: LSOA or ward choropleths
(:func:`add_area_layer`), ward outlines, hotspots of one method, a KDE surface, incidents
by snap point, the outline of one place and the polygon drawing tool. Every function takes
layers in British National Grid (EPSG:27700); the codec converts them for the page and the
format module turns values into escaped text, classes and colours.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.utilities import color_brewer
from folium.plugins import Draw

from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.hotspots.layer import HOTSPOT_COLUMNS
from geo_ssgp.maps.assets import DEFAULT_ASSET_BASE, current_asset_base, use_local_assets
from geo_ssgp.maps.codec import compact_features, to_page_crs
from geo_ssgp.maps.elements import (
    DrawHook,
    LazyLayer,
    SnapPointCluster,
    VectorLayer,
    add_document,
    add_legend,
    add_vector,
    attribute,
    ensure_setup,
    inline_data,
    legend_spec,
    register,
    shared_data,
    vector_spec,
)
from geo_ssgp.maps.format import (
    HOTSPOT_COLOURS,
    NO_DATA,
    SNAP_POINT_NOTE,
    as_float,
    classify,
    esc,
    int_text,
    layer_name,
    num_text,
    pretty,
    ramp,
    range_label,
    text,
    value_text,
)
from geo_ssgp.maps.snap_points import snap_point_rows
from geo_ssgp.maps.streets import add_street_layer
from geo_ssgp.pack import AreaPack, load_layer

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


def _bounds(geoms: gpd.GeoSeries) -> list[list[float]]:
    west, south, east, north = geoms.to_crs(CRS_WGS84).total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]


def fit_to(fmap: folium.Map, geoms: gpd.GeoSeries) -> None:
    """Fit the map to geometries at once (no zoom animation for page scripts to race with).

    Parameters
    ----------
    fmap : folium.Map
    geoms : geopandas.GeoSeries
        With a CRS.
    """
    fit = folium.map.FitBounds(_bounds(geoms))
    fit.options["animate"] = False
    fmap.add_child(fit, name="geo_ssgp_fit_bounds")


def _outline(fmap: folium.Map, geoms: gpd.GeoSeries, layer_id: str) -> VectorLayer:
    """A non-interactive dashed outline, not in the layer control."""
    data_js, keep = inline_data(to_page_crs(geoms), pd.DataFrame(index=range(len(geoms))))
    style = {"color": "#222", "weight": 2.5, "fill": False, "dashArray": "6 4"}
    spec = {"styles": [style], "classes": [0] * int(keep.sum()), "interactive": False}
    return add_vector(fmap, data_js, spec, layer_id, layer_id, "outline", control=False)


def base_map(
    pack: AreaPack,
    tiles: str | folium.TileLayer | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    tiles_attr: str | None = None,
    streets: bool = True,
    **kw: Any,
) -> folium.Map:
    """A map fitted to the pack's district with its streets, local assets and attribution.

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
    streets : bool
        Draw the pack's street lines (layer id ``"streets"``, see
        :func:`geo_ssgp.maps.streets.add_street_layer`) when it has any.
    **kw
        Passed to ``folium.Map`` (e.g. ``width``, ``height``, ``zoom_start``).

    Returns
    -------
    folium.Map
        With the district outline (layer id ``"district"``), the streets, ``prefer_canvas=True``,
        the ONS/OS and police.uk (and OpenStreetMap) attribution lines and the
        ``window.geoSsgp`` runtime.
    """
    district = _district(pack)
    (south, west), (north, east) = _bounds(district.geometry)
    options = {"zoom_start": 12, "control_scale": True, "prefer_canvas": True, **kw}
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, **options)
    ensure_setup(fmap)
    if tiles:
        _tile_layer(tiles, tiles_attr).add_to(fmap)
    fit_to(fmap, district.geometry)
    _outline(fmap, district.geometry, "district")
    if streets:  # first, so its credit leads the attribution line folded on a phone
        add_street_layer(fmap, pack)
    attribute(fmap, "ons", "police")
    return use_local_assets(fmap, asset_base)


# --------------------------------------------------------------------------------------------
# Areas (LSOA or ward choropleths) and ward outlines
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
_AREA_STYLE = {"fillOpacity": 0.65, "color": "#555", "weight": 0.6}


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

    share = as_float(col("share_of_district"))
    share_pct = share * 100 if share.max(skipna=True) <= 1 else share
    pct = num_text(share_pct, 1)
    decile = int_text(col("imd_decile"))
    return pd.DataFrame(
        {
            "code": text(col("code")),
            "name": text(col("name")),
            "ward": text(col("ward_nm")),
            "count": int_text(col("count")),
            "population": int_text(col("population")),
            "rate": num_text(col("rate_per_1000"), 1),
            "share": pct.where(share_pct.isna(), pct + "%"),
            "imd": decile.where(decile == "–", decile + " of 10"),
            "imd_rank": int_text(col("imd_rank")),
        }
    ).reset_index(drop=True)


def _area_classes(
    values: pd.Series, column: str, k: int, scheme: str, bins: Sequence[float] | None = None
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Class per area (-1 = no data) and legend swatches (colour, label)."""
    if column == "imd_decile":
        num = as_float(values).to_numpy()
        ok = (num >= 1) & (num <= 10)
        cls = np.where(ok, np.nan_to_num(num).astype(int) - 1, -1)
        ends = {1: " (most deprived)", 10: " (least deprived)"}
        labels = [f"{d}{ends.get(d, '')}" for d in range(1, 11)]
        return cls, list(zip(color_brewer("RdYlBu", 10), labels, strict=True))
    cls, bounds = classify(values, k, scheme, bins)
    digits = 0 if column == "count" else 1
    swatches = [
        (c, range_label(lo, hi, digits))
        for c, (lo, hi) in zip(ramp("YlOrRd", len(bounds)), bounds, strict=True)
    ]
    return cls, swatches


def _shared_area_data(fmap: folium.Map, area_stats: gpd.GeoDataFrame) -> tuple[str, np.ndarray]:
    """Add (once per map) the LSOA polygons and properties that all area layers share."""
    geoms, props = area_stats.geometry, _area_props(area_stats)
    digest = hashlib.sha1(b"".join(shapely.to_wkb(np.asarray(geoms.values))))
    digest.update(pd.util.hash_pandas_object(props, index=False).to_numpy())
    key = f"areas-{digest.hexdigest()[:12]}"
    return shared_data(fmap, key, lambda: (to_page_crs(geoms), props))


def _area_spec(
    cls: np.ndarray, swatches: list[tuple[str, str]], keep: np.ndarray, unit: str
) -> dict:
    """Vector spec of an area layer: one style per class and a last one for no data."""
    styles = [{**_AREA_STYLE, "fillColor": c} for c, _ in swatches]
    styles.append({**_AREA_STYLE, "fillColor": NO_DATA})
    tip, popup = _area_fields(_AREA_TIP, unit), _area_fields(_AREA_POPUP, unit)
    return {
        "styles": styles,
        "classes": np.where(cls < 0, len(styles) - 1, cls)[keep].tolist(),
        "highlight": {"weight": 2.5, "color": "#000"},
        "tooltip": {"fields": tip[0], "aliases": tip[1], "options": {"sticky": True}},
        "popup": {"fields": popup[0], "aliases": popup[1]},
    }


def _attribute_areas(fmap: folium.Map, area_stats: pd.DataFrame, level: str | None) -> None:
    attribute(fmap, "ons")
    if level == "lsoa11":
        attribute(fmap, "lsoa11")
    if "imd_decile" in area_stats and area_stats["imd_decile"].notna().any():
        attribute(fmap, "imd")


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
    bins: Sequence[float] | None = None,
) -> VectorLayer:
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
    bins : sequence of float, optional
        Explicit upper class bounds instead of ``scheme`` (e.g. breaks shared by the two
        periods of a meeting; see :func:`~geo_ssgp.maps.format.classify`).

    Returns
    -------
    VectorLayer
        The layer; each feature's ``code`` property is its LSOA code.
    """
    missing = [c for c in ("code", "name", column) if c not in area_stats]
    if missing:
        raise ValueError(f"area_stats lacks column(s) {missing}")
    ensure_setup(fmap)
    level = level or area_level(area_stats)
    unit = "Ward" if level == "ward" else "LSOA"
    cls, swatches = _area_classes(area_stats[column], column, k, scheme, bins)
    data_js, keep = _shared_area_data(fmap, area_stats)
    spec = _area_spec(cls, swatches, keep, unit)
    if (cls < 0).any():
        swatches = [*swatches, (NO_DATA, "no data")]
    title = _AREA_TITLES.get(column, pretty(column))
    layer = add_vector(
        fmap,
        data_js,
        spec,
        name or f"{unit}: {title}",
        layer_id or f"areas:{column}",
        "areas",
        show=show,
    )
    note = "IMD 2019 deciles" if column == "imd_decile" else f"{scheme.replace('_', ' ')} classes"
    if bins is not None and column != "imd_decile":
        note = "common classes (the same breaks on each map)"
    add_legend(fmap, layer, legend_spec(title, swatches, notes=[f"{unit}s, {note}"]))
    _attribute_areas(fmap, area_stats, level)
    return layer


def add_ward_layer(
    fmap: folium.Map,
    wards: gpd.GeoDataFrame,
    name: str = "Wards",
    show: bool = True,
    labels: bool = True,
    layer_id: str = "wards",
) -> VectorLayer:
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
    VectorLayer
    """
    ensure_setup(fmap)
    props = pd.DataFrame({"code": text(wards["code"]), "name": text(wards["name"])})
    data_js, keep = inline_data(to_page_crs(wards.geometry), props)
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
    layer = add_vector(fmap, data_js, spec, name, layer_id, "wards", show=show)
    attribute(fmap, "ons")
    return layer


# --------------------------------------------------------------------------------------------
# Hotspots
# --------------------------------------------------------------------------------------------

#: Hotspot columns shown under fixed names; every other column is a method statistic.
_HOTSPOT_FIXED = tuple(HOTSPOT_COLUMNS)
#: Internal identifiers not shown in popups.
_HOTSPOT_HIDDEN = ("cluster_id", "cell_id")
_HOTSPOT_ALIASES = [
    "Hotspot",
    "Rank",
    "Score",
    "Incidents",
    "Area",
    "Snap points",
    "Busiest snap point",
    "Single snap point",
]

#: Parameters always shown in a hotspot legend (the others are under "All parameters").
# Shown in a hotspot legend; the technical parameters (cell size, filters, ...) are in its
# collapsed "All parameters" list, so legends stay small on a phone.
_KEY_PARAMETER = re.compile(
    r"^(method|period)$",
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


def _statistic_columns(hotspots: pd.DataFrame) -> list[str]:
    """Method statistics of a hotspot table: columns not fixed, hidden or repeated."""
    geometry = hotspots.geometry.name if isinstance(hotspots, gpd.GeoDataFrame) else "geometry"
    return [
        c
        for c in hotspots.columns
        if c not in (*_HOTSPOT_FIXED, *_HOTSPOT_HIDDEN, geometry)
        and not _repeats(hotspots[c], hotspots, ("score", "n_incidents"))
    ]


def _hotspot_props(hotspots: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Display properties of hotspot features, popup fields and aliases."""
    n = len(hotspots)

    def col(name: str) -> pd.Series:
        if name in hotspots:
            return hotspots[name]
        return pd.Series([None] * n, index=hotspots.index, dtype=object)

    single = col("single_snap_point").astype(object).where(col("single_snap_point").notna(), False)
    props = {
        "label": text(col("label")),
        "rank": int_text(col("rank")),
        "score": col("score").map(value_text).map(esc),
        "incidents": int_text(col("n_incidents")),
        "area": num_text(as_float(col("area_m2")) / 10_000, 2) + " ha",
        "snap_points": int_text(col("snap_points")),
        "top_snap": (num_text(as_float(col("top_snap_share")) * 100, 0) + "%").replace("–%", "–"),
        "snap": single.astype(bool).map({True: "yes (not an exact address)", False: "no"}),
    }
    aliases = list(_HOTSPOT_ALIASES)
    for i, stat in enumerate(_statistic_columns(hotspots)):
        props[f"s{i}"] = hotspots[stat].map(value_text).map(esc)
        aliases.append(esc(pretty(stat)))
    out = pd.DataFrame(props).reset_index(drop=True)
    return out, list(out.columns), aliases


def _hotspot_spec(color: str, dashed: np.ndarray, fields: list[str], aliases: list[str]) -> dict:
    """Vector spec of a hotspot layer: solid, or dashed for single-snap-point hotspots."""
    style = {"color": color, "fillColor": color, "weight": 2, "fillOpacity": 0.35}
    return {
        "styles": [style, {**style, "dashArray": "4 3"}],
        "classes": dashed.astype(int).tolist(),
        "highlight": {"weight": 4, "fillOpacity": 0.55},
        "tooltip": {
            "fields": ["label", "rank"],
            "aliases": ["Hotspot", "Rank"],
            "options": {"sticky": True},
        },
        "popup": {"fields": fields, "aliases": aliases},
    }


def _hotspot_legend(
    title: str, method: str, params: dict, color: str, count: int, dashed: bool
) -> dict:
    """Legend of a hotspot layer: key parameters, the others under "All parameters"."""
    key = [k for k in params if _KEY_PARAMETER.match(str(k))]
    table = {pretty(k): value_text(params[k]) for k in key}
    if not any(str(k).lower() == "method" for k in params):
        table = {"Method": method, **table}
    more = {pretty(k): value_text(v) for k, v in params.items() if k not in key}
    notes = [f"{count:,} hotspots" if count else "No hotspots found"]
    if dashed:
        notes.append(f"Dashed: all incidents at one {SNAP_POINT_NOTE}.")
    return legend_spec(title, [(color, "hotspot")], table, notes, more)


def add_number_labels(
    fmap: folium.Map, geoms: gpd.GeoSeries, layer_id: str = "hotspot-numbers"
) -> VectorLayer:
    """Numbers 1, 2, ... in order of ``geoms``, drawn at each geometry's inner point.

    The PCSO map numbers its hotspots as its list does (see
    :func:`geo_ssgp.reports.area_hotspots`). The labels take no clicks and are not listed in
    the layer control.

    Parameters
    ----------
    fmap : folium.Map
    geoms : geopandas.GeoSeries
        EPSG:27700 (or with a CRS), in the order to number.
    layer_id : str

    Returns
    -------
    VectorLayer
    """
    points = geoms.representative_point()
    props = pd.DataFrame({"number": [str(i) for i in range(1, len(geoms) + 1)]})
    data_js, keep = inline_data(to_page_crs(points, simplify=None), props)
    spec = {
        "styles": [{"radius": 0, "opacity": 0, "fillOpacity": 0}],
        "classes": [0] * int(keep.sum()),
        "tooltip": {
            "fields": ["number"],
            "aliases": None,
            "options": {"permanent": True, "direction": "center", "className": "geo-ssgp-number"},
        },
        "interactive": False,
        "radius": 0,
    }
    return add_vector(fmap, data_js, spec, "Hotspot numbers", layer_id, "numbers", control=False)


def hotspot_colour(position: int) -> str:
    """Colour of the hotspot layer at ``position`` (0, 1, ...) on a map."""
    return HOTSPOT_COLOURS[position % len(HOTSPOT_COLOURS)]


def hotspot_document(layer: Any, title: str, color: str) -> dict:
    """The page data of one hotspot layer: compact features, style spec and legend.

    One implementation for a layer drawn with its map (:func:`add_hotspot_layer`) and for
    one fetched when it is first shown (:func:`add_lazy_layer`).

    Parameters
    ----------
    layer : geo_ssgp.hotspots.layer.HotspotLayer
        See :func:`add_hotspot_layer`.
    title : str
        Name in the layer control and legend title.
    color : str
        Outline and fill colour.

    Returns
    -------
    dict
        ``data`` (for ``geoSsgp.decode``), ``spec`` (for ``geoSsgp.vector``, defaults filled
        in) and ``legend`` (:func:`legend_spec`); every text HTML-escaped.
    """
    method = str(getattr(layer, "method", "hotspots"))
    hotspots = layer.hotspots
    params = dict(getattr(layer, "parameters", None) or {})
    props, fields, aliases = _hotspot_props(hotspots)
    single = props["snap"].str.startswith("yes").to_numpy()
    data, keep = compact_features(to_page_crs(hotspots.geometry), props)
    return {
        "data": data,
        "spec": vector_spec(_hotspot_spec(color, single[keep], fields, aliases)),
        "legend": _hotspot_legend(title, method, params, color, len(hotspots), bool(single.any())),
    }


def add_hotspot_layer(
    fmap: folium.Map,
    layer: Any,
    name: str | None = None,
    show: bool = False,
    layer_id: str | None = None,
    color: str | None = None,
) -> VectorLayer:
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
    VectorLayer
        Polygons are filled cells or areas; point hotspots are circle markers. Hotspots that
        sit on a single police.uk snap point are drawn dashed and say so in their popup.
    """
    state = ensure_setup(fmap)
    method = str(getattr(layer, "method", "hotspots"))
    color = color or hotspot_colour(state["hotspot_layers"])
    state["hotspot_layers"] += 1
    title = name or f"Hotspots: {method}"
    doc = hotspot_document(layer, title, color)
    geo = add_document(fmap, doc, title, layer_id or f"hotspots:{method}", "hotspots", show)
    attribute(fmap, "police")
    return geo


def note_document(title: str, note: str) -> dict:
    """The page data of a layer with nothing to draw: no features, a legend that says why.

    Parameters
    ----------
    title : str
        Legend title.
    note : str
        Why there is nothing (e.g. the method's :class:`~geo_ssgp.errors.NotEnoughData`).

    Returns
    -------
    dict
        ``data``, ``spec`` and ``legend`` (see :func:`hotspot_document`).
    """
    empty = {"k": [], "v": [], "f": []}
    spec = vector_spec({"styles": [], "classes": []})
    return {"data": empty, "spec": spec, "legend": legend_spec(title, notes=[note])}


def add_lazy_layer(
    fmap: folium.Map, url: str, name: str, layer_id: str, kind: str, show: bool = False
) -> LazyLayer:
    """A layer listed in the layer control whose data is fetched when it is first shown.

    A served map lists layers that are off when it opens without computing them: the page
    fetches ``url`` (a :func:`hotspot_document` or :func:`surface_document` as JSON) the first
    time the user switches the layer on, then draws it and its legend as
    :func:`add_hotspot_layer` or :func:`add_surface_layer` would have. A standalone map
    cannot fetch, so :func:`~geo_ssgp.maps.render_standalone` refuses one (give the layer).

    Parameters
    ----------
    fmap : folium.Map
    url : str
        Address of the layer's document.
    name : str
        Name in the layer control.
    layer_id : str
        Key in ``window.geoSsgp.layers`` (its ``geoSsgpLoaded`` turns true once drawn).
    kind : str
        ``geoSsgpKind`` of the layer (``"hotspots"``, ``"surface"``).
    show : bool
        Whether the layer is on (and fetched) when the page opens.

    Returns
    -------
    LazyLayer
    """
    ensure_setup(fmap)
    layer = LazyLayer(url, name=layer_name(name), show=show)
    layer.add_to(fmap)
    register(fmap, layer, layer_id, kind)
    attribute(fmap, "police")
    return layer


# --------------------------------------------------------------------------------------------
# Surface
# --------------------------------------------------------------------------------------------


def _surface_classes(
    surface: gpd.GeoDataFrame, column: str, k: int, scheme: str
) -> tuple[gpd.GeoDataFrame, list[tuple[float, float]]]:
    """Cells with a value above zero dissolved per class (``cls``), and the class bounds.

    Grid cells tile the region without overlapping (a coverage), so they are merged with
    GEOS's coverage union: the same outlines, about nine times faster than a general union.
    """
    values = as_float(surface[column]).to_numpy()
    positive = values > 0
    cls, bounds = classify(values[positive], k, scheme)
    cells = gpd.GeoDataFrame(
        {"cls": cls},
        geometry=surface.geometry.to_numpy()[positive],
        crs=surface.crs or CRS_BNG,
    )
    return cells.dissolve(by="cls", method="coverage").reset_index(), bounds


def surface_document(
    surface: gpd.GeoDataFrame,
    column: str,
    name: str = "KDE surface",
    k: int = 5,
    scheme: str = "quantiles",
) -> dict:
    """The page data of a gridded surface: classed cells merged per class, spec and legend.

    One implementation for a surface drawn with its map (:func:`add_surface_layer`) and for
    one fetched when it is first shown (:func:`add_lazy_layer`). Parameters as
    :func:`add_surface_layer`.

    Returns
    -------
    dict
        ``data``, ``spec`` and ``legend`` (see :func:`hotspot_document`).
    """
    if column not in surface:
        raise ValueError(f"surface lacks column {column!r}")
    merged, bounds = _surface_classes(surface, column, k, scheme)
    colours = ramp("PuBuGn", len(bounds))
    digits = 3 if bounds and bounds[-1][1] < 10 else 1
    labels = [range_label(lo, hi, digits) for lo, hi in bounds]
    props = pd.DataFrame({"value": [esc(labels[c]) for c in merged["cls"]]})
    # Dissolved cells keep every cell corner; a tiny tolerance drops only collinear ones.
    data, keep = compact_features(to_page_crs(merged.geometry, simplify=0.5), props)
    spec = {
        "styles": [{"fillColor": c, "color": c, "fillOpacity": 0.55, "weight": 0} for c in colours],
        "classes": merged["cls"].to_numpy()[keep].astype(int).tolist(),
        "tooltip": {
            "fields": ["value"],
            "aliases": [esc(pretty(column))],
            "options": {"sticky": True},
        },
    }
    swatches = list(zip(colours, labels, strict=True))
    legend = legend_spec(
        f"{name}: {pretty(column)}", swatches, notes=["Cells with a value of zero are not drawn."]
    )
    return {"data": data, "spec": vector_spec(spec), "legend": legend}


def surface_column(surface: gpd.GeoDataFrame) -> str:
    """The value column drawn from a surface.

    ``score`` (a hotspot layer's surface), ``density_per_km2``, ``density`` or else the
    first numeric column.

    Raises
    ------
    ValueError
        When the surface has no numeric column.
    """
    for name in ("score", "density_per_km2", "density"):
        if name in surface:
            return name
    numeric = surface.drop(columns=surface.geometry.name).select_dtypes("number").columns
    if not len(numeric):
        raise ValueError("surface has no numeric column to draw")
    return str(numeric[0])


def add_surface_layer(
    fmap: folium.Map,
    surface: gpd.GeoDataFrame,
    column: str,
    name: str = "KDE surface",
    show: bool = False,
    k: int = 5,
    scheme: str = "quantiles",
    layer_id: str = "surface",
) -> VectorLayer:
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
    VectorLayer
    """
    ensure_setup(fmap)
    doc = surface_document(surface, column, name, k, scheme)
    layer = add_document(fmap, doc, name, layer_id, "surface", show)
    attribute(fmap, "police")
    return layer


# --------------------------------------------------------------------------------------------
# Incidents, a place outline, drawing
# --------------------------------------------------------------------------------------------


def add_incident_layer(
    fmap: folium.Map,
    incidents: gpd.GeoDataFrame,
    name: str = "Incidents",
    show: bool = False,
    layer_id: str = "incidents",
) -> SnapPointCluster:
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
    SnapPointCluster
        A ``leaflet.markercluster`` group.
    """
    ensure_setup(fmap)
    data = snap_point_rows(incidents)
    layer = SnapPointCluster(
        data, name=layer_name(name), show=show, chunked_loading=True, max_cluster_radius=50
    )
    layer.add_to(fmap)
    register(fmap, layer, layer_id, "incidents")
    total, points = sum(data["n"]), len(data["n"])
    content = legend_spec(
        name,
        [("#2b8cbe", f"{total:,} incidents at {points:,} locations")],
        notes=_location_notes(incidents),
    )
    add_legend(fmap, layer, content)
    use_local_assets(fmap, current_asset_base(fmap))
    attribute(fmap, "police")
    return layer


def _location_notes(incidents: gpd.GeoDataFrame) -> list[str]:
    """What the incident locations are: police.uk snap points, local records, or both."""
    local = (
        int((incidents["source"].astype(str) == "local").sum()) if "source" in incidents else 0
    )
    police = len(incidents) - local
    notes = []
    if police:
        notes.append(
            "police.uk locations are snap points: anonymised map points, not addresses."
        )
    if local:
        notes.append(
            f"{local:,} local records (the partnership's own log) at the location they give."
        )
    return notes


def add_place_layer(fmap: folium.Map, area: Any, name: str, layer_id: str = "area") -> VectorLayer:
    """The outline of one place (a ward, an LSOA or any polygon) with its name on hover.

    Parameters
    ----------
    fmap : folium.Map
    area : shapely geometry
        In EPSG:27700.
    name : str
        Name in the layer control and the tooltip.
    layer_id : str
        Key in ``window.geoSsgp.layers`` (kind ``"area"``).

    Returns
    -------
    VectorLayer
    """
    data_js, _ = inline_data(
        to_page_crs(gpd.GeoSeries([area], crs=CRS_BNG)), pd.DataFrame({"name": [esc(name)]})
    )
    spec = {
        "styles": [{"color": "#1d3fbb", "weight": 3, "fill": False}],
        "classes": [0],
        "tooltip": {"fields": ["name"], "aliases": None, "options": {"sticky": True}},
    }
    return add_vector(fmap, data_js, spec, name, layer_id, "area")


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
    ensure_setup(fmap)
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
    fmap.add_child(DrawHook(fmap.get_name(), draw.get_name(), layer_id))
    use_local_assets(fmap, current_asset_base(fmap))
    return draw
