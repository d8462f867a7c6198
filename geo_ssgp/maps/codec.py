"""Compact encoding of geometries and features for the page (the Python side of the codec).

Layers are taken in British National Grid (EPSG:27700), simplified to about
:data:`SIMPLIFY_M` metres and converted to WGS84 (:func:`to_page_crs`). Coordinates become
integers in units of ``10**-DECIMALS`` degrees (about a metre), ring vertices are
delta-coded and written as encoded-polyline text (:func:`encode_ints`), and
:func:`compact_features` sends each distinct property value once. The decoder is
``geoSsgp.decode`` in ``web/static/app/map-runtime.js``; :func:`decode_ints` is the Python
inverse of the integer text, for tests and tools.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.maps.format import js_json

#: Simplification tolerance (metres, BNG) and coordinate decimals of geometry sent to the page.
SIMPLIFY_M = 2.0
DECIMALS = 5
#: Integer units per degree of the page's coordinates.
SCALE = 10**DECIMALS


def to_page_crs(geoms: gpd.GeoSeries, simplify: float | None = SIMPLIFY_M) -> gpd.GeoSeries:
    """Simplify in BNG (metres), then convert to WGS84.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        In any CRS; no CRS is taken as BNG.
    simplify : float, optional
        Tolerance in metres; ``None`` or 0 keeps every vertex.

    Returns
    -------
    geopandas.GeoSeries
        In WGS84.
    """
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
    """Inverse of :func:`encode_ints` (the page's ``geoSsgp.ints`` does the same).

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


def _encode_points(arr: np.ndarray, points: np.ndarray, out: list[list]) -> None:
    """Fill ``out`` at the ``points`` indexes with ``["p", x, y]``."""
    xy = np.rint(shapely.get_coordinates(arr[points]) * SCALE).astype(np.int64).tolist()
    for i, (x, y) in zip(points.tolist(), xy, strict=True):
        out[i] = ["p", x, y]


def _encode_polygons(arr: np.ndarray, polys: np.ndarray, out: list[list]) -> None:
    """Fill ``out`` at the ``polys`` indexes with ``["M", text, ring_lengths, rings_per_part]``."""
    parts, part_geom = shapely.get_parts(arr[polys], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    # Drop each ring's closing vertex (the decoder closes rings again).
    last = np.r_[coord_ring[1:] != coord_ring[:-1], True]
    coords, coord_ring = coords[~last], coord_ring[~last]
    q = np.rint(coords * SCALE).astype(np.int64)
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


def _encode_lines(arr: np.ndarray, lines: np.ndarray, out: list[list]) -> None:
    """Fill ``out`` at the ``lines`` indexes with ``["L", text, line_lengths]``."""
    for i in lines.tolist():
        parts = shapely.get_parts(arr[i])
        coords, part = shapely.get_coordinates(parts, return_index=True)
        q = np.rint(coords * SCALE).astype(np.int64)
        delta = np.diff(q, axis=0, prepend=q[:1])
        delta[np.r_[True, part[1:] != part[:-1]]] = q[np.r_[True, part[1:] != part[:-1]]]
        out[i] = ["L", encode_ints(delta.ravel())[0], np.bincount(part).tolist()]


def encode_geometries(geoms: gpd.GeoSeries) -> list[list]:
    """Encode WGS84 points, (multi)lines and (multi)polygons compactly for the page's decoder.

    Coordinates are integers in units of ``10**-DECIMALS`` degrees; within each ring the
    first vertex is absolute and the others are differences from the previous one; the
    closing vertex is left out. The x, y sequence of a geometry is written with
    :func:`encode_ints`.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Points, (Multi)LineStrings (street segments), Polygons or MultiPolygons in WGS84,
        none empty.

    Returns
    -------
    list
        Per geometry ``["p", x, y]``, ``["L", text, line_lengths]`` (every vertex kept) or
        ``["M", text, ring_lengths, rings_per_part]`` where the lengths count vertices.
    """
    arr = np.asarray(geoms.values)
    types = shapely.get_type_id(arr)
    if not np.isin(types, (0, 1, 3, 5, 6)).all():
        raise ValueError("only Point, LineString, Polygon and their Multi forms can be drawn")
    out: list[list] = [[] for _ in range(len(arr))]
    points = np.flatnonzero(types == 0)
    if len(points):
        _encode_points(arr, points, out)
    lines = np.flatnonzero(np.isin(types, (1, 5)))
    if len(lines):
        _encode_lines(arr, lines, out)
    polys = np.flatnonzero(np.isin(types, (3, 6)))
    if len(polys):
        _encode_polygons(arr, polys, out)
    return out


def polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Geometry collections (e.g. from ``make_valid``) reduced to their polygon parts.

    Parameters
    ----------
    geoms : geopandas.GeoSeries

    Returns
    -------
    geopandas.GeoSeries
        Collections become MultiPolygons (empty when they hold no polygon); other
        geometries are unchanged.
    """
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


def compact_features(geoms: gpd.GeoSeries, props: pd.DataFrame) -> tuple[dict, np.ndarray]:
    """Compact feature data of the non-empty rows, for ``geoSsgp.decode`` in the page.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        WGS84 geometries, one per row of ``props``.
    props : pandas.DataFrame
        Display properties (JSON-serialisable values).

    Returns
    -------
    (dict, numpy.ndarray)
        ``{k: property names, v: distinct values, f: [[geometry, [value index, ...]], ...]}``
        (each distinct property value is sent once) and the mask of rows kept.
    """
    geoms = polygonal(geoms)
    keep = ~(geoms.is_empty | geoms.isna()).to_numpy()
    kept = props.reset_index(drop=True)[keep]
    values = kept.astype(object).where(kept.notna(), None).to_numpy()
    flat = pd.Series(values.ravel(), dtype=object)
    codes, uniques = pd.factorize(flat.map(js_json))
    index = codes.reshape(values.shape).tolist() if values.size else [[] for _ in range(len(kept))]
    encoded = encode_geometries(geoms[keep])
    data = {
        "k": list(props.columns),
        "v": [json.loads(u) for u in uniques],
        "f": [list(f) for f in zip(encoded, index, strict=True)],
    }
    return data, keep
