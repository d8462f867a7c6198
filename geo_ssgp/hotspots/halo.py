"""Neighbour-needing surfaces computed district by district, with a halo, in parallel.

This module owns the partition: which district each unit (grid cell, area, cube place)
belongs to, the ring of neighbouring units each district needs (its halo), and running the
districts in-process or in parallel on a Dask cluster. Each district gets its own units
(the district holding the unit's representative point) plus the halo it needs to compute
them exactly; the pieces go back in unit order, so district edges are not cut and the
result equals the whole-area one (tested on the six Gloucestershire districts).

The statistics use it where they live:

* **Kernel density** (:func:`geo_ssgp.hotspots.kde.district_density`): a cell's density
  depends on the snap points within one bandwidth of its centre, so the halo is every point
  within one bandwidth of the district outline or its cell centres.
* **Gi*** and the space-time Gi* of **emerging hotspots**
  (:func:`geo_ssgp.hotspots.gistar.district_gistar`): with binary weights and ``star`` a
  unit's Gi* depends on its window sum (own count plus its neighbours', over
  ``neighbour_steps`` previous steps for a cube; :func:`district_windows`, halo = the ring
  of neighbouring units) and on whole-area quantities, which one pass over the whole area
  adds.

``kde`` and ``gistar`` layers take ``districts`` (and a ``client``) to run this way;
:func:`geo_ssgp.hotspots.run_method` passes the pack's districts when given a client.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse

from geo_ssgp.hotspots.grid import Grid


def cell_districts(grid: Grid, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``districts`` of the district holding each cell's representative point.

    A point on a shared boundary goes to the first district listed; ``-1`` marks a cell
    outside every district.
    """
    return place_districts(grid.cells.geometry, districts)


def place_districts(places: gpd.GeoSeries, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``districts`` of the district holding each place's representative point.

    Places are grid cells or areas (EPSG:27700). A point inside a district belongs to it
    (to the first listed if districts overlap); a point on a shared boundary goes to the
    first district it touches; ``-1`` marks a place outside every district. Any assignment
    gives the same halo results; this one is fast (a prepared point-in-polygon test per
    district, the spatial index only for the few points left on boundaries).
    """
    points = places.representative_point().values
    x, y = shapely.get_x(points), shapely.get_y(points)
    out = np.full(len(points), -1, dtype=np.int64)
    for d, outline in enumerate(districts.geometry.values):
        free = np.flatnonzero(out < 0)
        shapely.prepare(outline)
        out[free[shapely.contains_xy(outline, x[free], y[free])]] = d
    left = np.flatnonzero(out < 0)
    tree = shapely.STRtree(districts.geometry.values)
    point_i, district_i = tree.query(points[left], predicate="intersects")
    order = np.lexsort((district_i, point_i))
    first = np.unique(point_i[order], return_index=True)[1]
    out[left[point_i[order][first]]] = district_i[order][first]
    return out


def _window_job(
    rows: sparse.csr_matrix,
    counts: np.ndarray,
    area: np.ndarray | None,
    own: np.ndarray,
    neighbour_steps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One district's window sums, sizes and areas from its units and their halo.

    ``rows`` is the district's units (rows) by halo units (columns) of the adjacency,
    ``counts`` is steps x halo units, ``own`` the units' positions in the halo.
    """
    space = np.asarray(rows @ counts.T).T + counts[:, own]  # steps x units
    cum = np.cumsum(space, axis=0)
    k = neighbour_steps
    window = cum - np.vstack([np.zeros((k + 1, cum.shape[1])), cum[: -(k + 1)]])[: len(cum)]
    n_steps = np.minimum(np.arange(len(cum)), k) + 1
    size = np.outer(n_steps, np.asarray(rows.sum(axis=1)).ravel() + 1)
    win_area = None if area is None else rows @ area + area[own]
    return window, size, win_area


def district_windows(
    counts: np.ndarray,
    adjacency: sparse.spmatrix,
    owner: np.ndarray,
    *,
    area: np.ndarray | None = None,
    neighbour_steps: int = 0,
    client=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gi* window sums of every unit, computed per district with a one-ring halo.

    The window of unit ``i`` at step ``t`` is ``i`` and its neighbours, at steps
    ``t - neighbour_steps .. t`` (the binary weights with self of
    :func:`~geo_ssgp.hotspots.grid.grid_weights` and
    :func:`~geo_ssgp.hotspots.emerging.space_time_weights`).

    Parameters
    ----------
    counts : numpy.ndarray
        Counts, steps x units (one row for a plain map).
    adjacency : scipy.sparse matrix
        Binary unit adjacency without self-neighbours.
    owner : numpy.ndarray
        District of each unit (:func:`place_districts`; ``-1`` units form one more group).
    area : numpy.ndarray, optional
        Unit areas, for the window areas of the Poisson p-value.
    neighbour_steps : int
        Previous steps inside each window.
    client : distributed.Client, optional
        Run the districts in parallel on this Dask cluster; in-process otherwise.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray or None)
        Window sums and window sizes (steps x units) and window areas (units).
    """
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    adjacency = sparse.csr_matrix(adjacency)
    jobs, units_of = [], []
    for d in np.unique(owner):
        units = np.flatnonzero(owner == d)
        rows = adjacency[units]
        halo = np.union1d(units, rows.indices)  # the district and the ring around it
        own = np.searchsorted(halo, units)
        piece_area = None if area is None else np.asarray(area, dtype=float)[halo]
        jobs.append((rows[:, halo], counts[:, halo], piece_area, own, neighbour_steps))
        units_of.append(units)
    pieces = run_districts(_window_job, jobs, client)
    sums, sizes = np.zeros(counts.shape), np.zeros(counts.shape)
    win_area = None if area is None else np.zeros(counts.shape[1])
    for units, (window, size, piece_area) in zip(units_of, pieces, strict=True):
        sums[:, units], sizes[:, units] = window, size
        if win_area is not None:
            win_area[units] = piece_area
    return sums, sizes, win_area




def run_districts(func: Callable, jobs: list[tuple], client=None) -> list:
    """``func(*job)`` for every district's job: in-process, or in parallel on a Dask client.

    Parameters
    ----------
    func : callable
    jobs : list of tuple
        One argument tuple per district.
    client : distributed.Client, optional

    Returns
    -------
    list
        One result per job, in job order.
    """
    if client is None:
        return [func(*job) for job in jobs]
    return client.gather([client.submit(func, *job) for job in jobs])
