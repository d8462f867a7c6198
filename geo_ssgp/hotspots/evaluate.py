"""Backtest of hotspot methods: hotspots from one period, incidents of the next.

Every method is run on the *train* incidents and its output is ranked on one common
grid (default 100 m squares over the study region): each cell takes the method's
score (:meth:`HotspotLayer.cell_scores`), cells are taken best first (equal scores in
seeded random order) while their area stays within ``coverage`` of the region, and the
*test* incidents in the selected cells are counted. Grid methods run on the common
grid itself unless a method's ``cell_size`` is given. A ``naive-previous`` baseline
ranks cells by their train-period count.

Measures, for ``n`` test incidents in the selected cells of area ``a``, ``N`` test
incidents in the region of area ``A``:

* hit rate ``n / N``;
* PAI, predictive accuracy index (Chainey, Tompson & Uhlig 2008): ``(n/N) / (a/A)``;
* PEI, predictive efficiency index (Hunt 2016): ``n / n*`` where ``n*`` is the most
  test incidents any selection of grid cells with total area ``a`` could hold (cells
  by test density, the last one fractionally, so ``n* >= n`` and PEI <= 1);
* RRI, recapture rate index (Levine 2008): ``(n / m) / (N / M)`` with ``m`` train
  incidents in the selected cells and ``M`` in the region (None when ``m = 0``).
"""

from __future__ import annotations

import inspect

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ssgp.errors import BadInput
from geo_ssgp.filters import filter_incidents
from geo_ssgp.hotspots import METHODS, prepare_incidents, resolve_method, run_method
from geo_ssgp.hotspots.grid import Grid, grid_count, make_grid, select_top_cells, study_region
from geo_ssgp.hotspots.layer import HotspotLayer
from geo_ssgp.pack import AreaPack

#: Coverages (share of the region) reported by default.
DEFAULT_COVERAGES = (0.01, 0.03, 0.05)
#: Common evaluation grid cell size in metres.
DEFAULT_EVAL_CELL_M = 100.0
#: Name of the previous-period baseline in every report.
BASELINE = "naive-previous"
#: Methods that build their own grid and are run on the common grid by default.
GRID_METHODS = ("grid-count", "kde", "gistar")


