"""Square and hexagonal grids over the study region, cell counts and snap points.

Grid rules
----------
* **Coverage.** A grid is the lattice of cells (anchored at the lower-left corner of the
  region's bounding box) that *intersect* the study region. With ``clip=True`` (the
  default) each cell's geometry is clipped to the region, so maps never draw outside
  the district and ``area_m2`` is the area inside the region; ``full_area_m2`` is the
  nominal cell area. Area shares (coverage, PAI) always use the clipped ``area_m2``.
* **Default cell size** (as sfhotspot): 50 cells on the shorter side of the region's
  bounding box, rounded *down* to a multiple of 100 m when that is at least 100 m
  (``"sfhotspot: 50 cells on the short side, rounded down to 100 m"``). The rule
  and the value are recorded in every layer's parameters; any positive
  ``cell_size`` overrides it.
* **Hexagons** are pointy-top; ``cell_size`` is the distance between the centres of
  neighbouring cells (the width across flats), so a hexagon has area
  ``sqrt(3) / 2 * cell_size**2``.
* **Counting** is arithmetic (floor division for squares, cube rounding for hexagons),
  not a spatial join: a point belongs to the lattice cell it falls in, so each point
  is counted exactly once. Points in no grid cell are reported, not dropped silently.

Police.uk locations are anonymised *snap points*: many incidents share one
coordinate. :func:`snap_point_counts` groups incidents by exact coordinate and
:func:`snap_summary` says, for each hotspot polygon, how many distinct snap points it
holds and whether it is essentially one snap point.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput, PackError
from geo_ssgp.pack import AreaPack, load_layer

#: Cells on the short side of the region's bounding box (sfhotspot's rule).
CELLS_ON_SHORT_SIDE = 50
#: The cell-size rule, as recorded in layer parameters.
CELL_SIZE_RULE = "sfhotspot: 50 cells on the short side of the region bbox, rounded down to 100 m"
#: A hotspot is "one snap point" when this share of its incidents sit at one coordinate.
SINGLE_SNAP_SHARE = 0.8
#: Coordinates are grouped into snap points after rounding to this many metres.
SNAP_PRECISION_M = 0.01

_SQRT3 = math.sqrt(3.0)
# Axial neighbour offsets (dr, dq) of a pointy-top hexagon.
_HEX_OFFSETS = [(0, 1), (0, -1), (1, 0), (-1, 0), (1, -1), (-1, 1)]
_ROOK_OFFSETS = [(0, 1), (0, -1), (1, 0), (-1, 0)]
_QUEEN_OFFSETS = _ROOK_OFFSETS + [(1, 1), (1, -1), (-1, 1), (-1, -1)]


@dataclass
class Grid:
    """A lattice of cells covering a study region.

    Attributes
    ----------
    cells : geopandas.GeoDataFrame
        One row per cell, in lattice order: ``cell_id`` (0..n-1), ``row``, ``col``
        (lattice indices; axial ``r``/``q`` for hexagons), ``x``, ``y`` (cell centre),
        ``area_m2`` (inside the region), ``full_area_m2``, geometry (EPSG:27700).
    kind : {"square", "hex"}
    cell_size : float
        Side of a square, or centre spacing of hexagons, in metres.
    origin : tuple of float
        Lattice anchor ``(x0, y0)`` in metres.
    cell_size_rule : str
        How the cell size was chosen (the default rule or ``"user"``).
    region_area_m2 : float
        Area of the study region (the denominator of area shares).
    clipped : bool
        Whether cell geometries are clipped to the region.
    """

    cells: gpd.GeoDataFrame
    kind: str
    cell_size: float
    origin: tuple[float, float]
    cell_size_rule: str
    region_area_m2: float
    clipped: bool = True
    _lookup: np.ndarray = field(default=None, repr=False)
    _offset: tuple[int, int] = field(default=(0, 0), repr=False)
    #: Filter-independent results per grid (:func:`star_weights`), shared by the copies
    #: :func:`make_grid` hands out of its cache.
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.cells)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Position (0..n-1) of the cell holding each point, ``-1`` outside the grid.

        Parameters
        ----------
        x, y : numpy.ndarray
            Coordinates in EPSG:27700 metres.

        Returns
        -------
        numpy.ndarray
            Integer cell positions aligned with ``cells``.
        """
        row, col = _lattice_index(self.kind, self.cell_size, self.origin, x, y)
        r = row - self._offset[0]
        c = col - self._offset[1]
        nr, nc = self._lookup.shape
        inside = (r >= 0) & (r < nr) & (c >= 0) & (c < nc)
        out = np.full(len(r), -1, dtype=np.int64)
        out[inside] = self._lookup[r[inside], c[inside]]
        return out

    def describe(self) -> dict:
        """Grid settings for a layer's parameters (JSON-safe)."""
        return {
            "grid": self.kind,
            "cell_size_m": float(self.cell_size),
            "cell_size_rule": self.cell_size_rule,
            "grid_cells": int(len(self.cells)),
            "grid_clipped_to_region": bool(self.clipped),
        }


