"""The street base layer: the pack's street lines, styled by road class, named at street zoom.

:func:`street_data` turns :func:`geo_ssgp.pack.load_streets` into compact page data (one
encoded-polyline text per road class, and one label per named street part: a point and the
angle of the line there); :func:`add_street_layer` draws it on a map under the layer id
``"streets"`` with the street layer's attribution (OpenStreetMap, ODbL 1.0). The page side is
``geoSsgp.streets`` in ``web/static/app/streets.js``: lines in a pane of their own that
takes no clicks, names along the lines from zoom :data:`LABEL_ZOOM`.

Served maps do not carry the lines: the page fetches them from :func:`street_url` (the app
answers :data:`STREETS_PATH` with the data compressed, an ETag and ``Cache-Control``), so
one download serves every map a browser opens. A standalone map
(:func:`~geo_ssgp.maps.render_standalone`, the meeting report) embeds them.

:func:`add_segment_layer` draws the busiest street segments (counted and selected by
:mod:`geo_ssgp.streets`) as lines coloured by incidents per km.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.maps.codec import SCALE, compact_features, encode_ints, to_page_crs
from geo_ssgp.maps.elements import (
    StreetLayer,
    VectorLayer,
    add_document,
    attribute,
    legend_spec,
    register,
    vector_spec,
)
from geo_ssgp.maps.format import classify, esc, int_text, js_json, num_text, ramp, range_label, text
from geo_ssgp.pack import AreaPack, has_streets, load_streets

#: Path of the app route that serves :func:`street_data` to the pages.
STREETS_PATH = "/map/streets.json"
#: Name of the busiest-segment layer in the layer control.
SEGMENT_LAYER_NAME = "Streets: incidents per km"
#: Zoom level from which street names are shown.
LABEL_ZOOM = 16
#: Street parts shorter than this (metres) get no name label.
LABEL_MIN_M = 80.0

#: Line style per road class group: (OSM ``highway`` values, colour, weight at zoom 16).
ROAD_STYLES = {
    "major": (("motorway", "trunk", "primary"), "#9a7b4f", 3.2),
    "secondary": (("secondary", "tertiary"), "#a89a7a", 2.6),
    "minor": (
        ("residential", "unclassified", "living_street", "road", "service"),
        "#8a8a8a",
        1.8,
    ),
    "path": (("pedestrian", "footway", "path", "cycleway", "track", "steps"), "#a0a0a0", 1.2),
}


def road_group(road_class: object) -> str:
    """The style group of an OSM ``highway`` value (unknown values draw as ``"minor"``).

    Parameters
    ----------
    road_class : object

    Returns
    -------
    str
        A key of :data:`ROAD_STYLES`.
    """
    for group, (classes, _, _) in ROAD_STYLES.items():
        if road_class in classes:
            return group
    return "minor"


def _encode_lines(lines: np.ndarray) -> list:
    """``[text, vertex counts]`` of WGS84 LineStrings, delta-coded within each line."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    q = np.rint(coords * SCALE).astype(np.int64)
    delta = np.diff(q, axis=0, prepend=q[:1])
    first = np.r_[True, owner[1:] != owner[:-1]]
    delta[first] = q[first]
    text, _ = encode_ints(delta.ravel())
    return [text, np.bincount(owner, minlength=len(lines)).tolist()]


def _label_rows(parts: gpd.GeoDataFrame) -> list[list]:
    """Name labels in BNG: ``[x, y, angle in degrees clockwise, name]`` per long named part."""
    named = parts[parts["name"].notna() & (parts.geometry.length >= LABEL_MIN_M)]
    rows = []
    for name, line in zip(named["name"], named.geometry, strict=True):
        half = line.length / 2
        a = line.interpolate(max(half - 10, 0))
        b = line.interpolate(min(half + 10, line.length))
        angle = -np.degrees(np.arctan2(b.y - a.y, b.x - a.x))
        angle = (angle + 90) % 180 - 90  # never upside down
        mid = line.interpolate(half)
        rows.append([mid.x, mid.y, round(float(angle)), str(name)])
    return rows


