"""Points -> LSOA 2021 / LSOA 2011, ward and district, and agreement with the source's LSOA.

:func:`geocode` assigns every incident point to the polygons of the area pack by
point-in-polygon (a spatial index over the points, queried with the prepared polygons of
each layer), and :func:`lsoa_agreement` compares the result with the LSOA that police.uk
published for each record.

Rules, applied in this order:

1. **District.** Every point is located in the pack's district layer (county-wide
   district polygons); ``lad_cd`` is set wherever a point falls in one. A point inside a
   district of the pack (:attr:`~geo_ssgp.config.AreaPack.district_codes`) is *in the area*;
   every other point gets ``status="outside_area"``, keeps its row and its ``lad_cd``, and
   has empty LSOA and ward fields.
2. **Point in polygon.** Points in the area are located in each polygon layer the pack
   has (``lsoa21``, ``lsoa11``, ``ward``). The predicate is *intersects*, so a point on a
   boundary touches every polygon that shares it.
3. **Edge rule.** A point that intersects several polygons of one layer (on a shared edge
   or vertex) goes to the polygon with the **lowest code**. A point inside a polygon hole
   (E01022345 has a hole that E01022346 fills) only intersects the filling polygon.
4. **Generalisation gaps.** A point in the area but outside every polygon of a layer (the
   generalised LSOA and district outlines differ by a few metres) goes to the nearest
   polygon within :data:`SNAP_DISTANCE_M` (lowest code on a tie) and is flagged
   ``ambiguous``. A point further than that from every LSOA is ``outside_area``.
5. **Lookups.** A pack without LSOA 2021 polygons carries ``lsoa21cd`` from the ONS
   best-fit lookup ``lookups.lsoa11_lsoa21_bestfit`` (a split 2011 LSOA maps to one of its
   2021 parts only); without ward polygons, the ward comes from ``lookups.lsoa11_ward``;
   without LSOA 2011 polygons, ``lsoa11cd`` is the parent in ``lookups.lsoa11_lsoa21``.
   Names come from the lookup's ``lsoa21_name`` / ``lsoa11_name`` column (default
   ``LSOA21NM`` / ``LSOA11NM``) and the entry's ``ward_name``.
6. **Edge distance.** ``edge_distance_m`` is the distance in metres from the point to the
   boundary of its LSOA in the pack's primary layer (:attr:`AreaPack.primary_lsoa`);
   ``ambiguous`` is true when it is below the pack's ``edge_tolerance_m`` (the setting,
   default :data:`~geo_ssgp.schema.EDGE_TOLERANCE_M`, the measured boundary error) or
   when the point was snapped to a nearest polygon in any layer. ``lsoa_rule`` is
   ``"polygon"`` for every point in the area (``""`` outside).
7. **Map-point memory** (:func:`recall_map_points`, applied by the store's ingest).
   police.uk map points are a fixed published set, and every police.uk row carries the LSOA
   2021 code police.uk gave its map point. An ``ambiguous`` police.uk point (inside the band
   where generalised and full-resolution boundaries disagree) whose exact map point carried
   an LSOA code in an **earlier month** (:func:`map_point_memory`) takes that code (the most
   frequent one; lowest code on a tie) when the pack has the LSOA and its polygon lies within
   the band of the point; ``lsoa_rule`` becomes ``"map_point"``. A row's own code, and codes
   of its own or later months, are never used, so the rule is evaluated on months it did not
   learn from. LSOA 2011, ward and district stay from the polygons.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.config import CRS_BNG, get_settings
from geo_ssgp.incidents.locate import distinct_locations
from geo_ssgp.pack import LSOA_NAME, AreaPack, load_layer, load_pack, read_table
from geo_ssgp.schema import GEOCODE_COLUMNS

#: Points in the area but in a gap between generalised polygons snap to the nearest
#: polygon within this distance (metres).
SNAP_DISTANCE_M = 100.0

#: ``DataFrame.attrs`` key under which :func:`geocode` records its pack and rules.
ATTRS_KEY = "geocode"

#: Columns of a map-point memory (:func:`map_point_memory`).
MEMORY_COLUMNS = ["x", "y", "month", "lsoa21cd", "n"]

#: Map points are matched on EPSG:27700 coordinates rounded to this many decimals (0.1 m).
_POINT_DECIMALS = 1

#: LSOA names are ``<district name> <3-digit MSOA number><letter>``.

_NONE = -1
_POLYGON_LAYERS = ("lsoa21", "lsoa11", "ward")

#: GEOS prepared geometries build their indexes lazily and are not thread-safe
#: (libgeos/geos#825); the cached prepared layers are shared, so queries are serialised.
_PREPARED_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class _Layer:
    """A polygon layer ready for point queries: codes sorted, geometries prepared."""

    key: str
    codes: np.ndarray
    names: np.ndarray
    geoms: np.ndarray
    boundaries: np.ndarray
    tree: shapely.STRtree
    bounds: np.ndarray  # total bounds (minx, miny, maxx, maxy)


@lru_cache(maxsize=32)
def _layer(pack: AreaPack, key: str) -> _Layer:
    """Load and prepare a layer once per pack (sorted by code, so index order = code order)."""
    gdf = load_layer(pack, key).sort_values("code", ignore_index=True)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    shapely.prepare(geoms)
    return _Layer(
        key=key,
        codes=gdf["code"].to_numpy(dtype=object),
        names=gdf["name"].to_numpy(dtype=object),
        geoms=geoms,
        boundaries=shapely.boundary(geoms),
        tree=shapely.STRtree(geoms),
        bounds=np.asarray(gdf.total_bounds),
    )


def _take(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[idx]`` as an object array with ``None`` where ``idx`` is -1."""
    out = np.full(len(idx), None, dtype=object)
    hit = idx >= 0
    out[hit] = values[idx[hit]]
    return out