def pack_districts(pack: AreaPack) -> gpd.GeoDataFrame:
    """The pack's district polygons (``code``, ``name``), one row each, EPSG:27700.

    Parameters
    ----------
    pack : AreaPack

    Returns
    -------
    geopandas.GeoDataFrame
        The districts of ``pack.district_codes`` in the layer's order, index reset.

    Raises
    ------
    PackError
        When the district layer holds none of them.
    """
    districts = load_layer(pack, "district")
    districts = districts[districts["code"].isin(pack.district_codes)]
    if districts.empty:
        raise PackError(f"pack {pack.name!r}: none of {pack.district_codes} in the district layer")
    return districts.reset_index(drop=True)


def study_region(pack: AreaPack) -> gpd.GeoDataFrame:
    """The pack's study region: its district polygons dissolved into one row.

    Parameters
    ----------
    pack : AreaPack

    Returns
    -------
    geopandas.GeoDataFrame
        One row with ``code`` (codes joined by ``+``), ``name`` and the dissolved
        geometry, EPSG:27700.
    """
    districts = pack_districts(pack)
    return gpd.GeoDataFrame(
        {
            "code": ["+".join(districts["code"])],
            "name": [" + ".join(districts["name"])],
        },
        geometry=[shapely.union_all(districts.geometry.values)],
        crs=CRS_BNG,
    )


