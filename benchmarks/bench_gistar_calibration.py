"""Calibration of Gi* p-values on pure noise: why ``p_value="exact"`` is the default.

Run: ``.venv/bin/python benchmarks/bench_gistar_calibration.py [runs]`` (default 200 runs,
about a minute on 2 cores).

Each run puts 2,000 seeded uniform random points over a 5 x 5 km box (50 x 50 cells of
100 m, queen neighbours) and counts the runs in which Gi* finds at least one hot cell at
Benjamini-Hochberg adjusted p < 0.05. There is nothing to find, so a calibrated p-value
flags about 5 % of runs or fewer (the nominal false-discovery rate; under pure noise
every discovery is false). The normal approximation of the z-score (``"norm"``, as
sfhotspot and spdep ``localG``) is the baseline, measured in the same run on the same
points as the exact total-randomisation p-value (``"exact"``) the package uses.

The test suite keeps one seeded run of this comparison
(``tests/hotspots/test_gistar.py``); this script prints the rate behind the claim in
``geo_ssgp/hotspots/gistar.py``.
"""

from __future__ import annotations

import sys
import time

import geopandas as gpd
import numpy as np
import shapely

from geo_ssgp.hotspots.gistar import gistar_grid_hotspots

X0, Y0, SIDE, N_POINTS = 300000.0, 200000.0, 5000.0, 2000
ALPHA = 0.05
KINDS = ("norm", "exact")


def noise(seed: int) -> gpd.GeoDataFrame:
    """``N_POINTS`` seeded uniform points over the box, in one month."""
    xy = np.random.default_rng(seed).uniform(0, SIDE, (N_POINTS, 2)) + [X0, Y0]
    return gpd.GeoDataFrame(
        {"month": np.full(N_POINTS, np.datetime64("2025-01-01"))},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    )


def main(runs: int) -> None:
    box = gpd.GeoDataFrame(
        {"code": ["BOX"], "name": ["Box"]},
        geometry=[shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE)],
        crs="EPSG:27700",
    )
    flagged = dict.fromkeys(KINDS, 0)
    classed = dict.fromkeys(KINDS, 0)
    cells = dict.fromkeys(KINDS, 0)
    seconds = dict.fromkeys(KINDS, 0.0)
    for seed in range(runs):
        points = noise(seed)
        for kind in KINDS:
            t = time.perf_counter()
            surface = gistar_grid_hotspots(points, box, permutations=0, p_value=kind).surface
            seconds[kind] += time.perf_counter() - t
            hot = int(((surface["z"] > 0) & (surface["p_adj"] < ALPHA)).sum())
            flagged[kind] += hot > 0
            classed[kind] += bool(surface["hot_cold"].str.startswith("hot").any())
            cells[kind] += hot
    print(
        f"{runs} runs of {N_POINTS:,} uniform points, 50 x 50 cells of 100 m, queen neighbours,"
        f" BH-adjusted p < {ALPHA}"
    )
    print(f"nominal: at most {ALPHA:.0%} of runs ({ALPHA * runs:.1f}) with any hot cell")
    print(
        f"{'p-value':8s} {'runs, hot cell p_adj<0.05':>26s} {'hot cells':>10s}"
        f" {'runs, any hot class':>20s} {'s per run':>10s}"
    )
    for kind in KINDS:
        label = "baseline" if kind == "norm" else "default"
        print(
            f"{kind:8s} {flagged[kind]:13d} ({flagged[kind] / runs:6.1%})"
            f" {cells[kind]:15d} {classed[kind]:11d} ({classed[kind] / runs:6.1%})"
            f" {seconds[kind] / runs:9.3f}  {label}"
        )
    print("(any hot class: hot 90 % or above, adjusted p < 0.10)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