@lru_cache(maxsize=4)
def _street_data_cached(pack: AreaPack) -> str:
    streets = load_streets(pack)
    parts = streets.explode(index_parts=False).reset_index(drop=True)
    parts = parts[~parts.geometry.is_empty]
    page = to_page_crs(parts.geometry)
    groups = parts["road_class"].map(road_group).to_numpy()
    classes, lines = [], []
    for group, (_, colour, weight) in ROAD_STYLES.items():
        mask = groups == group
        if mask.any():
            classes.append({"color": colour, "weight": weight})
            lines.append(_encode_lines(np.asarray(page.values)[mask]))
    labels = _label_rows(parts)
    names = sorted({row[3] for row in labels})
    index = {name: i for i, name in enumerate(names)}
    xy = to_page_crs(
        gpd.GeoSeries(
            gpd.points_from_xy([r[0] for r in labels], [r[1] for r in labels]), crs=parts.crs
        ),
        simplify=None,
    )
    data = {
        "classes": classes,
        "lines": lines,
        "names": [esc(n) for n in names],
        "labels": [
            [round(p.y * SCALE), round(p.x * SCALE), row[2], index[row[3]]]
            for p, row in zip(xy, labels, strict=True)
        ],
        "labelZoom": LABEL_ZOOM,
    }
    return js_json(data)


def street_data(pack: AreaPack) -> str:
    """The pack's streets as compact page data (JSON text, cached per pack).

    Parameters
    ----------
    pack : AreaPack
        A pack with a ``[streets]`` entry.

    Returns
    -------
    str
        JSON: ``classes`` (Leaflet style per road group of :data:`ROAD_STYLES`), ``lines``
        (per class ``[encoded-polyline text, vertex count per line]``, coordinates as in
        :mod:`geo_ssgp.maps.codec`, lines delta-coded), ``names`` (HTML-escaped street
        names), ``labels`` (``[lat, lon, angle, name index]``, integer coordinates) and
        ``labelZoom``.
    """
    return _street_data_cached(pack)


@lru_cache(maxsize=4)
def street_version(pack: AreaPack) -> str:
    """A short hash of :func:`street_data`: the ETag of the served document.

    Parameters
    ----------
    pack : AreaPack

    Returns
    -------
    str
        16 hexadecimal digits; changes whenever the pack's street data does.
    """
    return hashlib.sha256(street_data(pack).encode()).hexdigest()[:16]


def street_url(pack: AreaPack) -> str:
    """The URL a served map fetches its street data from (versioned by content).

    Parameters
    ----------
    pack : AreaPack

    Returns
    -------
    str
        :data:`STREETS_PATH` with ``?v=`` :func:`street_version`.
    """
    return f"{STREETS_PATH}?v={street_version(pack)}"


def add_street_layer(fmap: folium.Map, pack: AreaPack, show: bool = True) -> StreetLayer | None:
    """Draw the pack's streets (if it has any) as a light base layer with its attribution.

    Parameters
    ----------
    fmap : folium.Map
    pack : AreaPack
    show : bool
        Whether the streets are on when the page opens.

    Returns
    -------
    StreetLayer or None
        The layer (id ``"streets"``, ``"Streets"`` in the layer control): fetched from
        :func:`street_url` by a served page, embedded by a standalone one; ``None`` when the
        pack has no ``[streets]``.
    """
    if not has_streets(pack):
        return None
    layer = StreetLayer(
        lambda: street_data(pack), street_url(pack), name="Streets", show=show
    )
    layer.add_to(fmap)
    register(fmap, layer, "streets", "streets")
    attribute(fmap, pack.streets.get("attribution", "osm"))
    return layer


#: Popup fields of a street segment (property, alias).
_SEGMENT_FIELDS = (
    ("name", "Street"),
    ("ward", "Ward"),
    ("incidents", "Incidents (on or near)"),
    ("per_km", "Incidents per km"),
    ("length", "Segment length"),
    ("street_share", "Busiest street length up to here"),
    ("incident_share", "Share of incidents up to here"),
)


def _percent(values: pd.Series) -> pd.Series:
    return num_text(values.astype(float) * 100, 1) + "%"


