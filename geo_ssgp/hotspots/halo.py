"""Neighbour-needing surfaces computed district by district, with a halo, in parallel.

Each district gets its own units (the district holding the unit's representative point)
plus the halo it needs to compute them exactly, and the districts run independently (on a
Dask cluster when a client is given); the pieces go back in unit order. District edges are
not cut: the result equals the whole-area one (tested on the six Gloucestershire districts).

* **Kernel density** (:func:`district_density`): a cell's density depends on the snap
  points within one bandwidth of its centre, so the halo is every point within one bandwidth
  of the district outline or its cell centres (a clipped edge cell's centre can lie outside).
* **Gi*** and the space-time Gi* of **emerging hotspots** (:func:`district_gistar`):
  with binary weights and ``star`` a unit's Gi* depends on its window sum (own count plus
  its neighbours', over ``neighbour_steps`` previous steps for a cube) and on whole-area
  quantities: the mean and variance of all counts (z-score), their distribution (exact
  p-value), the area-weighted rate (Poisson p-value) and the false-discovery adjustment over
  every unit. The halo is the ring of neighbouring units around the district: each
  district computes its units' window sums, and one pass over the whole area (sums of all
  counts, then the adjustment) finishes the statistic with esda's moments. The
  permutation p-value (``p_sim``) draws from the whole area and is not offered here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.stats import norm

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots.gistar import (
    adjust_pvalues,
    classify,
    exact_window_pvalues,
    poisson_pvalues,
)
from geo_ssgp.hotspots.grid import Grid, snap_point_counts
from geo_ssgp.hotspots.kde import quartic_density


def cell_districts(grid: Grid, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``districts`` of the district holding each cell's representative point.

    A point on a shared boundary goes to the first district listed; ``-1`` marks a cell
    outside every district.
    """
    return place_districts(grid.cells.geometry, districts)


def place_districts(places: gpd.GeoSeries, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``districts`` of the district holding each place's representative point.

    Places are grid cells or areas (EPSG:27700); a point on a shared boundary goes to the
    first district listed; ``-1`` marks a place outside every district.
    """
    points = places.representative_point().values
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
    if client is None:
        pieces = [_window_job(*job) for job in jobs]
    else:
        pieces = client.gather([client.submit(_window_job, *job) for job in jobs])
    sums, sizes = np.zeros(counts.shape), np.zeros(counts.shape)
    win_area = None if area is None else np.zeros(counts.shape[1])
    for units, (window, size, piece_area) in zip(units_of, pieces, strict=True):
        sums[:, units], sizes[:, units] = window, size
        if win_area is not None:
            win_area[units] = piece_area
    return sums, sizes, win_area


def district_gistar(
    counts: np.ndarray,
    adjacency: sparse.spmatrix,
    owner: np.ndarray,
    *,
    area: np.ndarray | None = None,
    neighbour_steps: int = 0,
    p_value: str = "exact",
    p_adjust: str = "fdr_bh",
    client=None,
) -> pd.DataFrame:
    """Gi* of every unit (or space-time bin), neighbour sums per district with a halo.

    Equals :func:`~geo_ssgp.hotspots.gistar.gistar_table` (``permutations=0``) on the whole
    area with the same binary weights: ``gi`` and ``z`` follow ``esda.G_Local``
    (``star=True``, ``transform="B"``) from the window sums and the whole area's mean and
    variance; the p-values and the adjustment run over every unit.

    Parameters
    ----------
    counts : numpy.ndarray
        Integer counts, steps x units (one row for a plain map).
    adjacency : scipy.sparse matrix
        Binary unit adjacency without self-neighbours.
    owner : numpy.ndarray
        District of each unit (:func:`place_districts`).
    area : numpy.ndarray, optional
        Unit areas inside the region (needed for ``p_value="poisson"``).
    neighbour_steps : int
        Previous steps inside each window (emerging hotspots; 0 for a map).
    p_value : {"exact", "poisson", "norm"}
        Which p-value is adjusted and classified (see :mod:`geo_ssgp.hotspots.gistar`).
    p_adjust : {"fdr_bh", "bonferroni", "none"}
    client : distributed.Client, optional

    Returns
    -------
    pandas.DataFrame
        One row per bin in order ``t * n_units + i``: ``gi``, ``z``, ``p_poisson``,
        ``p_exact``, ``p_norm``, ``p`` (the chosen one), ``p_adj``, ``hot_cold``.
    """
    if p_value not in ("exact", "poisson", "norm"):
        raise BadInput(
            f"p_value={p_value!r} per district: use exact, poisson or norm (permutation "
            "p-values draw from the whole area)",
            param="p_value",
        )
    if p_value == "poisson" and area is None:
        raise BadInput("p_value='poisson' needs unit areas", param="p_value")
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    s, size, win_area = district_windows(
        y, adjacency, owner, area=area, neighbour_steps=neighbour_steps, client=client
    )
    y, s, size = y.ravel(), s.ravel(), size.ravel()
    gi, z = _gi_star(y, s, size)
    p_norm = np.minimum(2.0 * norm.sf(np.abs(z)), 1.0)
    p_exact = exact_window_pvalues(y, np.rint(s), size)[0]
    p_poisson, side = np.full(len(y), np.nan), z
    if p_value == "poisson":
        expected = np.tile(win_area, len(y) // len(win_area)) * (y.sum() / area.sum())
        p_poisson, side = poisson_pvalues(s, expected), s - expected
    p = {"poisson": p_poisson, "exact": p_exact, "norm": p_norm}[p_value]
    p_adj = adjust_pvalues(p, p_adjust)
    return pd.DataFrame(
        {
            "gi": gi,
            "z": z,
            "p_poisson": p_poisson,
            "p_exact": p_exact,
            "p_norm": p_norm,
            "p": p,
            "p_adj": p_adj,
            "hot_cold": classify(side, p_adj),
        }
    )


def _gi_star(y: np.ndarray, s: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """G* and its z-score from window sums, with esda.G_Local's moments (star, binary).

    ``G*_i = s_i / sum(y)``; ``E = size_i / N``;
    ``V = size_i (N - size_i) / (N - 1) / N**2 * var(y) / mean(y)**2`` over all ``N`` units.
    """
    n = len(y)
    mean = y.sum() / n
    variance = (y**2).sum() / n - mean**2
    gi = s / y.sum()
    expected = size / n
    var_g = size * (n - size) / (n - 1) / n**2 * variance / mean**2
    return gi, (gi - expected) / np.sqrt(var_g)