def region_geometry(
    region: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
) -> shapely.Geometry:
    """One (multi)polygon from a region given as a frame, a series or a geometry."""
    if isinstance(region, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if region.crs is not None and region.crs != CRS_BNG:
            region = region.to_crs(CRS_BNG)
        return shapely.union_all(region.geometry.values)
    return region


def region_label(region: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry) -> str:
    """A readable name of the region for layer parameters."""
    if isinstance(region, gpd.GeoDataFrame) and {"code", "name"} <= set(region.columns):
        return " + ".join(f"{n} ({c})" for n, c in zip(region["name"], region["code"], strict=True))
    return "custom region"


def default_cell_size(region: shapely.Geometry) -> float:
    """Cell size by sfhotspot's rule: 50 cells on the bounding box's short side.

    Parameters
    ----------
    region : shapely.Geometry
        Study region in metres.

    Returns
    -------
    float
        ``short_side / 50`` rounded down to a multiple of 100 m when that is at least
        100 m, else ``short_side / 50`` unrounded.
    """
    xmin, ymin, xmax, ymax = region.bounds
    raw = min(xmax - xmin, ymax - ymin) / CELLS_ON_SHORT_SIDE
    rounded = math.floor(raw / 100.0) * 100.0
    return rounded if rounded > 0 else raw


def _lattice_index(
    kind: str, size: float, origin: tuple[float, float], x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lattice (row, col) of points; axial (r, q) for hexagons."""
    x = np.asarray(x, dtype=float) - origin[0]
    y = np.asarray(y, dtype=float) - origin[1]
    if kind == "square":
        return np.floor(y / size).astype(np.int64), np.floor(x / size).astype(np.int64)
    radius = size / _SQRT3  # circumradius of a pointy-top hexagon
    qf = (_SQRT3 / 3.0 * x - y / 3.0) / radius
    rf = (2.0 / 3.0 * y) / radius
    # Cube rounding: round all three cube coordinates, fix the one with the largest error.
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return r.astype(np.int64), q.astype(np.int64)


def _hex_centres(size: float, origin: tuple[float, float], r: np.ndarray, q: np.ndarray):
    radius = size / _SQRT3
    x = origin[0] + radius * _SQRT3 * (q + r / 2.0)
    y = origin[1] + radius * 1.5 * r
    return x, y


def _candidate_cells(kind: str, size: float, bounds: tuple) -> tuple[np.ndarray, ...]:
    """Lattice indices, centres and polygons of every cell over a bounding box."""
    xmin, ymin, xmax, ymax = bounds
    origin = (xmin, ymin)
    if kind == "square":
        n_cols = max(1, math.ceil((xmax - xmin) / size))
        n_rows = max(1, math.ceil((ymax - ymin) / size))
        row, col = np.divmod(np.arange(n_rows * n_cols), n_cols)
        x0 = xmin + col * size
        y0 = ymin + row * size
        polys = shapely.box(x0, y0, x0 + size, y0 + size)
        return origin, row, col, x0 + size / 2.0, y0 + size / 2.0, polys
    radius = size / _SQRT3
    r_max = math.ceil((ymax - ymin) / (1.5 * radius)) + 1
    q_min = math.floor(-r_max / 2.0) - 2
    q_max = math.ceil((xmax - xmin) / size) + 2
    row, col = np.divmod(np.arange((r_max + 2) * (q_max - q_min + 1)), q_max - q_min + 1)
    row, col = row - 1, col + q_min
    cx, _ = _hex_centres(size, origin, row, col)
    near = (cx >= xmin - size) & (cx <= xmax + size)
    row, col = row[near], col[near]
    cx, cy = _hex_centres(size, origin, row, col)
    angles = np.deg2rad(30.0 + 60.0 * np.arange(6))
    vx = cx[:, None] + radius * np.cos(angles)[None, :]
    vy = cy[:, None] + radius * np.sin(angles)[None, :]
    coords = np.stack([vx, vy], axis=-1)
    polys = shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
    return origin, row, col, cx, cy, polys


def make_grid(
    region: gpd.GeoDataFrame | shapely.Geometry,
    cell_size: float | None = None,
    kind: str = "square",
    clip: bool = True,
) -> Grid:
    """Build a square or hexagonal grid over the study region.

    Parameters
    ----------
    region : GeoDataFrame or shapely.Geometry
        Study region in EPSG:27700 (e.g. :func:`study_region`).
    cell_size : float, optional
        Cell size in metres; ``None`` applies :func:`default_cell_size`.
    kind : {"square", "hex"}
        Cell shape.
    clip : bool
        Clip cell geometries to the region (areas are clipped either way).

    Returns
    -------
    Grid
        Cells intersecting the region, in lattice order.
    """
    if kind not in {"square", "hex"}:
        raise BadInput(f"grid kind must be 'square' or 'hex', not {kind!r}", param="grid")
    geom = region_geometry(region)
    if cell_size is None:
        size, rule = default_cell_size(geom), CELL_SIZE_RULE
    else:
        size, rule = float(cell_size), "user"
    if not size > 0:
        raise BadInput(f"cell_size must be positive, got {cell_size!r}", param="cell_size")
    check_cell_count(geom, size)
    key = (shapely.to_wkb(geom), size, kind, clip)
    if key not in _GRIDS:
        if len(_GRIDS) >= _GRID_CACHE_SIZE:
            _GRIDS.pop(next(iter(_GRIDS)))
        _GRIDS[key] = _build_grid(geom, size, kind, clip)
    cached = _GRIDS[key]
    # a fresh Grid and a shallow copy of the cells: callers may change either
    return dataclasses.replace(cached, cells=cached.cells.copy(deep=False), cell_size_rule=rule)


#: Most cells a grid may have over its region's bounding box (a county at 50 m has about
#: 2.2 million): a finer grid would exhaust memory and claim a precision police.uk's map
#: points do not have.
MAX_GRID_CELLS = 3_000_000


def check_cell_count(geom: shapely.Geometry, size: float) -> None:
    """Refuse a cell size that would make more than :data:`MAX_GRID_CELLS` cells.

    Raises
    ------
    BadInput
        Naming the smallest cell size the region allows.
    """
    minx, miny, maxx, maxy = geom.bounds
    width, height = maxx - minx, maxy - miny
    cells = (width / size + 1) * (height / size + 1)
    if cells > MAX_GRID_CELLS:
        smallest = (width * height / MAX_GRID_CELLS) ** 0.5
        raise BadInput(
            f"cell_size {size:g} m would make about {cells:,.0f} cells over this area; "
            f"use at least {smallest:,.0f} m",
            param="cell_size",
        )


#: Grids built before, by (region WKB, cell size, kind, clip); the backtest and the
#: significance test ask for the same 50 m grid many times.
_GRIDS: dict[tuple, Grid] = {}
_GRID_CACHE_SIZE = 16


def _build_grid(geom: shapely.Geometry, size: float, kind: str, clip: bool) -> Grid:
    """The cells of :func:`make_grid` (no cache)."""
    origin, row, col, cx, cy, polys = _candidate_cells(kind, size, geom.bounds)
    shapely.prepare(geom)
    hit = shapely.intersects(geom, polys)
    row, col, cx, cy, polys = row[hit], col[hit], cx[hit], cy[hit], polys[hit]
    inside = shapely.contains(geom, polys)
    clipped = polys.copy()
    clipped[~inside] = shapely.intersection(polys[~inside], geom)
    area = shapely.area(clipped)
    keep = area > 0
    full_area = shapely.area(polys[keep])
    cells = gpd.GeoDataFrame(
        {
            "cell_id": np.arange(int(keep.sum())),
            "row": row[keep],
            "col": col[keep],
            "x": cx[keep],
            "y": cy[keep],
            "area_m2": area[keep],
            "full_area_m2": full_area,
        },
        geometry=clipped[keep] if clip else polys[keep],
        crs=CRS_BNG,
    )
    r0, c0 = int(cells["row"].min()), int(cells["col"].min())
    lookup = np.full(
        (int(cells["row"].max()) - r0 + 1, int(cells["col"].max()) - c0 + 1), -1, dtype=np.int64
    )
    lookup[cells["row"].to_numpy() - r0, cells["col"].to_numpy() - c0] = np.arange(len(cells))
    return Grid(
        cells=cells,
        kind=kind,
        cell_size=size,
        origin=origin,
        cell_size_rule="",
        region_area_m2=float(shapely.area(geom)),
        clipped=clip,
        _lookup=lookup,
        _offset=(r0, c0),
    )


def point_xy(points: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of point geometries as two arrays (EPSG:27700 checked)."""
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is not None and geoms.crs != CRS_BNG:
        raise ValueError(f"incidents must be in {CRS_BNG}, got {geoms.crs}")
    return shapely.get_x(geoms.values), shapely.get_y(geoms.values)


def grid_count(
    grid: Grid, incidents: gpd.GeoDataFrame, weights: np.ndarray | None = None
) -> pd.Series:
    """Count incidents per grid cell.

    Parameters
    ----------
    grid : Grid
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    weights : numpy.ndarray, optional
        One weight per incident (e.g. recency weights); the sums are floats.

    Returns
    -------
    pandas.Series
        Counts (integers, or weighted sums) indexed like ``grid.cells`` (name
        ``count``); the number of points that fell in no cell is in
        ``.attrs["outside_grid"]``.
    """
    x, y = point_xy(incidents)
    pos = grid.locate(x, y)
    inside = pos >= 0
    w = None if weights is None else np.asarray(weights, dtype=float)[inside]
    counts = np.bincount(pos[inside], weights=w, minlength=len(grid.cells))
    out = pd.Series(counts, index=grid.cells.index, name="count")
    out.attrs["outside_grid"] = int((pos < 0).sum())
    return out


def grid_adjacency(grid: Grid, rule: str = "queen") -> sparse.csr_matrix:
    """Binary adjacency of grid cells from their lattice indices.

    Parameters
    ----------
    grid : Grid
    rule : {"queen", "rook"}
        Square grids: queen = 8 surrounding cells, rook = 4 sharing an edge.
        Hexagonal grids always use the 6 cells sharing an edge.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``n x n`` 0/1 matrix (no self-neighbours), rows aligned with ``grid.cells``.
    """
    if grid.kind == "hex":
        offsets = _HEX_OFFSETS
    elif rule in {"queen", "rook"}:
        offsets = _QUEEN_OFFSETS if rule == "queen" else _ROOK_OFFSETS
    else:
        raise BadInput(
            f"neighbour rule must be 'queen' or 'rook', not {rule!r}", param="neighbours"
        )
    row = grid.cells["row"].to_numpy() - grid._offset[0]
    col = grid.cells["col"].to_numpy() - grid._offset[1]
    nr, nc = grid._lookup.shape
    src, dst = [], []
    for dr, dc in offsets:  # at most 8 vectorised passes
        r, c = row + dr, col + dc
        ok = (r >= 0) & (r < nr) & (c >= 0) & (c < nc)
        nb = np.full(len(row), -1)
        nb[ok] = grid._lookup[r[ok], c[ok]]
        has = nb >= 0
        src.append(np.flatnonzero(has))
        dst.append(nb[has])
    src, dst = np.concatenate(src), np.concatenate(dst)
    n = len(grid.cells)
    return sparse.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))


