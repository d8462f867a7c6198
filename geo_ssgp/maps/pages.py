"""Whole maps for the app's pages, composed from the layer builders.

:func:`build_analyst_map` is the analyst's map (LSOA choropleths, every hotspot method,
the KDE surface, incidents and wards), :func:`build_area_map` the PCSO's map of one ward or
LSOA, :func:`build_meeting_map` the map of one period on the meeting page and in its
downloadable report, and :func:`build_difference_map` the meeting's map of tested change.
Each returns a ``folium.Map`` with local assets; render it with :func:`geo_ssgp.maps.render`
or :func:`geo_ssgp.maps.render_standalone`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo_ssgp.config import CRS_BNG
from geo_ssgp.maps.assets import DEFAULT_ASSET_BASE, use_local_assets
from geo_ssgp.maps.layers import (
    add_area_layer,
    add_hotspot_layer,
    add_incident_layer,
    add_lazy_layer,
    add_number_labels,
    add_place_layer,
    add_surface_layer,
    add_ward_layer,
    area_level,
    base_map,
    fit_to,
    hotspot_colour,
    hotspot_document,
    note_document,
    surface_document,
)
from geo_ssgp.maps.layers import surface_column as layer_surface_column
from geo_ssgp.maps.spacetime import add_change_layer
from geo_ssgp.maps.streets import SEGMENT_LAYER_NAME, add_segment_layer, segment_document
from geo_ssgp.pack import AreaPack

#: Names of the analyst map's LSOA layers in the layer control, by column.
ANALYST_LAYER_NAMES = {
    "count": "LSOA: incidents",
    "rate_per_1000": "LSOA: incidents per 1,000 residents",
    "imd_decile": "LSOA: IMD decile",
}


#: Layer-control name (and legend title) of the analyst map's KDE surface.
SURFACE_NAME = "KDE surface"
#: Legend note of the busiest-segments layer when no segment holds enough incidents.
NO_SEGMENTS = "No street segment holds enough of the selected incidents to draw."


def hotspot_layer_name(method: str) -> str:
    """Layer-control name (and legend title) of a method's hotspot layer on the analyst map."""
    return f"Hotspots: {method}"


def analyst_lazy_layer_ids(methods: Sequence[str], default: str, streets: bool) -> list[str]:
    """Ids of the analyst map's layers that are off when it opens, drawn when first shown.

    Parameters
    ----------
    methods : sequence of str
        The map's hotspot methods, in layer-control order.
    default : str
        The method shown when the map opens (computed with the map, so not on demand).
    streets : bool
        Whether the pack has streets (the busiest-segments layer).

    Returns
    -------
    list of str
        ``surface`` (the KDE surface) when KDE is one of ``methods``,
        ``hotspots:<method>`` for each other method, and ``street-segments``.
    """
    ids = [f"hotspots:{m}" for m in methods if m != default]
    return (["surface"] if "kde" in methods else []) + ids + (["street-segments"] * streets)


def lazy_layer_method(layer_id: str) -> str | None:
    """The hotspot method an on-demand analyst layer draws (``kde`` for the surface), or None."""
    if layer_id == "surface":
        return "kde"
    kind, _, method = layer_id.partition(":")
    return method if kind == "hotspots" else None


def analyst_layer_document(layer_id: str, content: Any, methods: Sequence[str]) -> dict:
    """The document of an on-demand analyst-map layer, as :func:`build_analyst_map` draws it.

    Parameters
    ----------
    layer_id : str
        One of :func:`analyst_lazy_layer_ids`.
    content : HotspotLayer, GeoDataFrame, str or None
        For ``street-segments`` the busiest segments (None or empty: a note says none); for
        the others the hotspot layer of :func:`lazy_layer_method` (its surface for
        ``surface``), or a str saying why the method could not run (an empty layer whose
        legend says so).
    methods : sequence of str
        The map's hotspot methods in layer-control order (the position picks the colour).

    Returns
    -------
    dict
        ``data``, ``spec`` and ``legend`` (see :func:`~geo_ssgp.maps.layers.hotspot_document`).
    """
    if lazy_layer_method(layer_id) is None:
        if content is None or not len(content):
            return note_document(SEGMENT_LAYER_NAME, NO_SEGMENTS)
        return segment_document(content)
    method = lazy_layer_method(layer_id)
    title = SURFACE_NAME if layer_id == "surface" else hotspot_layer_name(method)
    if isinstance(content, str):
        return note_document(title, content)
    if layer_id == "surface":
        return surface_document(content.surface, layer_surface_column(content.surface), title)
    return hotspot_document(content, title, hotspot_colour(list(methods).index(method)))


def _add_analyst_areas(fmap: folium.Map, area_stats: gpd.GeoDataFrame, level: str | None) -> None:
    """The LSOA choropleths of :data:`ANALYST_LAYER_NAMES` (IMD only when known; rate on)."""
    for column, name in ANALYST_LAYER_NAMES.items():
        if column == "imd_decile" and not (
            column in area_stats and area_stats[column].notna().any()
        ):
            continue
        add_area_layer(
            fmap, area_stats, column, name=name, show=column == "rate_per_1000", level=level
        )


