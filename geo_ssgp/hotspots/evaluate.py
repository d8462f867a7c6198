"""Rolling-origin backtest of hotspot methods: hotspots from earlier months, later incidents.

The evaluation unit is explicit (``unit``, :class:`EvalUnit`):

* ``"grid"`` (default): a common grid of ``cell_size`` squares over the study region,
  50 m by default and never finer (:data:`MIN_EVAL_CELL_M`), because police.uk moves
  every incident to an anonymous map point whose catchment holds at least 8 addresses.
  Coverage is a share of the region's area.
* ``"street"``: the pack's street segments (junction to junction) weighted by length.
  Incidents count on the segment they snap to (:func:`geo_ssgp.streets.snap_to_segments`);
  a method selects a segment when its surface or hotspot covers the segment's midpoint
  (the ``street-segments`` method selects segments directly); coverage is a share of the
  street length, so PAI = hit rate / share of street length.

Fairness:

* **Own best settings, chosen on training months only.** Each method has a short list
  of candidate settings (:data:`CANDIDATES`: cell sizes, bandwidths). Inside a fold the
  training months are split again: the candidates are fitted on all but the last
  training month and scored on that month; the best (mean PAI over the coverages) is
  refitted on all training months. The test months are never seen.
* **Scored by the area it really selects.** Each common cell takes the score of the
  method's cell, area or hotspot holding it (:meth:`HotspotLayer.cell_scores`); cells
  are taken best first (equal scores in seeded random order, so a coarse cell is
  taken piecewise) until their area reaches ``coverage`` of the region.
* **Rolling origins.** :func:`rolling_folds` slides the train and test windows one
  month at a time; every measure is reported per fold and as mean and standard
  deviation over the folds.
* **The naive baseline on the same unit:** ``naive-previous`` ranks common cells by
  their count in the training months.

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
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.filters import filter_incidents, month_start
from geo_ssgp.hotspots import (
    METHODS,
    pack_segments,
    prepare_incidents,
    resolve_method,
    run_method,
)
from geo_ssgp.hotspots.grid import Grid, grid_count, make_grid, select_top_cells, study_region
from geo_ssgp.hotspots.layer import HotspotLayer
from geo_ssgp.hotspots.segments import segments_in_region
from geo_ssgp.pack import AreaPack, has_streets
from geo_ssgp.streets import segment_counts

#: Coverages (share of the region) reported by default.
DEFAULT_COVERAGES = (0.01, 0.03, 0.05)
#: Common evaluation grid cell size in metres.
DEFAULT_EVAL_CELL_M = 50.0
#: Finest evaluation unit: the precision of police.uk's anonymised map points.
MIN_EVAL_CELL_M = 50.0
#: Evaluation units of :func:`backtest`.
UNITS = ("grid", "street")

#: Name of the previous-period baseline in every report.
BASELINE = "naive-previous"
#: Candidate settings per method, tuned on training months (first = fallback).
CANDIDATES: dict[str, tuple[dict, ...]] = {
    "grid-count": (
        {"cell_size": 50.0},
        {"cell_size": 100.0},
        {"cell_size": 50.0, "half_life": 2.0},
    ),
    "kde": tuple({"cell_size": 50.0, "bandwidth": b} for b in (100.0, 200.0, 400.0)),
    "gistar": ({"cell_size": 50.0}, {"cell_size": 100.0}),
}
#: Measures averaged over folds.
MEASURES = ("pai", "pei", "rri", "hit_rate", "area_share")


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


@dataclass(frozen=True)
class Fold:
    """One rolling-origin fold: inclusive ``("YYYY-MM", "YYYY-MM")`` train and test windows."""

    train: tuple[str, str]
    test: tuple[str, str]

    def describe(self) -> dict:
        """The windows as JSON-safe lists."""
        return {"train": list(self.train), "test": list(self.test)}


def _shift(month: str, months: int) -> str:
    """``"YYYY-MM"`` moved by a number of months."""
    return (month_start(month).to_period("M") + months).strftime("%Y-%m")


def rolling_folds(
    train: tuple[str, str], test: tuple[str, str], folds: int = 1, step: int = 1
) -> list[Fold]:
    """Rolling-origin folds: the given split, then both windows slid forward.

    Parameters
    ----------
    train, test : tuple of str
        First fold's ``("YYYY-MM", "YYYY-MM")`` windows; the test window must start
        after the training window ends.
    folds : int
        Number of folds (>= 1).
    step : int
        Months between fold origins.

    Returns
    -------
    list of Fold
    """
    if folds < 1 or step < 1:
        raise BadInput(f"folds and step must be at least 1, not {folds}, {step}", param="folds")
    first, last = (month_start(m) for m in train), (month_start(m) for m in test)
    (a, b), (c, d) = first, last
    if not a <= b < c <= d:
        raise BadInput(
            f"windows must run train {train[0]}..{train[1]} then test {test[0]}..{test[1]} "
            "in order, without overlap",
            param="test_from",
        )
    return [
        Fold(tuple(_shift(m, i * step) for m in train), tuple(_shift(m, i * step) for m in test))
        for i in range(folds)
    ]


def check_folds(folds: list[Fold], incidents: gpd.GeoDataFrame) -> None:
    """Raise :class:`BadInput` when a fold's months lie outside the incidents' months."""
    months = pd.to_datetime(incidents["month"]).dt.strftime("%Y-%m")
    if months.empty:
        raise NotEnoughData("no incidents to backtest")
    first, last = months.min(), months.max()
    for i, fold in enumerate(folds):
        if fold.train[0] < first or fold.test[1] > last:
            raise BadInput(
                f"fold {i + 1} needs {fold.train[0]}..{fold.test[1]} but the incidents run "
                f"{first}..{last}: at most {i} fold(s) fit",
                param="folds",
            )


def _accepted(func) -> set[str]:
    return set(inspect.signature(func).parameters)


def _fit(name: str, points: gpd.GeoDataFrame, pack, context: dict, params: dict, seed: int):
    """One method's layer on training points (no labels, seeded; Gi* without permutations)."""
    params = dict(params)
    if "seed" in _accepted(METHODS[name].func):
        params.setdefault("seed", seed)
    if name == "gistar":
        params.setdefault("permutations", 0)  # ranking uses z-scores, not p_sim
    return run_method(name, points, pack, label=False, **context, **params)