def grid_weights(grid: Grid, rule: str = "queen"):
    """Libpysal binary contiguity weights of the grid cells.

    Parameters
    ----------
    grid : Grid
    rule : {"queen", "rook"}

    Returns
    -------
    libpysal.weights.W
        Binary weights with ids ``0..n-1`` aligned with ``grid.cells``; the same
        neighbours as ``libpysal.weights.Queen/Rook.from_dataframe`` on unclipped cells.
    """
    from libpysal.weights import W

    with np.errstate(all="ignore"):
        w = W.from_sparse(grid_adjacency(grid, rule))
    w.transform = "B"
    return w


def star_weights(grid: Grid, rule: str = "queen"):
    """Gi*'s window weights of the grid cells, built once per grid and rule.

    :func:`grid_weights` with each cell its own neighbour. ``esda.G_Local(..., star=True)``
    adds that self-weight (``libpysal.weights.fill_diagonal``) on every call when the
    weights have none, and the weights do not depend on the incidents: a filter change on
    the same grid (pack, cell size, extent; see :func:`make_grid`'s cache) reuses this
    object, and G_Local uses it as it is. Parameters as :func:`grid_weights`.

    Returns
    -------
    libpysal.weights.W
        Binary, self-weight 1, ids ``0..n-1``. Shared: do not change its neighbours or
        weights (G_Local re-sets the binary transform, which leaves them as they are).
    """
    from libpysal.weights import fill_diagonal

    key = ("star-weights", rule)
    if key not in grid._derived:
        w = fill_diagonal(grid_weights(grid, rule), 1.0)
        w.transform = "B"
        grid._derived[key] = w
    return grid._derived[key]


