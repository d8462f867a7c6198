"""Folium map and layer builders for the analyst, PCSO and meeting maps (no HTTP here).

Modules
-------
``assets``
    Vendored Leaflet files and the map runtime: local links, :func:`render`,
    :func:`render_parts`, :func:`render_standalone` (everything inlined).
``codec``
    Compact geometry and integer encoding of the data sent to the page.
``format``
    Escaping, value text, labels, classification and colour ramps.
``elements``
    The Folium elements that call the page runtime ``web/static/app/map-runtime.js``.
``snap_points``
    Incidents grouped by police.uk snap point for the incident layer.
``streets``
    The pack's street lines as a light base layer: road classes, names at street zoom;
    fetched by a served page from one cached document
    (:func:`~geo_ssgp.maps.streets.street_url`), embedded by :func:`render_standalone`.
``layers``
    :func:`base_map` and the ``add_*`` layer builders; a layer's page data as one document
    (:func:`hotspot_document`, :func:`surface_document`), drawn with its map or fetched by
    :func:`add_lazy_layer` when first shown.
``spacetime``
    The space-time overlays: :func:`add_emerging_layer` (emerging categories) and
    :func:`add_change_layer` (tested change between two periods).
``pages``
    Whole maps: :func:`build_analyst_map`, :func:`build_area_map`, :func:`build_meeting_map`,
    :func:`build_difference_map`.
``state``
    Per-map bookkeeping stored on the ``folium.Map``.

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
incident (``benchmarks/bench_maps.py``, baseline in ``benchmarks/naive_map.py``); the street
lines (0.24 MB, 0.13 MB gzip) are a separate document the browser fetches once and caches.

Offline assets
--------------
Every script and stylesheet comes from the app: Leaflet and its plugins from
``/static/vendor`` (``make web-assets``), the map runtime, the street layer script and the
styles from ``/static/app``. :func:`render_standalone` inlines them all (and the street lines),
so the file opens with no server and no network. Base-map tiles are optional (``tiles=None``
draws none); LSOA, ward and district outlines keep the map readable without them.

Page hook: ``window.geoSsgp``
-----------------------------
The map runtime creates (or extends) a ``window.geoSsgp`` object that page scripts use:

``geoSsgp.map``
    The ``L.Map``.
``geoSsgp.layers[id]``
    Each layer added by this package under a stable id: ``"areas:<column>"`` (LSOA
    choropleths, e.g. ``"areas:rate_per_1000"``, ``"areas:count"``, ``"areas:imd_decile"``),
    ``"wards"``, ``"hotspots:<key>"``, ``"surface"``, ``"incidents"``, ``"area"`` (outline of
    the area map), ``"draw"`` (the ``L.FeatureGroup`` of drawn shapes), ``"streets"`` (its
    ``geoSsgpLoaded`` turns true once the fetched lines are drawn). Each layer's
    ``geoSsgpKind`` is its kind (``"areas"``, ``"wards"``, ...). A layer drawn on demand
    (:func:`add_lazy_layer`: on the served analyst map, the hotspot layers other than the
    default, ``"surface"`` and ``"street-segments"``) is an ``L.FeatureGroup`` that fetches
    its document the first time it is switched on; its ``geoSsgpLoaded`` turns true once
    drawn.
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

from geo_ssgp.errors import AssetError
from geo_ssgp.maps.assets import (
    APP_ASSETS,
    APP_DIR,
    DEFAULT_ASSET_BASE,
    UNUSED_MAP_ASSETS,
    VENDOR_ASSETS,
    VENDOR_DIR,
    external_assets,
    render,
    render_parts,
    render_standalone,
    use_local_assets,
)
from geo_ssgp.maps.codec import (
    DECIMALS,
    SIMPLIFY_M,
    decode_ints,
    encode_geometries,
    encode_ints,
)
from geo_ssgp.maps.elements import attribution_lines
from geo_ssgp.maps.format import SNAP_POINT_NOTE, classify
from geo_ssgp.maps.layers import (
    add_area_layer,
    add_draw_control,
    add_hotspot_layer,
    add_incident_layer,
    add_lazy_layer,
    add_number_labels,
    add_place_layer,
    add_surface_layer,
    add_ward_layer,
    area_level,
    base_map,
    hotspot_colour,
    hotspot_document,
    note_document,
    surface_column,
    surface_document,
)
from geo_ssgp.maps.pages import (
    ANALYST_LAYER_NAMES,
    analyst_layer_document,
    analyst_lazy_layer_ids,
    build_analyst_map,
    build_area_map,
    build_difference_map,
    build_meeting_map,
    lazy_layer_method,
)
from geo_ssgp.maps.snap_points import snap_point_rows
from geo_ssgp.maps.spacetime import add_change_layer, add_emerging_layer
from geo_ssgp.maps.streets import segment_document

__all__ = [
    "ANALYST_LAYER_NAMES",
    "APP_ASSETS",
    "APP_DIR",
    "DECIMALS",
    "DEFAULT_ASSET_BASE",
    "SIMPLIFY_M",
    "SNAP_POINT_NOTE",
    "UNUSED_MAP_ASSETS",
    "VENDOR_ASSETS",
    "VENDOR_DIR",
    "AssetError",
    "add_area_layer",
    "add_change_layer",
    "add_emerging_layer",
    "add_draw_control",
    "add_hotspot_layer",
    "add_incident_layer",
    "add_lazy_layer",
    "add_place_layer",
    "add_number_labels",
    "add_surface_layer",
    "add_ward_layer",
    "area_level",
    "attribution_lines",
    "base_map",
    "analyst_lazy_layer_ids",
    "analyst_layer_document",
    "build_analyst_map",
    "lazy_layer_method",
    "build_area_map",
    "build_difference_map",
    "build_meeting_map",
    "classify",
    "decode_ints",
    "encode_geometries",
    "encode_ints",
    "external_assets",
    "render",
    "render_parts",
    "render_standalone",
    "segment_document",
    "snap_point_rows",
    "hotspot_colour",
    "hotspot_document",
    "note_document",
    "surface_column",
    "surface_document",
    "use_local_assets",
]