@dataclass(frozen=True)
class EvalUnit:
    """What a backtest ranks, selects and scores: common grid cells or street segments.

    Attributes
    ----------
    kind : {"grid", "street"}
    features : geopandas.GeoDataFrame
        Grid cells (polygons), or segment midpoints with ``segment_id``.
    size : numpy.ndarray
        Each feature's area in m² (cells clipped to the region) or length in m.
    total : float
        Region area (m²) or street length (m): the coverage's denominator.
    grid : Grid or None
        The grid (grid unit), for counting incidents.
    segments : geopandas.GeoDataFrame or None
        The street segments (street unit), for snapping incidents.
    """

    kind: str
    features: gpd.GeoDataFrame
    size: np.ndarray
    total: float
    grid: Grid | None = None
    segments: gpd.GeoDataFrame | None = None

    def count(self, points: gpd.GeoDataFrame) -> np.ndarray:
        """Incidents per feature (street: snapped to the nearest segment within 30 m)."""
        if self.grid is not None:
            return grid_count(self.grid, points).to_numpy()
        return segment_counts(points, self.segments)["n_incidents"].to_numpy()


def grid_unit(grid: Grid) -> EvalUnit:
    """Common grid cells as an evaluation unit (coverage = share of the region's area)."""
    size = grid.cells["area_m2"].to_numpy()
    return EvalUnit("grid", grid.cells, size, grid.region_area_m2, grid=grid)


def street_unit(segments: gpd.GeoDataFrame) -> EvalUnit:
    """Street segments as an evaluation unit (coverage = share of the street length).

    Each segment is represented by its midpoint: a method's surface or hotspot covering
    the midpoint selects the segment.
    """
    middle = shapely.line_interpolate_point(segments.geometry.values, 0.5, normalized=True)
    features = gpd.GeoDataFrame(
        {"segment_id": segments["segment_id"].to_numpy()}, geometry=middle, crs=segments.crs
    )
    length = segments["length_m"].to_numpy(dtype=float)
    return EvalUnit("street", features, length, float(length.sum()), segments=segments)


