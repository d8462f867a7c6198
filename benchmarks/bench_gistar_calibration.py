"""Calibration of significance on pure noise inside the real district.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_gistar_calibration.py [runs]``
(default 200 runs per configuration, a few minutes on one core).

Each run puts seeded uniform random points inside the Gloucester district (the pack's
study region, with its clipped edge cells) and counts the runs in which a test finds
*any* significant cell, hot or cold, at Benjamini-Hochberg adjusted p < 0.05. There is
nothing to find, so a calibrated test flags at most about 5 % of runs. Configurations:
50 m and 100 m cells, 14,000 (dense) and 1,500 (sparse) points. Tests, measured on the
same points in the same run:

* ``gistar-exact``: Gi* with the total-randomisation p-value of the window count (the
  previous default; baseline);
* ``gistar-poisson``: Gi* with the area-weighted Poisson window p-value (the default);
* ``exceedance``: the per-place test of :mod:`geo_ssgp.hotspots.significance`.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from geo_ssgp.config import get_settings
from geo_ssgp.hotspots.gistar import adjust_pvalues, exact_pvalues, poisson_window_pvalues
from geo_ssgp.hotspots.grid import grid_count, grid_weights, make_grid, study_region
from geo_ssgp.hotspots.significance import cell_exceedance, uniform_points
from geo_ssgp.pack import load_pack

ALPHA = 0.05
TESTS = ("gistar-exact", "gistar-poisson", "exceedance")


def flags(grid, w, area, points) -> dict[str, bool]:
    """Whether each test finds any significant cell in one set of points."""
    counts = grid_count(grid, points).to_numpy()
    p = {
        "gistar-exact": exact_pvalues(counts, w)[0],
        "gistar-poisson": poisson_window_pvalues(counts, w, area)[0],
    }
    out = {name: bool((adjust_pvalues(v) < ALPHA).any()) for name, v in p.items()}
    out["exceedance"] = bool((cell_exceedance(grid, points)["p_adjusted"] < ALPHA).any())
    return out


def main(runs: int) -> None:
    region = study_region(load_pack(get_settings()))
    print(f"{runs} runs per row of uniform points in the district; share of runs with any")
    print(f"cell at BH-adjusted p < {ALPHA} (hot or cold); nominal at most {ALPHA:.0%}")
    print(f"{'cell':>5s} {'points':>7s} " + " ".join(f"{t:>15s}" for t in TESTS) + "  s/run")
    for cell_size in (50.0, 100.0):
        grid = make_grid(region, cell_size=cell_size)
        w, area = grid_weights(grid), grid.cells["area_m2"].to_numpy()
        for n_points in (14_000, 1_500):
            hits = dict.fromkeys(TESTS, 0)
            start = time.perf_counter()
            for seed in range(runs):
                points = uniform_points(region, n_points, seed)
                for name, hit in flags(grid, w, area, points).items():
                    hits[name] += hit
            per_run = (time.perf_counter() - start) / runs
            shares = " ".join(f"{hits[t] / runs:15.1%}" for t in TESTS)
            print(f"{cell_size:5.0f} {n_points:7,d} {shares}  {per_run:.2f}")
    print("clipped cells:", int(np.sum(area < grid.cells["full_area_m2"].to_numpy() - 1e-6)),
          f"of {len(area)} at 100 m")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