def _segment_props(segments: gpd.GeoDataFrame) -> pd.DataFrame:
    """Display properties (escaped text) of street segments."""
    return pd.DataFrame(
        {
            "name": text(segments["name"].fillna("(unnamed)")),
            "ward": text(segments["ward_nm"]),
            "incidents": int_text(segments["n_incidents"]),
            "per_km": num_text(segments["per_km"], 1),
            "length": num_text(segments["length_m"], 0) + " m",
            "street_share": _percent(segments["street_share"]),
            "incident_share": _percent(segments["incident_share"]),
        }
    ).reset_index(drop=True)


def segment_document(segments: gpd.GeoDataFrame, k: int = 5) -> dict:
    """The page data of the busiest street segments: lines, style spec and legend.

    One implementation for the layer drawn with its map (:func:`add_segment_layer`) and for
    one fetched when it is first shown (:func:`~geo_ssgp.maps.layers.add_lazy_layer`).
    Parameters as :func:`add_segment_layer`.

    Returns
    -------
    dict
        ``data``, ``spec`` and ``legend`` (see :func:`~geo_ssgp.maps.layers.hotspot_document`).
    """
    cls, bounds = classify(segments["per_km"], k, "quantiles")
    colours = ramp("YlOrRd", len(bounds))
    data, keep = compact_features(to_page_crs(segments.geometry), _segment_props(segments))
    spec = {
        "styles": [{"color": c, "weight": 4, "opacity": 0.9} for c in colours],
        "classes": cls[keep].tolist(),
        "highlight": {"weight": 7},
        "tooltip": {
            "fields": ["name", "per_km"],
            "aliases": ["Street", "Incidents per km"],
            "options": {"sticky": True},
        },
        "popup": {
            "fields": [f for f, _ in _SEGMENT_FIELDS],
            "aliases": [a for _, a in _SEGMENT_FIELDS],
        },
    }
    legend = _segment_legend(segments, colours, bounds)
    return {"data": data, "spec": vector_spec(spec), "legend": legend}


def add_segment_layer(
    fmap: folium.Map,
    segments: gpd.GeoDataFrame,
    name: str = SEGMENT_LAYER_NAME,
    show: bool = False,
    k: int = 5,
) -> VectorLayer:
    """The busiest street segments as lines coloured by incidents per km, with a legend.

    Parameters
    ----------
    fmap : folium.Map
    segments : geopandas.GeoDataFrame
        :func:`geo_ssgp.streets.busiest_segments` (EPSG:27700): ``name``, ``ward_nm``,
        ``n_incidents``, ``per_km``, ``length_m``, ``street_share``, ``incident_share``;
        ``attrs`` ``street_share``, ``min_incidents`` and ``incident_share`` (legend).
    name : str
        Name in the layer control.
    show : bool
        Whether the layer is on when the page opens.
    k : int
        Number of quantile classes of ``per_km``.

    Returns
    -------
    VectorLayer
        Layer id ``"street-segments"``; the legend says how much of the incidents the
        selected street length holds, and the map credits OpenStreetMap (ODbL).
    """
    doc = segment_document(segments, k)
    layer = add_document(fmap, doc, name, "street-segments", "segments", show=show)
    attribute(fmap, "osm", "police")
    return layer


def _segment_legend(
    segments: gpd.GeoDataFrame, colours: list[str], bounds: list[tuple[float, float]]
) -> dict:
    """Legend of the street-segment layer: classes, the share held, what a segment is."""
    share = segments.attrs.get("street_share", float(segments["street_share"].max()))
    held = segments.attrs.get("incident_share", float(segments["incident_share"].max()))
    least = segments.attrs.get("min_incidents", 1)
    swatches = [(c, range_label(lo, hi, 1)) for c, (lo, hi) in zip(colours, bounds, strict=True)]
    notes = [
        f"The busiest {share:.0%} of street length (by incidents per km) holds {held:.1%} of "
        f"the incidents on streets; drawn: its {len(segments):,} segments with at least "
        f"{least} incidents.",
        "Segments run junction to junction; incidents are police.uk map points snapped to "
        "the nearest street ('on or near'), never addresses.",
    ]
    return legend_spec("Incidents per km of street", swatches, notes=notes)