def _unit_scores(layer, unit: EvalUnit, rank_by: str) -> np.ndarray:
    """A layer's scores on the unit (surface, or hotspot rank 1 first)."""
    source = layer.surface if rank_by == "surface" else layer.hotspots
    if unit.kind == "street" and source is not None and "segment_id" in source:
        score = source["score"] if rank_by == "surface" else -source["rank"].astype(float)
        by_id = pd.Series(score.to_numpy(dtype=float), index=source["segment_id"])
        return by_id.reindex(unit.features["segment_id"]).to_numpy(dtype=float)
    if rank_by == "surface":
        return layer.cell_scores(unit.features).to_numpy(dtype=float)
    ranked = layer.hotspots.assign(score=-layer.hotspots["rank"].astype(float))
    hot = HotspotLayer(layer.method, ranked, layer.parameters, None)
    return hot.cell_scores(unit.features).to_numpy(dtype=float)


def score_selection(
    score: np.ndarray,
    unit: EvalUnit | Grid,
    test_counts: np.ndarray,
    train_counts: np.ndarray,
    coverages: tuple[float, ...],
    seed: int = 0,
) -> dict:
    """Measures of the best-scoring cells or segments at each coverage.

    Parameters
    ----------
    score : numpy.ndarray
        Score per cell or segment (NaN = never selected).
    unit : EvalUnit or Grid
        The evaluation unit (a grid is taken as :func:`grid_unit`).
    test_counts, train_counts : numpy.ndarray
        Incidents per cell or segment in the test and training months.
    coverages : tuple of float
        Shares of the region's area (grid) or street length (street).
    seed : int
        Order among equal scores.

    Returns
    -------
    dict
        ``{coverage: selection_metrics(...)}``; ``area_share`` is the share of street
        length on the street unit.
    """
    unit = grid_unit(unit) if isinstance(unit, Grid) else unit
    out = {}
    for cov in coverages:
        sel = select_top_cells(score, unit.size, cov, unit.total, seed)
        out[cov] = selection_metrics(sel, unit.size, test_counts, train_counts, unit.total)
    return out


def _mean_pai(scored: dict) -> float:
    return float(np.mean([m["pai"] or 0.0 for m in scored.values()]))


