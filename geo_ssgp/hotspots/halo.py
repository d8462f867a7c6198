"""Neighbour-needing surfaces computed district by district, with a halo, in parallel.

A kernel density at a cell depends only on the incidents within one bandwidth of the cell
centre. :func:`district_density` gives each district its own cells (the district holding
the cell's representative point) and the snap points within one bandwidth of the district
outline or of its cell centres (the halo: a clipped edge cell's centre can lie outside the
district), computes :func:`~geo_ssgp.hotspots.kde.quartic_density` for each district
independently (on a Dask cluster when a client is given) and puts the pieces back in grid
order. District edges are not cut: the result equals the whole-area density.

Gi* is not split this way: its z-scores use the mean and variance of the whole study area,
so a district with a halo alone does not reproduce them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo_ssgp.hotspots.grid import Grid, snap_point_counts
from geo_ssgp.hotspots.kde import quartic_density


def cell_districts(grid: Grid, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``districts`` of the district holding each cell's representative point.

    A point on a shared boundary goes to the first district listed; ``-1`` marks a cell
    outside every district.
    """
    points = grid.cells.geometry.representative_point().values
    tree = shapely.STRtree(districts.geometry.values)
    cell_i, district_i = tree.query(points, predicate="intersects")
    out = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((district_i, cell_i))
    first = np.unique(cell_i[order], return_index=True)[1]
    out[cell_i[order][first]] = district_i[order][first]
    return out


def _district_piece(cx, cy, px, py, w, bandwidth: float) -> np.ndarray:
    return quartic_density(cx, cy, px, py, w, bandwidth)


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
    if client is None:
        pieces = [_district_piece(*job) for job in jobs]
    else:
        pieces = client.gather([client.submit(_district_piece, *job) for job in jobs])
    out = np.full(len(cx), np.nan)
    for cells, piece in zip(cells_of, pieces, strict=True):
        out[cells] = piece
    return out