def build_analyst_map(
    pack: AreaPack,
    area_stats: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    hotspot_layers: Mapping[str, Any],
    default_method: str,
    incidents: gpd.GeoDataFrame | None = None,
    surface: gpd.GeoDataFrame | str | None = None,
    tiles: str | None = None,
    surface_column: str | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    overlays: Sequence[Callable[[folium.Map], Any]] = (),
    street_segments: gpd.GeoDataFrame | str | None = None,
) -> folium.Map:
    """The analyst map: LSOA choropleths, hotspot layers, surface, streets, incidents, wards.

    Parameters
    ----------
    pack : AreaPack
    area_stats : geopandas.GeoDataFrame
        Per-LSOA statistics (see :func:`~geo_ssgp.maps.layers.add_area_layer`).
    wards : geopandas.GeoDataFrame
        Ward polygons (``code``, ``name``).
    hotspot_layers : mapping of str to HotspotLayer or str
        Hotspot layers by method key (e.g. ``"gistar"``, ``"kde"``, ``"hdbscan"``), in the
        order of the layer control (the position picks the colour, :func:`hotspot_colour`).
        A str is the URL of the layer's :func:`~geo_ssgp.maps.layers.hotspot_document`:
        listed but fetched when first shown (:func:`~geo_ssgp.maps.layers.add_lazy_layer`;
        a served map computes only what it shows when it opens).
    default_method : str
        Key of the hotspot layer shown when the page opens.
    incidents : geopandas.GeoDataFrame, optional
        Incidents, drawn clustered by snap point (off by default).
    surface : geopandas.GeoDataFrame or str, optional
        KDE density grid (off by default), or the URL of its
        :func:`~geo_ssgp.maps.layers.surface_document` (fetched when first shown).
    tiles : str, optional
        Base-map tiles; ``None`` draws none.
    surface_column : str, optional
        Value column of ``surface``; default :func:`~geo_ssgp.maps.layers.surface_column`.
    asset_base : str
        URL prefix of the vendor folder.
    overlays : sequence of callable
        Each adds one more layer to the map (e.g. the space-time layers of
        :mod:`geo_ssgp.maps.spacetime`), before the layer control is made so it lists them.
    street_segments : geopandas.GeoDataFrame or str, optional
        The busiest street segments (:func:`geo_ssgp.streets.busiest_segments`), drawn as
        lines coloured by incidents per km (off by default), or the URL of their
        :func:`~geo_ssgp.maps.streets.segment_document` (fetched when first shown).

    Returns
    -------
    folium.Map
        With an expanded layer control listing :data:`ANALYST_LAYER_NAMES` (count, rate,
        IMD decile choropleths, rate on), one ``"Hotspots: <key>"`` per hotspot layer
        (``default_method`` on), ``"KDE surface"``, ``"Streets: incidents per km"`` and
        ``"Incidents"`` (off) and ``"Wards"`` (on).
    """
    if hotspot_layers and default_method not in hotspot_layers:
        raise ValueError(
            f"default_method {default_method!r} is not one of {sorted(hotspot_layers)}"
        )
    fmap = base_map(pack, tiles=tiles, asset_base=asset_base)
    _add_analyst_areas(fmap, area_stats, area_level(area_stats, pack.primary_lsoa))
    if isinstance(surface, str):
        add_lazy_layer(fmap, surface, SURFACE_NAME, "surface", "surface")
    elif surface is not None:
        add_surface_layer(
            fmap, surface, surface_column or layer_surface_column(surface), name=SURFACE_NAME
        )
    for position, (key, layer) in enumerate(hotspot_layers.items()):
        name, layer_id, show = hotspot_layer_name(key), f"hotspots:{key}", key == default_method
        if isinstance(layer, str):
            add_lazy_layer(fmap, layer, name, layer_id, "hotspots", show=show)
        else:
            color = hotspot_colour(position)
            add_hotspot_layer(fmap, layer, name, show=show, layer_id=layer_id, color=color)
    if isinstance(street_segments, str):
        add_lazy_layer(fmap, street_segments, SEGMENT_LAYER_NAME, "street-segments", "segments")
    elif street_segments is not None and len(street_segments):
        add_segment_layer(fmap, street_segments)
    if incidents is not None:
        add_incident_layer(fmap, incidents, show=False)
    for add in overlays:
        add(fmap)
    add_ward_layer(fmap, wards)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return use_local_assets(fmap, asset_base)


def _as_geoseries(area_geom: Any) -> gpd.GeoSeries:
    if isinstance(area_geom, gpd.GeoDataFrame):
        return area_geom.geometry
    if isinstance(area_geom, gpd.GeoSeries):
        return area_geom
    return gpd.GeoSeries([area_geom], crs=CRS_BNG)


