"""Can any predictor beat counting the training months on 50 m cells?

Run: ``.venv/bin/python benchmarks/bench_hotspots_default.py`` (about two minutes on 2
cores). Issue #8 asks the default layer to beat the naive previous-period count; the
default (50 m counts) ties it. This script tries the prospective-hotspot predictors of
the literature on the same common 50 m grid and the same rolling folds as
``geo-ssgp evaluate``, each choosing its own setting **on training months only** (the
last three training months, each predicted from the training months before it; the
setting with the best mean PAI over 1 / 3 / 5 % wins), then scored on the test month:

* ``naive``: incidents per cell in the training months (the baseline and the default);
* ``recency``: months weighted ``0.5 ** (months back / half-life)``, half-life 1-12
  (``grid-count --half-life``, :func:`geo_ssgp.hotspots.count.recency_weights`);
* ``neighbours``: count + w x the 8 neighbouring cells' counts, w 0.02-0.5 (a 3 x 3
  kernel; Bowers, Johnson & Pease's near-repeat spread at the smallest scale);
* ``persistence``: count + w x months with at least one incident (chronic places);
* ``sqrt-months``: the sum of the square roots of the monthly counts (one busy month
  weighs less than the same count spread over months);
* ``capped``: monthly counts capped at c (a burst counts at most c a month);
* ``long-run blend`` (street CSVs only): training mean per month + w x the mean per
  month over the radius export's months *before* the training window (2023-01..2024-12,
  central Gloucester only), so no month is counted twice;
* on the 33-month radius export: longer training windows (12, 24 months, all months
  before) with and without recency weighting, against naive counts of the last 6.

For each predictor: PAI at 1 % and 5 %, mean (sd) over folds, and the paired
difference from ``naive`` on the same folds, mean (sd) and folds won. Street segments
mapped back to cells are in the README (34.5 at 1 %, far behind; ``evaluate``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from geo_ssgp.filters import filter_incidents
from geo_ssgp.hotspots.count import recency_weights
from geo_ssgp.hotspots.evaluate import selection_metrics
from geo_ssgp.hotspots.grid import (
    grid_adjacency,
    grid_count,
    make_grid,
    select_top_cells,
    study_region,
)
from geo_ssgp.pack import load_pack
from geo_ssgp.pipeline import read_and_geocode

warnings.simplefilter("ignore", DeprecationWarning)
warnings.simplefilter("ignore", FutureWarning)

COVERAGES = (0.01, 0.03, 0.05)
INNER_FOLDS = 3


class Cells:
    """The common 50 m grid, monthly counts on it, and PAI of a cell ranking."""

    def __init__(self, pack):
        self.grid = make_grid(study_region(pack), cell_size=50)
        self.area = self.grid.cells["area_m2"].to_numpy()
        self.queen = grid_adjacency(self.grid, "queen")

    def monthly(self, points) -> tuple[list[str], np.ndarray]:
        """Months ``YYYY-MM`` and a ``(months, cells)`` array of counts."""
        month = pd.to_datetime(points["month"]).dt.strftime("%Y-%m").to_numpy()
        names = sorted(set(month))
        counts = [grid_count(self.grid, points[month == m]).to_numpy() for m in names]
        return names, np.stack(counts).astype(float)

    def pai(self, score: np.ndarray, test: np.ndarray, train: np.ndarray) -> list[float]:
        """PAI at each coverage (ties in seeded random order, as ``evaluate``)."""
        out = []
        for cov in COVERAGES:
            sel = select_top_cells(score, self.area, cov, self.grid.region_area_m2, 0)
            m = selection_metrics(sel, self.area, test, train, self.grid.region_area_m2)
            out.append(m["pai"])
        return out


def predictors(cells: Cells, history: np.ndarray | None) -> dict[str, tuple[Callable, list]]:
    """Each predictor ``f(train_counts, setting) -> cell score`` and its settings."""

    def naive(c, _):
        return c.sum(0)

    def recency(c, half_life):
        dates = pd.Series(pd.period_range(end="2000-12", periods=len(c), freq="M").to_timestamp())
        return recency_weights(dates, half_life) @ c

    def neighbours(c, w):
        total = c.sum(0)
        return total + w * (cells.queen @ total)

    def persistence(c, w):
        return c.sum(0) + w * (c > 0).sum(0)

    def sqrt_months(c, _):
        return np.sqrt(c).sum(0)

    def capped(c, cap):
        return np.minimum(c, cap).sum(0)

    out = {
        "naive": (naive, [None]),
        "recency": (recency, [1.0, 2.0, 3.0, 6.0, 12.0]),
        "neighbours": (neighbours, [0.02, 0.05, 0.1, 0.2, 0.5]),
        "persistence": (persistence, [0.5, 1.0, 2.0, 4.0]),
        "sqrt-months": (sqrt_months, [None]),
        "capped": (capped, [2.0, 3.0, 5.0, 10.0]),
    }
    if history is not None:
        long_run = history.mean(0)

        def blend(c, w):
            return c.mean(0) + w * long_run

        out["long-run blend"] = (blend, [0.25, 0.5, 1.0, 2.0])
    return out


def choose(cells: Cells, func, settings: list, train: np.ndarray):
    """The setting with the best mean PAI on the last training months (inner folds)."""
    if len(settings) == 1:
        return settings[0]
    best, best_pai = settings[0], -1.0
    for setting in settings:
        pai = np.mean(
            [
                np.mean(cells.pai(func(train[:t], setting), train[t], train[:t].sum(0)))
                for t in range(len(train) - INNER_FOLDS, len(train))
            ]
        )
        if pai > best_pai:
            best, best_pai = setting, pai
    return best


def report(label: str, rows: dict[str, list], chosen: dict[str, list]) -> None:
    """PAI mean (sd) at 1 % and 5 %, and the paired difference from naive."""
    naive = np.array(rows["naive"])
    print(f"\n{label}")
    print(f"  {'predictor':27s} {'PAI 1%':>13s} {'PAI 5%':>13s}  {'1% minus naive':>15s} won"
          "   settings chosen")
    for name, values in rows.items():
        a = np.array(values)
        d = a[:, 0] - naive[:, 0]
        sd = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1])
        dsd = d.std(ddof=1) if len(d) > 1 else 0.0
        picks = ",".join("-" if c is None else f"{c:g}" for c in chosen[name])
        print(
            f"  {name:27s} {a[:, 0].mean():6.1f} ({sd[0]:4.1f})"
            f" {a[:, 2].mean():6.1f} ({sd[2]:4.1f})"
            f"  {d.mean():+6.2f} ({dsd:4.2f}) {int((d > 1e-9).sum()):2d}/{len(d)}  {picks}"
        )


def run_folds(cells, months, counts, origins, train_len, test_len, preds, label) -> None:
    """Rolling folds: train ``train_len`` months before each origin, test ``test_len``."""
    rows = {k: [] for k in preds}
    chosen = {k: [] for k in preds}
    for o in origins:
        train = counts[o - train_len : o]
        test = counts[o : o + test_len].sum(0)
        for name, (func, settings) in preds.items():
            setting = choose(cells, func, settings, train)
            chosen[name].append(setting)
            rows[name].append(cells.pai(func(train, setting), test, train.sum(0)))
    tests = f"{months[origins[0]]}..{months[origins[-1] + test_len - 1]}"
    report(f"{label}: train {train_len} -> test {test_len} month(s), {len(origins)} folds "
           f"(tests {tests})", rows, chosen)


def run_windows(cells, months, counts, origins, windows, label) -> None:
    """Longer training windows (with recency chosen on them) against naive 6 months."""
    preds = predictors(cells, None)
    rows: dict[str, list] = {"naive": []}  # counts of the last 6 months
    chosen: dict[str, list] = {"naive": []}
    for o in origins:
        test, last6 = counts[o], counts[o - 6 : o]
        rows["naive"].append(cells.pai(last6.sum(0), test, last6.sum(0)))
        chosen["naive"].append(None)
        for w in windows:
            train = counts[max(0, o - w) : o]
            span = "all months before" if w >= len(counts) else f"last {w} months"
            for name in ("naive", "recency"):
                key = f"{name} ({span})"
                func, settings = preds[name]
                setting = choose(cells, func, settings, train)
                rows.setdefault(key, []).append(cells.pai(func(train, setting), test, train.sum(0)))
                chosen.setdefault(key, []).append(setting)
    report(f"{label} (naive = counts of the last 6 months)", rows, chosen)


def main() -> None:
    pack = load_pack()
    cells = Cells(pack)
    _, geo = read_and_geocode(pack.sample_files(), pack)
    street = geo[geo["status"] == "ok"]
    radius_dir = pack.data_dir / "incidents" / "police-uk-api-radius"
    _, api = read_and_geocode(sorted(radius_dir.glob("*.csv")), pack)
    api = api[api["status"] == "ok"]
    print(f"street CSVs {len(street):,} incidents; radius export {len(api):,} in the district")

    months, counts = cells.monthly(street)
    _, history = cells.monthly(filter_incidents(api, start="2023-01", end="2024-12"))
    preds = predictors(cells, history)
    run_folds(cells, months, counts, [6, 7, 8], 6, 1, preds, "street CSVs")
    run_folds(cells, months, counts, [6], 6, 3, preds, "street CSVs, next quarter")

    months, counts = cells.monthly(api)
    preds = predictors(cells, None)
    run_folds(cells, months, counts, list(range(6, 33, 3)), 6, 1, preds, "radius export")
    run_windows(cells, months, counts, list(range(12, 33)), (12, 33),
                "radius export, longer training windows")
    run_windows(cells, months, counts, list(range(24, 33)), (24,),
                "radius export, 24-month window")
    print("\n(radius export: its points cover ~3% of the district, so at 3-5% every ranking that"
          " holds the centre captures almost all test incidents: compare at 1%)")


if __name__ == "__main__":
    main()