def components(adjacency: sparse.spmatrix, mask: np.ndarray) -> np.ndarray:
    """Connected groups of selected cells.

    Parameters
    ----------
    adjacency : scipy.sparse matrix
        Cell adjacency (e.g. :func:`grid_adjacency` with ``rule="rook"``).
    mask : numpy.ndarray of bool
        Selected cells.

    Returns
    -------
    numpy.ndarray
        Component label per cell (``-1`` where not selected), labels ``0..k-1``.
    """
    idx = np.flatnonzero(mask)
    out = np.full(len(mask), -1, dtype=np.int64)
    if len(idx) == 0:
        return out
    sub = sparse.csr_matrix(adjacency)[idx][:, idx]
    _, labels = connected_components(sub, directed=False)
    out[idx] = labels
    return out


def dissolve_cells(
    cells: gpd.GeoDataFrame, group: np.ndarray, aggfunc: dict[str, str]
) -> gpd.GeoDataFrame:
    """Merge grouped cells into one polygon per group and aggregate their columns.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Grid cells (or any polygons) with the columns named in ``aggfunc``.
    group : numpy.ndarray
        Group label per row; rows labelled ``-1`` are left out.
    aggfunc : dict
        Column -> pandas aggregation (``"sum"``, ``"max"``, ...).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per group with ``cluster_id``, ``n_cells`` and the aggregates.
    """
    keep = group >= 0
    sel = cells.loc[keep, list(aggfunc) + ["geometry"]].copy()
    sel["cluster_id"] = group[keep]
    sel["n_cells"] = 1
    agg = {**aggfunc, "n_cells": "sum"}
    if sel.empty:
        cols = ["cluster_id", *agg, "geometry"]
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry="geometry", crs=cells.crs)
    out = sel.dissolve(by="cluster_id", aggfunc=agg).reset_index()
    return out