def _area_name(area_geom: Any, name: str | None) -> str:
    """The given name, else the GeoDataFrame's ``name`` values joined, else ``"Area"``."""
    if name is None and isinstance(area_geom, gpd.GeoDataFrame) and "name" in area_geom:
        name = ", ".join(area_geom["name"].astype(str))
    return name or "Area"


def build_area_map(
    pack: AreaPack,
    area_geom: Any,
    incidents: gpd.GeoDataFrame | None,
    hotspot_layer: Any | None,
    tiles: str | None = None,
    name: str | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
) -> folium.Map:
    """A simple map of one ward or LSOA for PCSOs: its outline, hotspots and incidents.

    Parameters
    ----------
    pack : AreaPack
    area_geom : GeoDataFrame, GeoSeries or shapely geometry
        The area (EPSG:27700); a GeoDataFrame's ``name`` column titles the outline.
    incidents : geopandas.GeoDataFrame, optional
        Incidents to draw (on); select them with :func:`geo_ssgp.reports.place_content`.
    hotspot_layer : HotspotLayer, optional
        Hotspots to draw (on); select them with :func:`geo_ssgp.reports.place_content`.
    tiles : str, optional
        Base-map tiles; ``None`` draws none.
    name : str, optional
        Area name for the layer control; defaults to the GeoDataFrame's ``name``.
    asset_base : str
        URL prefix of the vendor folder.

    Returns
    -------
    folium.Map
        Fitted to the area; layer ids ``"area"``, ``"hotspots"`` (numbered 1, 2, ... in rank
        order, layer ``"hotspot-numbers"``, as :func:`geo_ssgp.reports.area_hotspots` numbers
        its list), ``"incidents"``; a collapsed layer control.
    """
    geoms = _as_geoseries(area_geom)
    geoms = geoms.set_crs(CRS_BNG) if geoms.crs is None else geoms.to_crs(CRS_BNG)
    name = _area_name(area_geom, name)
    area = shapely.union_all(np.asarray(geoms.values))
    fmap = base_map(pack, tiles=tiles, asset_base=asset_base)
    fit_to(fmap, gpd.GeoSeries([area.buffer(100)], crs=CRS_BNG))
    add_place_layer(fmap, area, name, layer_id="area")
    if hotspot_layer is not None:
        add_hotspot_layer(fmap, hotspot_layer, show=True, layer_id="hotspots")
        add_number_labels(fmap, hotspot_layer.hotspots.sort_values("rank").geometry)
    if incidents is not None:
        add_incident_layer(fmap, incidents, show=True)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return use_local_assets(fmap, asset_base)


def build_meeting_map(
    pack: AreaPack,
    area_stats: gpd.GeoDataFrame,
    layer: Any | None,
    wards: gpd.GeoDataFrame,
    *,
    method: str,
    tiles: str | None = None,
    bins: Sequence[float] | None = None,
) -> folium.Map:
    """The map of one meeting period: one method's hotspots over LSOA counts and wards.

    Parameters
    ----------
    pack : AreaPack
    area_stats : geopandas.GeoDataFrame
        Per-LSOA statistics of the period (see :func:`~geo_ssgp.maps.layers.add_area_layer`);
        coloured by ``count``.
    layer : HotspotLayer, optional
        Hotspots of the period; ``None`` when the method could not run on the data.
    wards : geopandas.GeoDataFrame
        Ward polygons (``code``, ``name``).
    method : str
        Method key; the hotspot layer's id is ``"hotspots:<method>"``.
    tiles : str, optional
        Base-map tiles; ``None`` draws none.
    bins : sequence of float, optional
        Upper class bounds of the counts, shared by the periods compared (computed by
        :func:`geo_ssgp.reports.meeting_bins`); quantiles of this period when omitted.

    Returns
    -------
    folium.Map
        Layers ``"LSOA: incidents"`` (on), ``"Hotspots: <layer method>"`` (on) and
        ``"Wards"`` (on), with an expanded layer control.
    """
    fmap = base_map(pack, tiles=tiles)
    add_area_layer(fmap, area_stats, "count", name="LSOA: incidents", show=True, bins=bins)
    if layer is not None:
        add_hotspot_layer(fmap, layer, show=True, layer_id=f"hotspots:{method}")
    add_ward_layer(fmap, wards)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def build_difference_map(
    pack: AreaPack,
    change: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    tiles: str | None = None,
) -> folium.Map:
    """The meeting's difference map: every place coloured by its tested change.

    Parameters
    ----------
    pack : AreaPack
    change : geopandas.GeoDataFrame
        :func:`geo_ssgp.hotspots.change.pack_change` output (LSOAs or cells, EPSG:27700).
    wards : geopandas.GeoDataFrame
        Ward polygons (``code``, ``name``).
    tiles : str, optional
        Base-map tiles; ``None`` draws none.

    Returns
    -------
    folium.Map
        Layers ``"Change"`` (significant increase, significant decrease, no significant
        change; tooltips with both counts and the adjusted p) and ``"Wards"``.
    """
    fmap = base_map(pack, tiles=tiles)
    add_change_layer(fmap, change, significant_only=False, layer_id="difference")
    add_ward_layer(fmap, wards)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