def _text_column(values: np.ndarray, idx: np.ndarray, index: pd.Index) -> pd.Series:
    """A string column ``values[idx]`` (missing where ``idx`` is -1) in pandas' string dtype.

    With pyarrow-backed strings (pandas 3) the column is built by an Arrow ``take``,
    which is much faster than converting a million-element object array.
    """
    dtype = pd.Series([""]).dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa  # present whenever pandas stores strings in Arrow

        taken = pa.array(values, pa.large_string()).take(pa.array(idx, mask=idx < 0))
        return pd.Series(dtype.__from_arrow__(pa.chunked_array([taken])), index=index)
    return pd.Series(_take(values, idx), index=index)


def _lowest(n: int, point_idx: np.ndarray, poly_idx: np.ndarray) -> np.ndarray:
    """Per point, the lowest polygon index among its hits (-1 for none)."""
    best = np.full(n, np.iinfo(np.intp).max, dtype=np.intp)
    np.minimum.at(best, point_idx, poly_idx.astype(np.intp))
    best[best == np.iinfo(np.intp).max] = _NONE
    return best


def _in_polygons(
    tree: shapely.STRtree,
    xy: tuple[np.ndarray, np.ndarray],
    layer: _Layer,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Locate the points of ``tree`` in ``layer`` (intersects, lowest code wins).

    The tree holds the points and is queried with the polygons' bounding boxes; each
    candidate pair is then tested with the prepared polygon (``intersects_xy``), so each
    polygon is prepared once for all points inside its bounding box. ``keep`` (bool per
    point) drops candidates that are not wanted before the exact test.
    """
    x, y = xy
    poly_idx, point_idx = tree.query(layer.geoms)
    if keep is not None:
        wanted = keep[point_idx]
        poly_idx, point_idx = poly_idx[wanted], point_idx[wanted]
    hit = shapely.intersects_xy(layer.geoms[poly_idx], x[point_idx], y[point_idx])
    return _lowest(len(x), point_idx[hit], poly_idx[hit])


def _snap(points: np.ndarray, layer: _Layer, max_distance: float) -> np.ndarray:
    """Nearest polygon of ``layer`` within ``max_distance`` per point (lowest code on ties)."""
    if len(points) == 0:
        return np.empty(0, dtype=np.intp)
    point_idx, poly_idx = layer.tree.query_nearest(
        points, max_distance=max_distance, all_matches=True
    )
    return _lowest(len(points), point_idx, poly_idx)


def _bng_points(incidents: gpd.GeoDataFrame) -> np.ndarray:
    """Incident geometries as a shapely array in EPSG:27700."""
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise TypeError("geocode expects a GeoDataFrame of incident points")
    geoms = incidents.geometry
    if len(geoms) and geoms.crs is None:
        raise ValueError("incident points have no CRS; set EPSG:27700 or EPSG:4326 first")
    if geoms.crs is not None and geoms.crs.to_epsg() != 27700:
        geoms = geoms.to_crs(CRS_BNG)
    return np.asarray(geoms.values, dtype=object)


@dataclass(frozen=True)
class _Field:
    """Assigned codes and names of one geography, as indices into small value arrays."""

    codes: np.ndarray
    names: np.ndarray
    idx: np.ndarray  # per point, -1 where not assigned

    def through(self, table: tuple[pd.Index, np.ndarray, np.ndarray]) -> _Field:
        """Map this field's codes through a lookup ``(source index, codes, names)``."""
        index, codes, names = table
        pos = index.get_indexer(pd.Index(self.codes, dtype=object))
        idx = np.where(self.idx >= 0, pos[np.maximum(self.idx, 0)], _NONE)
        return _Field(codes, names, idx)


@lru_cache(maxsize=16)
def _lookup(pack: AreaPack, key: str, src: str, dst: str, dst_name: str | None):
    """A lookup table of the pack as ``(index of src codes, dst codes, dst names)``.

    Where a source code appears more than once, the first row wins; names are ``None``
    when the table has no ``dst_name`` column.
    """
    entry = pack.lookups[key]
    df = read_table(pack, "lookups", key).drop_duplicates(entry[src])
    codes = df[entry[dst]].to_numpy(dtype=object)
    names = df[dst_name].to_numpy(dtype=object) if dst_name in df.columns else None
    if names is None:
        names = np.full(len(codes), None, dtype=object)
    return pd.Index(df[entry[src]]), codes, names


def _lookup_fields(pack: AreaPack, fields: dict[str, _Field]) -> None:
    """Fill LSOA and ward fields that the pack has no polygons for, through its lookups."""
    if "lsoa11" not in fields and "lsoa21" in fields and pack.has("lookups", "lsoa11_lsoa21"):
        name = pack.lookups["lsoa11_lsoa21"].get("lsoa11_name", "LSOA11NM")
        table = _lookup(pack, "lsoa11_lsoa21", "lsoa21", "lsoa11", name)
        fields["lsoa11"] = fields["lsoa21"].through(table)
    if "lsoa21" not in fields and "lsoa11" in fields:
        if pack.has("lookups", "lsoa11_lsoa21_bestfit"):
            name = pack.lookups["lsoa11_lsoa21_bestfit"].get("lsoa21_name", "LSOA21NM")
            table = _lookup(pack, "lsoa11_lsoa21_bestfit", "lsoa11", "lsoa21", name)
            fields["lsoa21"] = fields["lsoa11"].through(table)
    if "ward" not in fields and "lsoa11" in fields and pack.has("lookups", "lsoa11_ward"):
        entry = pack.lookups["lsoa11_ward"]
        table = _lookup(pack, "lsoa11_ward", "lsoa11", "ward_code", entry.get("ward_name"))
        fields["ward"] = fields["lsoa11"].through(table)


def _prefilter(points: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Positions of the valid points inside a bounding box (the only ones indexed)."""
    valid = np.flatnonzero(~(shapely.is_missing(points) | shapely.is_empty(points)))
    x, y = shapely.get_x(points[valid]), shapely.get_y(points[valid])
    minx, miny, maxx, maxy = bounds
    return valid[(x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)]


def inside_area(incidents: pd.DataFrame) -> pd.DataFrame:
    """The geocoded incidents inside the pack's area (``status == "ok"``).

    Rows geocoded elsewhere (``outside_area``, quarantine reasons) are left out; a table
    without a ``status`` column (not geocoded here) is returned as it is.
    """
    return incidents[incidents["status"] == "ok"] if "status" in incidents else incidents


def geocode(incidents: gpd.GeoDataFrame, pack: AreaPack) -> gpd.GeoDataFrame:
    """Assign incident points to LSOA 2021/2011, ward and district polygons of an area pack.

    See the module docstring for the rules (district first, intersects with the lowest
    code winning on shared edges, snapping across generalisation gaps, lookups where a
    pack has no polygons).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incident points (EPSG:27700; other CRSs are reprojected, a missing CRS is an
        error). Missing or empty geometries are kept as ``outside_area``.
    pack : AreaPack
        The area pack whose layers and lookups are used.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``incidents`` (same index and order) with
        :data:`~geo_ssgp.schema.GEOCODE_COLUMNS` added: ``lsoa21cd``, ``lsoa21nm``,
        ``lsoa11cd``, ``lsoa11nm``, ``ward_cd``, ``ward_nm``, ``lad_cd`` (codes and names
        are strings, missing where not assigned), ``edge_distance_m`` (float, NaN outside
        the area), ``ambiguous`` (bool) and ``status`` (``"ok"`` or ``"outside_area"``).
        ``attrs["geocode"]`` records the pack and the rules used.
    """
    points = _bng_points(incidents)
    district = _layer(pack, "district")
    cand = _prefilter(points, district.bounds)
    located = points[cand]
    place, first = distinct_locations(shapely.get_x(located), shapely.get_y(located))
    located = located[first]
    with _PREPARED_LOCK:
        fields, snapped = _assign(located, pack)
    primary = _layer(pack, pack.primary_lsoa)
    primary_idx = fields[pack.primary_lsoa].idx
    ok = primary_idx != _NONE
    distance = np.full(len(first), np.nan)
    distance[ok] = shapely.distance(located[ok], primary.boundaries[primary_idx[ok]])
    # every row takes the result of its distinct location
    fields = {key: dataclasses.replace(f, idx=f.idx[place]) for key, f in fields.items()}
    snapped, ok, distance = snapped[place], ok[place], distance[place]

    out = incidents.copy()
    new = _output_columns(
        len(points), cand, fields, ok, distance, snapped, out.index, pack.edge_tolerance_m
    )
    for name in GEOCODE_COLUMNS:
        out[name] = new[name]
    out.attrs = {**incidents.attrs, ATTRS_KEY: _rules(pack)}
    return out


def _assign(points: np.ndarray, pack: AreaPack) -> tuple[dict[str, _Field], np.ndarray]:
    """District, then LSOA/ward polygons (with gap snapping), then lookups, for points.

    Returns the fields by geography key (``lad``, ``lsoa21``, ``lsoa11``, ``ward``) and a
    mask of the points snapped to a nearest polygon in any layer.
    """
    xy = (shapely.get_x(points), shapely.get_y(points))
    tree = shapely.STRtree(points)
    district = _layer(pack, "district")
    fields = {"lad": _Field(district.codes, district.names, _in_polygons(tree, xy, district))}
    in_district = np.isin(district.codes, np.asarray(pack.district_codes, dtype=object))
    lad_idx = fields["lad"].idx
    in_area = (lad_idx >= 0) & in_district[np.maximum(lad_idx, 0)]
    snapped = np.zeros(len(points), dtype=bool)
    for key in _POLYGON_LAYERS:
        if not pack.has("layers", key):
            continue
        layer = _layer(pack, key)
        idx = _in_polygons(tree, xy, layer, keep=in_area)
        gap = np.flatnonzero(in_area & (idx == _NONE))
        near = _snap(points[gap], layer, SNAP_DISTANCE_M)
        idx[gap] = near
        snapped[gap[near != _NONE]] = True
        fields[key] = _Field(layer.codes, layer.names, idx)
    _lookup_fields(pack, fields)
    return fields, snapped


def _output_columns(
    n: int,
    cand: np.ndarray,
    fields: dict[str, _Field],
    ok: np.ndarray,
    distance: np.ndarray,
    snapped: np.ndarray,
    index: pd.Index,
    tolerance: float,
) -> dict[str, pd.Series | np.ndarray]:
    """The GEOCODE_COLUMNS for all ``n`` rows from the results for the rows ``cand``.

    LSOA and ward fields are kept only where the point got a primary LSOA (``ok``);
    ``lad_cd`` is kept wherever the point fell in a district.
    """
    new: dict[str, pd.Series | np.ndarray] = {}
    empty = np.array([], dtype=object)
    for key, (code_col, name_col) in _FIELD_COLUMNS.items():
        field = fields.get(key, _Field(empty, empty, np.full(len(cand), _NONE)))
        idx = np.full(n, _NONE, dtype=np.intp)
        idx[cand] = field.idx if key == "lad" else np.where(ok, field.idx, _NONE)
        new[code_col] = _text_column(field.codes, idx, index)
        if name_col:
            new[name_col] = _text_column(field.names, idx, index)
    new["edge_distance_m"] = np.full(n, np.nan)
    new["edge_distance_m"][cand] = distance
    new["ambiguous"] = np.zeros(n, dtype=bool)
    new["ambiguous"][cand] = ok & ((distance < tolerance) | snapped)
    status = np.ones(n, dtype=np.intp)  # index into _STATUSES: outside_area
    status[cand[ok]] = 0
    new["lsoa_rule"] = _text_column(np.array(_RULES, dtype=object), status, index)
    new["status"] = _text_column(np.array(_STATUSES, dtype=object), status, index)
    return new


#: Geography key -> (code column, name column) of the output.
_FIELD_COLUMNS = {
    "lsoa21": ("lsoa21cd", "lsoa21nm"),
    "lsoa11": ("lsoa11cd", "lsoa11nm"),
    "ward": ("ward_cd", "ward_nm"),
    "lad": ("lad_cd", None),
}
_STATUSES = ("ok", "outside_area")
#: ``lsoa_rule`` per status: point in polygon (or nearest across a gap), none outside.
_RULES = ("polygon", "")


def _rules(pack: AreaPack) -> dict:
    """What :func:`geocode` records in ``attrs``: the pack and the rules applied."""
    return {
        "pack": pack.name,
        "manifest": str(pack.manifest),
        "data_dir": str(pack.data_dir),
        "primary_lsoa": pack.primary_lsoa,
        "layers": [k for k in (*_POLYGON_LAYERS, "district") if pack.has("layers", k)],
        "edge_rule": "intersects; lowest code wins on shared edges",
        "snap_distance_m": SNAP_DISTANCE_M,
        "edge_tolerance_m": pack.edge_tolerance_m,
    }


# ---------------------------------------------------------------------------------------
# Map-point memory: the LSOA police.uk published for a map point in earlier months


def _point_keys(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:27700 coordinates of the rows' points, rounded to the matching precision."""
    points = _bng_points(frame)
    x = np.round(shapely.get_x(points), _POINT_DECIMALS)
    return x, np.round(shapely.get_y(points), _POINT_DECIMALS)


def map_point_memory(*frames: pd.DataFrame | None) -> pd.DataFrame:
    """Learn the LSOA code police.uk published for each map point, month by month.

    Parameters
    ----------
    *frames : geopandas.GeoDataFrame or None
        Incident tables (e.g. the store's incidents and a new batch). Rows used: police.uk
        map points (``snap_point``) with a ``month`` and a ``source_lsoa`` code; frames
        without these columns, empty frames and ``None`` are skipped.

    Returns
    -------
    pandas.DataFrame
        :data:`MEMORY_COLUMNS`: map point ``x``/``y`` (EPSG:27700, 0.1 m), ``month``, the
        code police.uk gave (``lsoa21cd``) and how many rows carried it (``n``).
    """
    needed = {"snap_point", "month", "source_lsoa", "geometry"}
    parts = [
        _labelled_points(frame)
        for frame in frames
        if frame is not None and len(frame) and needed <= set(frame.columns)
    ]
    rows = pd.concat([_labelled_points(_EMPTY_LABELLED), *parts], ignore_index=True)
    return rows.groupby(MEMORY_COLUMNS[:4], as_index=False).size().rename(columns={"size": "n"})


#: An incident table with no rows (the shape of an empty memory).
_EMPTY_LABELLED = gpd.GeoDataFrame(
    {
        "snap_point": pd.Series(dtype=bool),
        "month": pd.Series(dtype="datetime64[ns]"),
        "source_lsoa": pd.Series(dtype=object),
    },
    geometry=gpd.GeoSeries([], crs=CRS_BNG),
)


def _labelled_points(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """``x``, ``y``, ``month``, ``lsoa21cd`` of the police.uk map-point rows with a code."""
    code = frame["source_lsoa"].fillna("").astype(str)
    use = frame["snap_point"].fillna(False).astype(bool) & frame["month"].notna() & (code != "")
    x, y = _point_keys(frame[use])
    month = frame.loc[use, "month"].to_numpy()
    return pd.DataFrame({"x": x, "y": y, "month": month, "lsoa21cd": code[use].to_numpy()})


def _votes(rows: gpd.GeoDataFrame, memory: pd.DataFrame) -> pd.DataFrame:
    """Per row (position ``row``), the code its map point carried most in earlier months."""
    x, y = _point_keys(rows)
    month = rows["month"].to_numpy()
    keys = pd.DataFrame({"row": np.arange(len(rows)), "x": x, "y": y, "month": month})
    seen = keys.merge(memory, on=["x", "y"], suffixes=("", "_seen"))
    seen = seen[seen["month_seen"] < seen["month"]]
    votes = seen.groupby(["row", "lsoa21cd"], as_index=False)["n"].sum()
    votes = votes.sort_values(["row", "n", "lsoa21cd"], ascending=[True, False, True])
    return votes.drop_duplicates("row")


def recall_map_points(
    geocoded: gpd.GeoDataFrame, memory: pd.DataFrame, pack: AreaPack
) -> gpd.GeoDataFrame:
    """Give ambiguous police.uk points the LSOA 2021 code their map point had before.

    Rule 7 of the module docstring: only rows flagged ``ambiguous`` (within the pack's
    ``edge_tolerance_m`` of an LSOA boundary, or snapped across a gap), at a police.uk map
    point, with a code for that point from an **earlier month** in ``memory``; the code must
    be an LSOA 2021 of the pack whose polygon lies within ``edge_tolerance_m`` of the point.

    Parameters
    ----------
    geocoded : geopandas.GeoDataFrame
        Output of :func:`geocode`.
    memory : pandas.DataFrame
        Output of :func:`map_point_memory` (may include ``geocoded``'s own rows: only
        earlier months are used).
    pack : AreaPack
        The pack ``geocoded`` was geocoded on (needs LSOA 2021 polygons; else a no-op).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``lsoa21cd``, ``lsoa21nm``, ``edge_distance_m`` (to the boundary of the
        LSOA now assigned) and ``lsoa_rule="map_point"`` set on the recalled rows.
        ``attrs["geocode"]["map_point_rows"]`` counts them.
    """
    out = geocoded.copy()
    band = (
        out["ambiguous"].fillna(False).astype(bool)
        & out["snap_point"].fillna(False).astype(bool)
        & out["month"].notna()
        & (out["status"] == "ok")
    )
    if not (pack.primary_lsoa == "lsoa21" and band.any() and len(memory)):
        return out
    in_band = np.flatnonzero(band.to_numpy())
    votes = _votes(out.iloc[in_band], memory)
    layer = _layer(pack, "lsoa21")
    pos = pd.Index(layer.codes).get_indexer(votes["lsoa21cd"])
    rows = in_band[votes["row"].to_numpy()]  # positions in ``out``
    points = _bng_points(out.iloc[rows])
    near = pos >= 0
    near[near] = shapely.distance(points[near], layer.geoms[pos[near]]) <= pack.edge_tolerance_m
    rows, pos = rows[near], pos[near]
    new = {
        "lsoa21cd": layer.codes[pos],
        "lsoa21nm": layer.names[pos],
        "edge_distance_m": shapely.distance(points[near], layer.boundaries[pos]),
        "lsoa_rule": "map_point",
    }
    for column, values in new.items():
        out.iloc[rows, out.columns.get_loc(column)] = values
    out.attrs = {**geocoded.attrs}
    if ATTRS_KEY in out.attrs:
        out.attrs[ATTRS_KEY] = {**out.attrs[ATTRS_KEY], "map_point_rows": len(rows)}
    return out


# ---------------------------------------------------------------------------------------
# Agreement with the source's LSOA


@dataclass
class LsoaAgreement:
    """Agreement between the source's LSOA labels and our point-in-polygon LSOA.

    Attributes
    ----------
    level : str
        ``"lsoa21"`` or ``"lsoa11"``.
    n_compared : int
        Rows whose source LSOA belongs to the pack's area and carries a code or name.
    n_agree : int
        Compared rows whose source label equals ours.
    share : float
        ``n_agree / n_compared`` (NaN when nothing was compared).
    disagreements : pandas.DataFrame
        One row per compared row that disagrees, indexed like the input, with
        ``source_lsoa``, ``source_lsoa_name``, ``ours_cd``, ``ours_nm``, ``status``,
        ``edge_distance_m`` (to the boundary of our LSOA in the primary layer) and
        ``distance_to_source_m`` (to the polygon the source names, where the pack has it).
    compared_on : dict
        How many rows were compared on the code and on the name.
    by_district : pandas.DataFrame
        Per district of the source's LSOA (the prefix of its name, ``""`` where the source
        gives a code only): ``n_compared``, ``n_agree`` and ``share``, sorted by district.
    """

    level: str
    n_compared: int
    n_agree: int
    share: float
    disagreements: pd.DataFrame
    compared_on: dict = field(default_factory=dict)
    by_district: pd.DataFrame = field(default_factory=pd.DataFrame)

    def near_edge(self, distances: tuple[float, ...] = (5.0, 20.0, 50.0)) -> dict[float, int]:
        """Count disagreements whose point lies within each distance of our LSOA's edge.

        Parameters
        ----------
        distances : tuple of float
            Distances in metres.

        Returns
        -------
        dict
            Distance -> number of disagreements with ``edge_distance_m <= distance``.
        """
        d = self.disagreements["edge_distance_m"]
        return {float(m): int((d <= m).sum()) for m in distances}

    def to_dict(self) -> dict:
        """Plain summary (no DataFrame) for JSON and the CLI.

        Returns
        -------
        dict
            ``level``, ``n_compared``, ``n_agree``, ``n_disagree``, ``share``,
            ``compared_on`` and ``near_edge`` (5/20/50 m).
        """
        return {
            "level": self.level,
            "n_compared": self.n_compared,
            "n_agree": self.n_agree,
            "n_disagree": self.n_compared - self.n_agree,
            "share": self.share,
            "compared_on": dict(self.compared_on),
            "near_edge": {str(int(k)): v for k, v in self.near_edge().items()},
        }


def _pack_of(geocoded: pd.DataFrame, pack: AreaPack | None) -> AreaPack:
    """The pack given, else the one :func:`geocode` recorded in ``attrs``."""
    if pack is not None:
        return pack
    rules = geocoded.attrs.get(ATTRS_KEY)
    if not rules:
        raise ValueError(
            "the table carries no geocode record in attrs (it was not produced by geocode, "
            "or the record was lost); pass pack= explicitly"
        )
    settings = get_settings(data_dir=Path(rules["data_dir"]), pack=rules["manifest"])
    return load_pack(settings)


def _area_labels(pack: AreaPack, level: str) -> tuple[pd.Index, pd.Index]:
    """Codes and names of the level's LSOAs in the pack's area (layer, else lookup)."""
    if pack.has("layers", level):
        layer = _layer(pack, level)
        return pd.Index(layer.codes), pd.Index(layer.names)
    primary = _layer(pack, pack.primary_lsoa)
    fields = {
        pack.primary_lsoa: _Field(primary.codes, primary.names, np.arange(len(primary.codes)))
    }
    _lookup_fields(pack, fields)
    if level not in fields:
        return pd.Index([], dtype=object), pd.Index([], dtype=object)
    field = fields[level]
    idx = field.idx[field.idx >= 0]
    return pd.Index(field.codes[idx]).unique(), pd.Index(field.names[idx]).dropna().unique()


def _district_names(pack: AreaPack) -> set[str]:
    """Names of the pack's districts (from the district layer)."""
    layer = _layer(pack, "district")
    return {
        str(nm)
        for cd, nm in zip(layer.codes, layer.names, strict=True)
        if cd in set(pack.district_codes)
    }


def _text(df: pd.DataFrame, column: str) -> pd.Series:
    """A text column with missing values as ``""`` (absent column -> all ``""``)."""
    if column not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    return df[column].fillna("").astype(str)


def lsoa_agreement(
    geocoded: gpd.GeoDataFrame, level: str = "lsoa21", pack: AreaPack | None = None
) -> LsoaAgreement:
    """Compare the LSOA the source supplied with the LSOA assigned by :func:`geocode`.

    **Compared set:** rows whose source LSOA belongs to the pack's area, that is whose
    ``source_lsoa`` code is one of the level's LSOA codes in the pack, or whose
    ``source_lsoa_name`` starts with the name of one of the pack's districts (ONS LSOA
    names are ``<district> <MSOA number><letter>``). For the nine 2025 police.uk files and
    the Gloucester pack these are the 14,331 Gloucester rows. Rows outside that set
    (other districts, no LSOA) are not compared.

    **Comparison:** on the code where the source gives one (``source_lsoa`` against
    ``lsoa21cd``/``lsoa11cd``); on the name where it gives only a name (``source_lsoa_name``
    against ``lsoa21nm``/``lsoa11nm``, e.g. the 2011-name GeoJSON files). Source labels
    are taken at the requested level as they are: 2025 police.uk files carry 2021 codes,
    so compare them at ``lsoa21``. A compared row we placed ``outside_area`` counts as a
    disagreement.

    Parameters
    ----------
    geocoded : geopandas.GeoDataFrame
        Output of :func:`geocode` (with ``source_lsoa`` and ``source_lsoa_name``).
    level : {"lsoa21", "lsoa11"}
        Which of our LSOA columns to compare.
    pack : AreaPack, optional
        The pack used to geocode; by default the one recorded in ``geocoded.attrs``.

    Returns
    -------
    LsoaAgreement
    """
    if level not in ("lsoa21", "lsoa11"):
        raise ValueError(f"level must be 'lsoa21' or 'lsoa11', not {level!r}")
    pack = _pack_of(geocoded, pack)
    codes, names = _area_labels(pack, level)
    src_code = _text(geocoded, "source_lsoa")
    src_name = _text(geocoded, "source_lsoa_name")
    prefix = src_name.str.extract(LSOA_NAME, expand=False)
    in_area = src_code.isin(codes) | prefix.isin(_district_names(pack))
    on_code = in_area & (src_code != "")
    on_name = in_area & (src_code == "") & (src_name != "")
    ours_cd = _text(geocoded, f"{level}cd")
    ours_nm = _text(geocoded, f"{level}nm")
    agree = (on_code & (src_code == ours_cd)) | (on_name & (src_name == ours_nm))
    compared = on_code | on_name
    bad = compared & ~agree
    dis = pd.DataFrame(
        {
            "source_lsoa": src_code[bad],
            "source_lsoa_name": src_name[bad],
            "ours_cd": ours_cd[bad],
            "ours_nm": ours_nm[bad],
            "status": geocoded.loc[bad, "status"],
            "edge_distance_m": geocoded.loc[bad, "edge_distance_m"].astype(float),
            "distance_to_source_m": _distance_to_source(
                geocoded.loc[bad], pack, level, src_code[bad], src_name[bad]
            ),
        }
    )
    n_compared, n_agree = int(compared.sum()), int(agree.sum())
    return LsoaAgreement(
        level=level,
        n_compared=n_compared,
        n_agree=n_agree,
        share=n_agree / n_compared if n_compared else float("nan"),
        disagreements=dis,
        compared_on={"code": int(on_code.sum()), "name": int(on_name.sum())},
        by_district=_by_district(prefix.fillna("")[compared], agree[compared]),
    )


def _by_district(district: pd.Series, agree: pd.Series) -> pd.DataFrame:
    """``n_compared``, ``n_agree`` and ``share`` per district name."""
    table = agree.astype(int).groupby(district.rename("district")).agg(["size", "sum"])
    table.columns = ["n_compared", "n_agree"]
    return table.assign(share=table["n_agree"] / table["n_compared"]).sort_index()


def _distance_to_source(
    rows: gpd.GeoDataFrame, pack: AreaPack, level: str, code: pd.Series, name: pd.Series
) -> np.ndarray:
    """Distance (m) from each point to the polygon its source label names (NaN if none)."""
    out = np.full(len(rows), np.nan)
    if not len(rows) or not pack.has("layers", level):
        return out
    layer = _layer(pack, level)
    pos = pd.Index(layer.codes).get_indexer(code)
    by_name = pd.Index(layer.names).get_indexer(name)
    pos = np.where(pos >= 0, pos, by_name)
    hit = pos >= 0
    points = _bng_points(rows)
    out[hit] = shapely.distance(points[hit], layer.geoms[pos[hit]])
    return out