def snap_point_counts(
    incidents: gpd.GeoDataFrame, precision_m: float = SNAP_PRECISION_M
) -> gpd.GeoDataFrame:
    """Group incidents by exact (snapped) coordinate.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    precision_m : float
        Coordinates are rounded to this many metres before grouping, to absorb
        floating-point noise from reprojection.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per distinct coordinate: ``x``, ``y``, ``n_incidents``, Point geometry;
        sorted by ``n_incidents`` descending (ties by x, y).
    """
    x, y = point_xy(incidents)
    frame = pd.DataFrame(
        {"x": np.round(x / precision_m) * precision_m, "y": np.round(y / precision_m) * precision_m}
    )
    grouped = frame.groupby(["x", "y"], sort=True).size().rename("n_incidents").reset_index()
    grouped = grouped.sort_values(
        ["n_incidents", "x", "y"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    return gpd.GeoDataFrame(
        grouped, geometry=gpd.points_from_xy(grouped["x"], grouped["y"]), crs=CRS_BNG
    )


def snap_summary(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    single_share: float = SINGLE_SNAP_SHARE,
) -> pd.DataFrame:
    """Incidents and snap points inside each hotspot polygon.

    Parameters
    ----------
    hotspots : geopandas.GeoDataFrame
        Hotspot polygons, EPSG:27700.
    incidents : geopandas.GeoDataFrame
        Incident points, EPSG:27700.
    single_share : float
        A hotspot is flagged ``single_snap_point`` when at least this share of its
        incidents sit at one coordinate.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``hotspots``: ``n_incidents`` (points intersecting the polygon),
        ``snap_points`` (distinct coordinates), ``top_snap_share`` and
        ``single_snap_point``.
    """
    snaps = snap_point_counts(incidents)
    out = pd.DataFrame(
        {"n_incidents": 0, "snap_points": 0, "top_snap_share": 0.0},
        index=hotspots.index,
    )
    if len(hotspots) and len(snaps):
        tree = shapely.STRtree(snaps.geometry.values)
        poly_i, snap_i = tree.query(hotspots.geometry.values, predicate="intersects")
        n = snaps["n_incidents"].to_numpy()[snap_i]
        pairs = pd.DataFrame({"h": poly_i, "n": n})
        agg = pairs.groupby("h")["n"].agg(["sum", "size", "max"])
        pos = agg.index.to_numpy()
        out.iloc[pos, 0] = agg["sum"].to_numpy()
        out.iloc[pos, 1] = agg["size"].to_numpy()
        out.iloc[pos, 2] = (agg["max"] / agg["sum"]).to_numpy()
    out["single_snap_point"] = (out["n_incidents"] > 0) & (out["top_snap_share"] >= single_share)
    return out


def select_top_cells(
    score: np.ndarray,
    area: np.ndarray,
    coverage: float,
    total_area: float,
    seed: int = 0,
) -> np.ndarray:
    """Pick the highest-scoring cells until their area share reaches ``coverage``.

    Parameters
    ----------
    score : numpy.ndarray
        Cell scores (higher first); NaN cells are never picked.
    area : numpy.ndarray
        Cell areas in m² (clipped to the region).
    coverage : float
        Target share of ``total_area`` in (0, 1].
    total_area : float
        Area of the study region in m².
    seed : int
        Seed of the random order among equal scores (deterministic, and unbiased in
        space, unlike breaking ties by cell position).

    Returns
    -------
    numpy.ndarray of bool
        Selected cells: the longest prefix of the ranking whose total area does not
        exceed ``coverage * total_area``.
    """
    if not 0 < coverage <= 1:
        raise BadInput(f"coverage must be in (0, 1], got {coverage!r}", param="coverage")
    score = np.asarray(score, dtype=float)
    order = ranked_order(score, seed)
    cum = np.cumsum(np.asarray(area, dtype=float)[order])
    take = order[cum <= coverage * total_area * (1 + 1e-9)]
    mask = np.zeros(len(score), dtype=bool)
    mask[take] = True
    return mask


def ranked_order(score: np.ndarray, seed: int = 0) -> np.ndarray:
    """Positions of non-NaN scores, highest first, equal scores in seeded random order.

    Parameters
    ----------
    score : numpy.ndarray
    seed : int

    Returns
    -------
    numpy.ndarray
        Integer positions into ``score``.
    """
    score = np.asarray(score, dtype=float)
    valid = np.flatnonzero(~np.isnan(score))
    jitter = np.random.default_rng(seed).random(len(valid))
    order = np.lexsort((jitter, -score[valid]))
    return valid[order]