def tune_method(
    name: str,
    train: gpd.GeoDataFrame,
    pack: AreaPack | None,
    unit: EvalUnit | Grid,
    coverages: tuple[float, ...] = DEFAULT_COVERAGES,
    *,
    context: dict | None = None,
    rank_by: str = "surface",
    seed: int = 0,
) -> dict:
    """A method's best candidate settings, chosen on the training months alone.

    The candidates of :data:`CANDIDATES` are fitted on all training months but the
    last and scored (mean PAI over ``coverages``, on the unit) on the last one.

    Parameters
    ----------
    name : str
        Registry name.
    train : geopandas.GeoDataFrame
        Training incidents (``month`` column), EPSG:27700.
    pack, coverages, context, rank_by, seed
        As in :func:`backtest`.
    unit : EvalUnit or Grid
        The evaluation unit (:func:`grid_unit`, :func:`street_unit`).

    Returns
    -------
    dict
        The chosen settings (``{}`` for methods without candidates).
    """
    candidates = CANDIDATES.get(name, ({},))
    months = pd.to_datetime(train["month"]).dt.to_period("M")
    if len(candidates) == 1 or months.nunique() < 2:
        return dict(candidates[0])
    last = (months == months.max()).to_numpy()
    inner, valid = train[~last], train[last]
    unit = grid_unit(unit) if isinstance(unit, Grid) else unit
    valid_counts = unit.count(valid)
    inner_counts = unit.count(inner)
    best, best_pai = candidates[0], -1.0
    for params in candidates:
        layer = _fit(name, inner, pack, context or {}, params, seed)
        score = _unit_scores(layer, unit, rank_by)
        pai = _mean_pai(score_selection(score, unit, valid_counts, inner_counts, coverages, seed))
        if pai > best_pai:
            best, best_pai = params, pai
    return dict(best)


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
    segments: gpd.GeoDataFrame | None = None,
    method_params: dict[str, dict] | None = None,
    tune: bool = True,
    unit: str = "grid",
) -> dict:
    """Predictive accuracy of hotspot methods on one fold, train months -> test months.

    Parameters
    ----------
    train, test : geopandas.GeoDataFrame
        Incidents of the two windows, EPSG:27700 (``status != "ok"`` rows dropped).
    pack : AreaPack, optional
        Supplies the region, LSOAs and population (or pass ``region``/``areas``).
    methods : sequence of str, optional
        Method names as the user wrote them (``"default"`` allowed); the result is
        keyed by these names. Default: every method of :data:`METHODS` (the street
        method only when street segments are available).
    coverages : tuple of float
        Shares of the region's area (grid unit) or street length (street unit) to select.
    cell_size : float
        Common evaluation grid cell size in metres (at least :data:`MIN_EVAL_CELL_M`).
    rank_by : {"surface", "hotspots"}
        Rank cells by the method's per-cell or per-area score (``"surface"``), or by
        the rank of the hotspot polygon holding them (``"hotspots"``: only hotspot
        cells can be selected).
    seed : int
        Seed for methods and for random order among equal scores.
    region, areas, population, segments
        Overrides passed to :func:`~geo_ssgp.hotspots.run_method` (``segments``: street
        segments for the street method and the street unit; default the pack's).
    method_params : dict, optional
        Fixed settings per registry name, e.g. ``{"kde": {"bandwidth": 300}}``; a
        method given settings is not tuned.
    tune : bool
        Choose each method's settings on the training months (:func:`tune_method`);
        ``False`` runs every method at its own defaults.
    unit : {"grid", "street"}
        ``"grid"``: common ``cell_size`` cells, coverage = share of the region's area.
        ``"street"``: street segments weighted by length, coverage = share of the
        street length; a method selects a segment when its surface or hotspot covers
        the segment's midpoint (the street method selects segments directly), and PAI
        = hit rate / share of street length.

    Returns
    -------
    dict
        ``{name: {"method", "params", "coverage": {cov: measures}}}`` with the
        measures of :func:`selection_metrics`, including ``"naive-previous"`` (grid:
        training count per cell; street: training count per km of segment).

    Raises
    ------
    PackError
        On the street unit, or for the street method asked by name, without segments
        (no ``segments`` and no pack with a ``[streets]`` layer).
    """
    if rank_by not in {"surface", "hotspots"}:
        raise BadInput(f"rank_by must be 'surface' or 'hotspots', not {rank_by!r}", param="rank_by")
    if not cell_size >= MIN_EVAL_CELL_M:
        raise BadInput(
            f"cell_size must be at least {MIN_EVAL_CELL_M:g} m: police.uk locations are "
            "anonymised map points, not addresses",
            param="cell_size",
        )
    if unit not in UNITS:
        raise BadInput(f"unit must be one of {UNITS}, not {unit!r}", param="unit")
    train_pts, _ = prepare_incidents(train)
    test_pts, _ = prepare_incidents(test)
    if region is None:
        if pack is None:
            raise ValueError("backtest needs a pack or a region")
        region = study_region(pack)
    runnable = segments is not None or _has_segments(pack)
    names = {m: resolve_method(m) for m in (methods or _runnable(runnable))}
    if unit == "street" or any(METHODS[n].unit == "streets" for n in names.values()):
        segments = segments_in_region(
            pack_segments(pack) if segments is None else segments, region
        )
    where = _make_unit(unit, region, segments, cell_size)
    test_counts, train_counts = where.count(test_pts), where.count(train_pts)
    context = {"region": region, "areas": areas, "population": population, "segments": segments}
    fixed = method_params or {}
    # grid: training count per cell; street: per metre of segment (length-weighted view)
    naive = train_counts / where.size if unit == "street" else train_counts.astype(float)
    result = {
        BASELINE: {
            "method": BASELINE,
            "params": {"unit": unit, "cell_size": float(cell_size) if unit == "grid" else None},
            "coverage": score_selection(
                naive, where, test_counts, train_counts, coverages, seed
            ),
        }
    }
    for asked, name in names.items():
        if name in fixed or not tune:
            params = dict(fixed.get(name, {}))
        else:
            params = tune_method(
                name, train_pts, pack, where, coverages, context=context, rank_by=rank_by, seed=seed
            )
        layer = _fit(name, train_pts, pack, context, params, seed)
        score = _unit_scores(layer, where, rank_by)
        result[asked] = {
            "method": name,
            "params": params,
            "coverage": score_selection(score, where, test_counts, train_counts, coverages, seed),
        }
    return result