def split_periods(
    incidents: gpd.GeoDataFrame,
    train: tuple[str, str],
    test: tuple[str, str],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split incidents into a train and a test period.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        With a ``month`` column.
    train, test : tuple of str
        ``("YYYY-MM", "YYYY-MM")`` first and last month, inclusive.

    Returns
    -------
    (geopandas.GeoDataFrame, geopandas.GeoDataFrame)
    """
    return (
        filter_incidents(incidents, start=train[0], end=train[1]),
        filter_incidents(incidents, start=test[0], end=test[1]),
    )


def selection_metrics(
    selected: np.ndarray,
    area: np.ndarray,
    test_counts: np.ndarray,
    train_counts: np.ndarray,
    total_area: float,
) -> dict:
    """Hit rate, PAI, PEI and RRI of one selection of grid cells.

    Parameters
    ----------
    selected : numpy.ndarray of bool
        Selected cells.
    area : numpy.ndarray
        Cell areas (m²).
    test_counts, train_counts : numpy.ndarray
        Incidents per cell in the test and train periods.
    total_area : float
        Region area (m²).

    Returns
    -------
    dict
        ``hit_rate``, ``pai``, ``pei``, ``rri``, ``area_share``, ``n_cells``,
        ``n_test``, ``n_train`` (None where undefined).
    """
    area = np.asarray(area, dtype=float)
    test = np.asarray(test_counts, dtype=float)
    train = np.asarray(train_counts, dtype=float)
    a = float(area[selected].sum())
    n = float(test[selected].sum())
    m = float(train[selected].sum())
    big_n, big_m = float(test.sum()), float(train.sum())
    hit = n / big_n if big_n else None
    share = a / total_area
    pai = hit / share if hit is not None and share > 0 else None
    best = max_capture(area, test, a)
    pei = n / best if best > 0 else None
    rri = (n / m) / (big_n / big_m) if m > 0 and big_n > 0 and big_m > 0 else None
    return {
        "hit_rate": hit,
        "pai": pai,
        "pei": pei,
        "rri": rri,
        "area_share": share,
        "n_cells": int(np.count_nonzero(selected)),
        "n_test": int(n),
        "n_train": int(m),
    }


def max_capture(area: np.ndarray, counts: np.ndarray, budget: float) -> float:
    """Most incidents that grid cells with total area ``budget`` can hold.

    Cells are taken by density (count per m²), the last one fractionally: the
    fractional-knapsack optimum, an upper bound of every whole-cell selection.

    Parameters
    ----------
    area : numpy.ndarray
    counts : numpy.ndarray
    budget : float
        Area in m².

    Returns
    -------
    float
    """
    if budget <= 0:
        return 0.0
    density = counts / area
    order = np.argsort(-density, kind="stable")
    cum_area = np.cumsum(area[order])
    full = np.searchsorted(cum_area, budget, side="right")
    total = float(counts[order][:full].sum())
    if full < len(order):
        used = cum_area[full - 1] if full > 0 else 0.0
        total += (budget - used) * density[order][full]
    return total


def _scores_by_hotspots(layer, grid: Grid) -> pd.Series:
    """Cell scores from a layer's ranked hotspots: rank 1 first, other cells unscored."""
    ranked = layer.hotspots.assign(score=-layer.hotspots["rank"].astype(float))
    return HotspotLayer(layer.method, ranked, layer.parameters, None).cell_scores(grid)


def backtest(
    train: gpd.GeoDataFrame,
    test: gpd.GeoDataFrame,
    pack: AreaPack | None = None,
    methods: list[str] | tuple[str, ...] | None = None,
    coverages: tuple[float, ...] = DEFAULT_COVERAGES,
    *,
    cell_size: float = DEFAULT_EVAL_CELL_M,
    rank_by: str = "surface",
    seed: int = 0,
    region: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    population: pd.Series | None = None,
    method_params: dict[str, dict] | None = None,
) -> dict:
    """Predictive accuracy of hotspot methods, train period -> test period.

    Parameters
    ----------
    train, test : geopandas.GeoDataFrame
        Incidents of the two periods, EPSG:27700 (``status != "ok"`` rows dropped).
    pack : AreaPack, optional
        Supplies the region, LSOAs and population (or pass ``region``/``areas``).
    methods : sequence of str, optional
        Registry names (default: all of :data:`~geo_ssgp.hotspots.METHODS`).
    coverages : tuple of float
        Shares of the region to select.
    cell_size : float
        Common grid cell size in metres.
    rank_by : {"surface", "hotspots"}
        Rank cells by the method's per-cell or per-area score (``"surface"``), or by
        the rank of the hotspot polygon holding them (``"hotspots"``: only hotspot
        cells can be selected).
    seed : int
        Seed for methods and for random order among equal scores.
    region, areas, population
        Overrides passed to :func:`~geo_ssgp.hotspots.run_method`.
    method_params : dict, optional
        Per-method settings, e.g. ``{"kde": {"bandwidth": 300}}``.

    Returns
    -------
    dict
        ``{method: {coverage: {"pai", "pei", "rri", "hit_rate", "area_share",
        "n_cells", "n_test", "n_train"}}}`` including ``"naive-previous"``.
    """
    if rank_by not in {"surface", "hotspots"}:
        raise BadInput(f"rank_by must be 'surface' or 'hotspots', not {rank_by!r}", param="rank_by")
    train_pts, _ = prepare_incidents(train)
    test_pts, _ = prepare_incidents(test)
    if region is None:
        if pack is None:
            raise ValueError("backtest needs a pack or a region")
        region = study_region(pack)
    grid = make_grid(region, cell_size=cell_size)
    area = grid.cells["area_m2"].to_numpy()
    test_counts = grid_count(grid, test_pts).to_numpy()
    train_counts = grid_count(grid, train_pts).to_numpy()
    names = [resolve_method(m) for m in (methods or list(METHODS))]
    method_params = method_params or {}
    scores: dict[str, np.ndarray] = {BASELINE: train_counts.astype(float)}
    for name in names:
        params = dict(method_params.get(name, {}))
        if name in GRID_METHODS:
            params.setdefault("cell_size", cell_size)
        if "seed" in _accepted(METHODS[name].func):
            params.setdefault("seed", seed)
        layer = run_method(
            name,
            train_pts,
            pack,
            region=region,
            areas=areas,
            population=population,
            label=False,
            **params,
        )
        cell = layer.cell_scores(grid) if rank_by == "surface" else _scores_by_hotspots(layer, grid)
        scores[name] = cell.to_numpy(dtype=float)
    result: dict = {}
    for name, score in scores.items():
        result[name] = {}
        for cov in coverages:
            sel = select_top_cells(score, area, cov, grid.region_area_m2, seed)
            result[name][cov] = selection_metrics(
                sel, area, test_counts, train_counts, grid.region_area_m2
            )
    return result


def _accepted(func) -> set[str]:
    return set(inspect.signature(func).parameters)


def backtest_table(result: dict) -> pd.DataFrame:
    """A backtest result as a long table (one row per method and coverage).

    Parameters
    ----------
    result : dict
        Output of :func:`backtest`.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``coverage`` and the measures.
    """
    rows = [
        {"method": name, "coverage": cov, **metrics}
        for name, by_cov in result.items()
        for cov, metrics in by_cov.items()
    ]
    return pd.DataFrame(rows)


__all__ = [
    "BASELINE",
    "DEFAULT_COVERAGES",
    "backtest",
    "backtest_table",
    "max_capture",
    "selection_metrics",
    "split_periods",
]
