"""Kernel density hotspots: quartic (biweight) kernel density on a grid.

Kernel: quartic, ``K(d) = 3 / (pi h²) * (1 - d²/h²)²`` for ``d < h`` (zero beyond), the
kernel used by sfhotspot, CrimeStat and ArcGIS. ``h`` is the bandwidth (kernel radius).
Density is evaluated exactly at every cell centre: a KD-tree pairs cell centres with
the distinct incident coordinates (weighted by how many incidents share each snap
point) within ``h``, so the cost grows with the number of snap points, not incidents.
No edge correction is applied.

Bandwidth rule (default ``"nrd"``, as sfhotspot): the mean over the x and y coordinates
of MASS's ``bandwidth.nrd``, ``4 * 1.06 * min(sd, IQR / 1.34) * n^(-1/5)``, times
``bandwidth_adjust``. A number overrides the rule.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.hotspots.count import select_cells
from geo_ssgp.hotspots.grid import (
    Grid,
    components,
    dissolve_cells,
    grid_adjacency,
    grid_count,
    make_grid,
    point_xy,
    region_label,
    snap_point_counts,
)
from geo_ssgp.hotspots.halo import cell_districts, run_districts
from geo_ssgp.hotspots.layer import HotspotLayer, finish_hotspots

#: Default KDE cell size in metres.
DEFAULT_KDE_CELL_M = 50.0
#: The default bandwidth rule, as recorded in layer parameters.
BANDWIDTH_RULE = "nrd: mean of MASS::bandwidth.nrd over x and y (sfhotspot rule)"


def bandwidth_nrd(values: np.ndarray) -> float:
    """MASS ``bandwidth.nrd`` of one coordinate: ``4 * 1.06 * min(sd, IQR/1.34) * n^-0.2``.

    Parameters
    ----------
    values : numpy.ndarray

    Returns
    -------
    float
    """
    values = np.asarray(values, dtype=float)
    q25, q75 = np.quantile(values, [0.25, 0.75])
    spread = min(np.std(values, ddof=1), (q75 - q25) / 1.34)
    return 4 * 1.06 * spread * len(values) ** (-0.2)


def default_bandwidth(incidents: gpd.GeoDataFrame) -> float:
    """Bandwidth in metres by the ``nrd`` rule: mean of :func:`bandwidth_nrd` over x and y.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700 (at least two distinct coordinates).

    Returns
    -------
    float
    """
    x, y = point_xy(incidents)
    if len(x) < 2:
        raise NotEnoughData("the bandwidth rule needs at least two incidents")
    h = (bandwidth_nrd(x) + bandwidth_nrd(y)) / 2.0
    if not h > 0:
        raise NotEnoughData("the bandwidth rule gives zero: incidents sit on too few coordinates")
    return float(h)


def quartic_density(
    cx: np.ndarray,
    cy: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    weights: np.ndarray,
    bandwidth: float,
) -> np.ndarray:
    """Quartic kernel density of weighted points at target locations.

    Parameters
    ----------
    cx, cy : numpy.ndarray
        Target coordinates (cell centres), metres.
    px, py : numpy.ndarray
        Point coordinates, metres.
    weights : numpy.ndarray
        Incidents per point.
    bandwidth : float
        Kernel radius ``h`` in metres.

    Returns
    -------
    numpy.ndarray
        Density in incidents per m² at each target (integrates to ``sum(weights)``
        over the plane).
    """
    targets = cKDTree(np.column_stack([cx, cy]))
    points = cKDTree(np.column_stack([px, py]))
    pairs = targets.sparse_distance_matrix(points, bandwidth, output_type="ndarray")
    u2 = (pairs["v"] / bandwidth) ** 2
    k = (1.0 - u2) ** 2 * (3.0 / (math.pi * bandwidth**2))
    k[u2 >= 1.0] = 0.0
    w = np.asarray(weights, dtype=float)[pairs["j"]]
    return np.bincount(pairs["i"], weights=k * w, minlength=len(cx))


def district_density(
    grid: Grid,
    incidents: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    bandwidth: float,
    client=None,
    halo: float | None = None,
) -> np.ndarray:
    """Quartic kernel density per cell, computed per district with a one-bandwidth halo.

    Parameters
    ----------
    grid : Grid
        Cells over the whole study area (EPSG:27700).
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    districts : geopandas.GeoDataFrame
        District polygons covering the grid (EPSG:27700).
    bandwidth : float
        Kernel radius in metres (as :func:`~geo_ssgp.hotspots.kde.quartic_density`).
    client : distributed.Client, optional
        Run the districts in parallel on this Dask cluster; in-process otherwise.
    halo : float, optional
        Reach of each district's halo in metres, from its outline and its cell centres
        (a clipped edge cell's centre can lie outside the district); default ``bandwidth``,
        the smallest that leaves no edge cut.

    Returns
    -------
    numpy.ndarray
        Density in incidents per m² per cell, in grid order; cells outside every district
        are NaN.
    """
    owner = cell_districts(grid, districts)
    snaps = snap_point_counts(incidents)
    px, py, w = (snaps[c].to_numpy() for c in ("x", "y", "n_incidents"))
    points = shapely.points(px, py)
    cx, cy = grid.cells["x"].to_numpy(), grid.cells["y"].to_numpy()
    jobs, cells_of = [], []
    for d, outline in enumerate(districts.geometry.values):
        cells = np.flatnonzero(owner == d)
        centres = shapely.multipoints(np.column_stack([cx[cells], cy[cells]]))
        reach = shapely.union(outline, centres)
        near = shapely.dwithin(reach, points, bandwidth if halo is None else halo)
        cells_of.append(cells)
        jobs.append((cx[cells], cy[cells], px[near], py[near], w[near], bandwidth))
    pieces = run_districts(quartic_density, jobs, client)
    out = np.full(len(cx), np.nan)
    for cells, piece in zip(cells_of, pieces, strict=True):
        out[cells] = piece
    return out


def _cell_density(grid: Grid, incidents, bandwidth: float, districts, client) -> np.ndarray:
    """Density per cell: over the whole region, or per district with a halo."""
    if districts is not None:
        return district_density(grid, incidents, districts, bandwidth, client=client)
    snaps = snap_point_counts(incidents)
    return quartic_density(
        grid.cells["x"].to_numpy(),
        grid.cells["y"].to_numpy(),
        snaps["x"].to_numpy(),
        snaps["y"].to_numpy(),
        snaps["n_incidents"].to_numpy(),
        bandwidth,
    )


def kde_hotspots(
    incidents: gpd.GeoDataFrame,
    region: gpd.GeoDataFrame,
    *,
    cell_size: float | None = DEFAULT_KDE_CELL_M,
    bandwidth: float | None = None,
    bandwidth_adjust: float = 1.0,
    grid: str = "square",
    coverage: float | None = None,
    threshold: float | None = None,
    seed: int = 0,
    districts: gpd.GeoDataFrame | None = None,
    client=None,
) -> HotspotLayer:
    """Quartic-kernel density hotspots.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    region : geopandas.GeoDataFrame
        Study region.
    cell_size : float, optional
        Cell size in metres (default 50 m; ``None`` = the sfhotspot grid rule).
    bandwidth : float, optional
        Kernel radius in metres; ``None`` applies the ``nrd`` rule.
    bandwidth_adjust : float
        Multiplier of the rule's bandwidth (ignored when ``bandwidth`` is given).
    grid : {"square", "hex"}
    coverage : float, optional
        Share of the region in hotspots (default 0.05).
    threshold : float, optional
        Minimum density (incidents per km²) of a hotspot cell, instead of coverage.
    seed : int
        Tie-break seed.
    districts : geopandas.GeoDataFrame, optional
        Districts covering the region: the density is computed district by district with
        a one-bandwidth halo (:func:`district_density`), giving the same layer.
    client : distributed.Client, optional
        With ``districts``: run the districts in parallel on this Dask cluster.

    Returns
    -------
    HotspotLayer
        Hotspots with ``peak_density_per_km2`` (= ``score``), ``mean_density_per_km2``,
        ``count``, ``n_cells``, ``cluster_id``; the surface holds ``density_per_km2``
        and ``count`` per cell.
    """
    g = make_grid(region, cell_size=cell_size, kind=grid)
    if bandwidth is None:
        h, rule = default_bandwidth(incidents) * bandwidth_adjust, BANDWIDTH_RULE
    else:
        h, rule = float(bandwidth), "user"
    if not h > 0:
        raise BadInput(f"bandwidth must be positive, got {h!r}", param="bandwidth")
    density = _cell_density(g, incidents, h, districts, client)
    surface = g.cells.copy()
    surface["density_per_km2"] = density * 1e6
    surface["count"] = grid_count(g, incidents).to_numpy()
    surface["score"] = surface["density_per_km2"]
    mask, selection = select_cells(g, surface["score"].to_numpy(), coverage, threshold, seed)
    surface["hotspot"] = mask
    surface["peak_density_per_km2"] = surface["density_per_km2"]
    surface["mean_density_per_km2"] = surface["density_per_km2"]
    group = components(grid_adjacency(g, "rook"), mask)
    polys = dissolve_cells(
        surface,
        group,
        {"peak_density_per_km2": "max", "mean_density_per_km2": "mean", "count": "sum"},
    )
    polys["score"] = polys["peak_density_per_km2"]
    hot = finish_hotspots(polys, incidents)
    params = {
        "method": "kde",
        **g.describe(),
        "kernel": "quartic (biweight)",
        "bandwidth_m": h,
        "bandwidth_rule": rule,
        "bandwidth_adjust": bandwidth_adjust if bandwidth is None else None,
        "edge_correction": "none",
        "statistic": "incidents per km² at the cell centre",
        **selection,
        "merge": "edge-adjacent selected cells merged into one hotspot",
        "score": "peak density in the hotspot (incidents per km²)",
        "seed": seed,
        "region": region_label(region),
    }
    surface = surface.drop(columns=["peak_density_per_km2", "mean_density_per_km2"])
    return HotspotLayer("kde", hot, params, surface)