def _has_segments(pack: AreaPack | None) -> bool:
    return pack is not None and has_streets(pack)


def _runnable(with_streets: bool) -> list[str]:
    """Every registered method, the street methods only when there are segments."""
    return [k for k, m in METHODS.items() if m.unit != "streets" or with_streets]


def _make_unit(
    unit: str, region: gpd.GeoDataFrame, segments: gpd.GeoDataFrame | None, cell_size: float
) -> EvalUnit:
    if unit == "street":
        return street_unit(segments)
    return grid_unit(make_grid(region, cell_size=cell_size))


def _summary(per_fold: list[dict]) -> dict:
    """Mean and standard deviation (ddof 1; 0 for one fold) of each measure over folds."""
    out: dict = {"folds": len(per_fold)}
    for measure in MEASURES:
        values = np.array([m[measure] for m in per_fold if m[measure] is not None], dtype=float)
        out[measure] = float(values.mean()) if len(values) else None
        out[f"{measure}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return out


def rolling_backtest(
    incidents: gpd.GeoDataFrame,
    folds: list[Fold],
    pack: AreaPack | None = None,
    methods: list[str] | tuple[str, ...] | None = None,
    coverages: tuple[float, ...] = DEFAULT_COVERAGES,
    **options,
) -> dict:
    """The backtest over rolling-origin folds, with mean and spread.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        All incidents (``month`` column), EPSG:27700.
    folds : list of Fold
        From :func:`rolling_folds`; each must lie within the incidents' months.
    pack, methods, coverages
        As in :func:`backtest`.
    **options
        Passed to :func:`backtest` (``cell_size``, ``rank_by``, ``seed``, ...).

    Returns
    -------
    dict
        ``{name: {"method", "coverage": {cov: {"folds", "pai", "pai_sd", "pei",
        "pei_sd", "rri", "rri_sd", "hit_rate", "hit_rate_sd", "area_share",
        "area_share_sd"}}, "folds": [{"train", "test", "params", "coverage"}]}}``;
        names as requested, plus ``"naive-previous"``.
    """
    check_folds(folds, incidents)
    runs = []
    for fold in folds:
        train, test = split_periods(incidents, fold.train, fold.test)
        runs.append((fold, backtest(train, test, pack, methods, coverages, **options)))
    out = {}
    for name, first in runs[0][1].items():
        per_fold = [
            {**fold.describe(), "params": res[name]["params"], "coverage": res[name]["coverage"]}
            for fold, res in runs
        ]
        summary = {cov: _summary([f["coverage"][cov] for f in per_fold]) for cov in coverages}
        out[name] = {"method": first["method"], "coverage": summary, "folds": per_fold}
    return out


#: Coverages the analyst map reports.
ACCURACY_COVERAGES = (0.01, 0.05)


def layer_accuracy(
    incidents: gpd.GeoDataFrame,
    pack: AreaPack | None = None,
    method: str = "default",
    *,
    end: str | None = None,
    train_months: int = 6,
    folds: int = 3,
    cell_size: float = DEFAULT_EVAL_CELL_M,
    **options,
) -> dict:
    """How well a layer predicted the last months, in figures and in plain words.

    The rolling backtest of one method over the ``folds`` months up to ``end`` (default:
    the last month of the data), each predicted from the ``train_months`` before it, on
    the common ``cell_size`` grid, beside the naive count on the same cells.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents already filtered by crime type / source (any period).
    pack : AreaPack, optional
    method : str
        Method name (``"default"`` allowed).
    end : str, optional
        Last test month ``"YYYY-MM"``.
    train_months, folds, cell_size
        Fold shape and evaluation unit.
    **options
        Passed to :func:`rolling_backtest` (``region``, ...).

    Returns
    -------
    dict
        ``method``, ``folds`` (list of windows), ``coverage`` (``{cov: {"pai",
        "pai_sd", "pei", "baseline_pai"}}``) and ``text`` (one paragraph), or only
        ``text`` when the data are too short.
    """
    months = pd.to_datetime(incidents["month"]).dt.strftime("%Y-%m")
    if months.empty:
        return {"method": resolve_method(method), "text": "No incidents to test this layer on."}
    last = end or months.max()
    first_test = _shift(last, 1 - folds)
    start = _shift(first_test, -train_months)
    if start < months.min():
        return {
            "method": resolve_method(method),
            "text": f"Not enough months to test this layer: it needs {train_months + folds} "
            f"months up to {last}, the data start in {months.min()}.",
        }
    windows = rolling_folds(
        (start, _shift(first_test, -1)), (first_test, first_test), folds=folds
    )
    result = rolling_backtest(
        incidents, windows, pack, [method], ACCURACY_COVERAGES, cell_size=cell_size, **options
    )
    ours, naive = result[method]["coverage"], result[BASELINE]["coverage"]
    coverage = {
        cov: {
            "pai": ours[cov]["pai"],
            "pai_sd": ours[cov]["pai_sd"],
            "pei": ours[cov]["pei"],
            "baseline_pai": naive[cov]["pai"],
        }
        for cov in ACCURACY_COVERAGES
    }
    return {
        "method": result[method]["method"],
        "folds": [w.describe() for w in windows],
        "coverage": coverage,
        "text": accuracy_text(coverage, windows, train_months, cell_size),
    }


def accuracy_text(coverage: dict, windows: list[Fold], train_months: int, cell_size: float) -> str:
    """One plain-words paragraph of :func:`layer_accuracy`'s figures."""
    one, five = coverage[0.01], coverage[0.05]

    def num(value) -> str:
        return "n/a" if value is None else f"{value:.0f}"

    return (
        f"Tested on {windows[0].test[0]}..{windows[-1].test[1]}, each month predicted from the "
        f"{train_months} months before it: the busiest 1% of the area this layer marks held "
        f"{num(one['pai'])} times its share of the next month's incidents (PAI "
        f"{num(one['pai'])} ± {num(one['pai_sd'])}; 5% of the area: {num(five['pai'])}). "
        f"Simply counting the previous months on {cell_size:g} m cells scores "
        f"{num(one['baseline_pai'])} and {num(five['baseline_pai'])}. At 1% the layer caught "
        f"{(one['pei'] or 0):.0%} of what the best possible choice of the same area would have "
        "(PEI)."
    )


def backtest_table(result: dict) -> pd.DataFrame:
    """A backtest result as a long table (one row per method and coverage).

    Parameters
    ----------
    result : dict
        Output of :func:`backtest` or :func:`rolling_backtest`.

    Returns
    -------
    pandas.DataFrame
        ``method`` (as requested), ``coverage`` and the measures (with ``*_sd`` and
        ``folds`` for a rolling backtest).
    """
    rows = [
        {"method": name, "coverage": cov, **metrics}
        for name, entry in result.items()
        for cov, metrics in entry["coverage"].items()
    ]
    return pd.DataFrame(rows)


__all__ = [
    "BASELINE",
    "CANDIDATES",
    "DEFAULT_COVERAGES",
    "DEFAULT_EVAL_CELL_M",
    "Fold",
    "backtest",
    "backtest_table",
    "check_folds",
    "layer_accuracy",
    "max_capture",
    "rolling_backtest",
    "rolling_folds",
    "score_selection",
    "selection_metrics",
    "split_periods",
    "tune_method",
]
