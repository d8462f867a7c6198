"""Grid-count hotspots: incidents per grid cell, densest cells merged into polygons.

Rule: count incidents per cell, rank cells by count, select the top cells until they
cover ``coverage`` of the study region (or every cell with at least ``threshold``
incidents), merge edge-adjacent selected cells into polygons and rank the polygons by
their total count. Police.uk snap points make fine grids very effective on this data.

Cell size: 50 m by default (:data:`DEFAULT_COUNT_CELL_M`), the finest scale police.uk's
anonymised map points support (each point is the catchment of at least 8 addresses)
and the winner of the rolling backtest (:mod:`geo_ssgp.hotspots.evaluate`, see the
README "Hotspots" section); 100 m cells lose about 40 % of the PAI at 1 % of the area.

Recency (optional, ``half_life`` in months): each incident weighs
``0.5 ** (age / half_life)`` with ``age`` the months before the latest month of the
data, a prospective-hotspot weighting (Bowers, Johnson & Pease 2004 weight recent
events more). On police.uk data it does not beat plain counts (README figures).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ssgp.errors import BadInput
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots.grid import (
    Grid,
    components,
    dissolve_cells,
    grid_adjacency,
    grid_count,
    make_grid,
    region_label,
    select_top_cells,
)
from geo_ssgp.hotspots.layer import HotspotLayer, finish_hotspots

#: Default share of the region covered by hotspot cells.
DEFAULT_COVERAGE = 0.05
#: Default grid-count cell size in metres (police.uk precision; backtest winner).
DEFAULT_COUNT_CELL_M = 50.0
#: The grid-count cell-size rule, as recorded in layer parameters.
COUNT_CELL_SIZE_RULE = "50 m: police.uk map-point precision, the rolling-backtest winner"


def select_cells(
    grid: Grid,
    score: np.ndarray,
    coverage: float | None,
    threshold: float | None,
    seed: int,
) -> tuple[np.ndarray, dict]:
    """Cells to turn into hotspots, by coverage share or by a score threshold.

    Cells scoring zero (no incidents, no density) are never hotspots.

    Parameters
    ----------
    grid : Grid
    score : numpy.ndarray
        Per-cell score, higher is hotter.
    coverage : float or None
        Share of the region to select (used when ``threshold`` is None).
    threshold : float or None
        Select every cell with ``score >= threshold`` instead.
    seed : int
        Tie-break seed for the coverage rule.

    Returns
    -------
    mask : numpy.ndarray of bool
    params : dict
        The selection rule for the layer's parameters.
    """
    if threshold is not None:
        values = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf)
        mask = (values >= threshold) & (values > 0)
        return mask, {"selection": "score >= threshold", "threshold": float(threshold)}
    coverage = DEFAULT_COVERAGE if coverage is None else float(coverage)
    eligible = np.where(np.asarray(score, dtype=float) > 0, score, np.nan)
    mask = select_top_cells(
        eligible, grid.cells["area_m2"].to_numpy(), coverage, grid.region_area_m2, seed
    )
    rule = (
        "top cells by score (> 0) until their area reaches coverage x region area; "
        "ties in random order (seed)"
    )
    return mask, {"selection": rule, "coverage": coverage}


def recency_weights(months: pd.Series, half_life: float) -> np.ndarray:
    """Weight of each incident, halving every ``half_life`` months back from the latest.

    Parameters
    ----------
    months : pandas.Series
        Incident months (first day of the month).
    half_life : float
        Months after which an incident counts half (> 0).

    Returns
    -------
    numpy.ndarray
        ``0.5 ** (age / half_life)``; the latest month weighs 1.
    """
    if not half_life > 0:
        raise BadInput(f"half_life must be > 0 months, not {half_life!r}", param="half_life")
    period = pd.to_datetime(months).dt.to_period("M")
    age = np.asarray((period.max() - period).apply(lambda d: d.n), dtype=float)
    return 0.5 ** (age / float(half_life))


def grid_count_hotspots(
    incidents: gpd.GeoDataFrame,
    region: gpd.GeoDataFrame,
    *,
    cell_size: float | None = None,
    grid: str = "square",
    coverage: float | None = None,
    threshold: float | None = None,
    half_life: float | None = None,
    seed: int = 0,
) -> HotspotLayer:
    """Grid-count hotspots.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    region : geopandas.GeoDataFrame
        Study region (see :func:`geo_ssgp.hotspots.grid.study_region`).
    cell_size : float, optional
        Cell size in metres (default :data:`DEFAULT_COUNT_CELL_M`, 50 m).
    grid : {"square", "hex"}
        Cell shape.
    coverage : float, optional
        Share of the region covered by hotspot cells (default 0.05).
    threshold : float, optional
        Minimum count of a hotspot cell (overrides ``coverage``).
    half_life : float, optional
        Recency weighting in months (see :func:`recency_weights`); ``count`` is then
        the weighted count. Default: every incident counts 1.
    seed : int
        Tie-break seed.

    Returns
    -------
    HotspotLayer
        Hotspots with ``count``, ``density_per_km2``, ``max_cell_count``,
        ``n_cells``, ``cluster_id``; ``score`` = ``count``. The surface holds every
        cell's ``count`` and ``density_per_km2`` (``score`` = ``count``).
    """
    if cell_size is None:
        cell_size, rule = DEFAULT_COUNT_CELL_M, COUNT_CELL_SIZE_RULE
    else:
        rule = "user"
    g = make_grid(region, cell_size=cell_size, kind=grid)
    g.cell_size_rule = rule
    weights = None if half_life is None else recency_weights(incidents["month"], half_life)
    counts = grid_count(g, incidents, weights)
    surface = g.cells.copy()
    surface["count"] = counts.to_numpy()
    surface["density_per_km2"] = surface["count"] / surface["area_m2"] * 1e6
    surface["score"] = surface["count"].astype(float)
    mask, selection = select_cells(g, surface["score"].to_numpy(), coverage, threshold, seed)
    surface["hotspot"] = mask
    group = components(grid_adjacency(g, "rook"), mask)
    surface["max_cell_count"] = surface["count"]
    polys = dissolve_cells(surface, group, {"count": "sum", "max_cell_count": "max"})
    polys["density_per_km2"] = polys["count"] / polys.geometry.area * 1e6
    polys["score"] = polys["count"].astype(float)
    hot = finish_hotspots(polys, incidents, tie_break=["max_cell_count"])
    params = {
        "method": "grid-count",
        **g.describe(),
        "statistic": "incidents per cell"
        + ("" if half_life is None else f", weighted 0.5 ** (months back / {half_life:g})"),
        "half_life_months": half_life,
        **selection,
        "merge": "edge-adjacent selected cells merged into one hotspot",
        "score": "incidents in the hotspot",
        "seed": seed,
        "region": region_label(region),
        "incidents_outside_grid": counts.attrs["outside_grid"],
    }
    return HotspotLayer("grid-count", hot, params, surface.drop(columns="max_cell_count"))


def cell_count_part(incidents: pd.DataFrame, filters: Filters, grid: Grid) -> np.ndarray:
    """Incidents per cell of ``grid`` in (a part of) a table: status ``ok``, under ``filters``.

    The counts of separate parts (the partitions of a Dask engine run) add up to the counts
    of the whole table; :func:`cell_count_table` turns the sum into a table.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Geocoded incidents (EPSG:27700), all of them or one partition.
    filters : Filters
    grid : Grid

    Returns
    -------
    numpy.ndarray
        One count per cell, in grid order (points outside the grid are not counted).
    """
    selected = filters.apply(incidents)
    if "status" in selected.columns:
        selected = selected[selected["status"] == "ok"]
    return grid_count(grid, selected).to_numpy()


def cell_count_table(grid: Grid, counts: np.ndarray) -> gpd.GeoDataFrame:
    """The occupied cells of ``grid`` with their incident counts.

    Parameters
    ----------
    grid : Grid
    counts : numpy.ndarray
        Incidents per cell, in grid order (the sum of :func:`cell_count_part`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``cell_id``, ``x``, ``y`` (cell centre, EPSG:27700 metres), ``count`` and
        ``density_per_km2`` (per km² of the cell inside the region) for every cell with
        at least one incident, in grid order; geometry is the cell. ``attrs["grid"]``
        holds :meth:`Grid.describe`.
    """
    occupied = np.flatnonzero(counts > 0)
    cells = grid.cells.iloc[occupied]
    out = gpd.GeoDataFrame(
        {
            "cell_id": cells["cell_id"].to_numpy(),
            "x": cells["x"].to_numpy(),
            "y": cells["y"].to_numpy(),
            "count": counts[occupied].astype(np.int64),
            "density_per_km2": counts[occupied] / cells["area_m2"].to_numpy() * 1e6,
        },
        geometry=cells.geometry.to_numpy(),
        crs=grid.cells.crs,
    )
    out.attrs["grid"] = grid.describe()
    return out
