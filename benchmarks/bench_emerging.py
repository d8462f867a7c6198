"""Emerging hotspot analysis speed: 33 months of central Gloucester on 100 m cells.

Measured in one run, beside its baseline:

* **geo_ssgp**: :func:`geo_ssgp.hotspots.cube.build_cube` then
  :func:`geo_ssgp.hotspots.emerging.emerging_hotspots` (one ``esda.G_Local`` over every
  place x month bin with ``libpysal.graph.Graph`` space-time weights, exact p-values, BH,
  pre-whitened Mann-Kendall per place, categories). Target: under 5 s on 2 cores.
* **direct loop** (baseline): what a first script does: for each month a ``libpysal.W`` of
  the space-time window (this month and the one before), ``esda.G_Local`` with
  ``--permutations`` conditional permutations, then ``pymannkendall.original_test`` per place.

Usage: .venv/bin/python benchmarks/bench_emerging.py [--permutations 99] [--cell-size 100]
"""

from __future__ import annotations

import argparse
import time
import warnings

import esda
import numpy as np
import pymannkendall
from libpysal.weights import W
from scipy import sparse

from geo_ssgp.config import get_settings
from geo_ssgp.hotspots.cube import build_cube
from geo_ssgp.hotspots.emerging import emerging_hotspots
from geo_ssgp.hotspots.grid import region_geometry, study_region
from geo_ssgp.pack import load_pack
from geo_ssgp.pipeline import read_and_geocode

RADIUS = "incidents/police-uk-api-radius/gloucester_crime_data_api-radius_2023-01_to_2025-09.csv"


def direct_loop(cube, permutations: int) -> int:
    """Per-month G_Local on a W of this and the previous month, then MK per place."""
    n_steps, n = cube.counts.shape
    space = sparse.csr_matrix(cube.adjacency) + sparse.identity(n, format="csr")
    both = sparse.csr_matrix(np.ones((2, 2)))
    full = sparse.kron(both, space, format="csr")  # place i at t sees both months
    full.setdiag(0)
    full.eliminate_zeros()
    z = np.zeros((n_steps, n))
    for t in range(1, n_steps):
        y = np.concatenate([cube.counts[t], cube.counts[t - 1]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = W.from_sparse(full)
            g = esda.G_Local(y, w, transform="B", star=True, permutations=permutations, seed=0)
        z[t] = g.Zs[:n]
    trends = [pymannkendall.original_test(z[1:, j]).trend for j in range(n)]
    return len(trends)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--permutations", type=int, default=99)
    parser.add_argument("--cell-size", type=float, default=100.0)
    args = parser.parse_args()
    settings = get_settings()
    pack = load_pack(settings)
    _, table = read_and_geocode([settings.data_dir / RADIUS], pack)
    table = table[table["status"] == "ok"]
    region = region_geometry(study_region(pack))

    start = time.perf_counter()
    cube = build_cube(table, region, cell_size=args.cell_size)
    built = time.perf_counter()
    result = emerging_hotspots(cube)
    ours = time.perf_counter()
    direct_loop(cube, args.permutations)
    baseline = time.perf_counter()

    steps, places = cube.counts.shape
    print(
        f"central Gloucester: {len(table):,} incidents, {steps} months x {places} cells "
        f"of {args.cell_size:.0f} m"
    )
    print(f"geo_ssgp cube        {built - start:7.2f} s")
    print(f"geo_ssgp emerging    {ours - built:7.2f} s   (target < 5 s)")
    print(f"geo_ssgp total       {ours - start:7.2f} s")
    print(
        f"direct loop          {baseline - ours:7.2f} s   "
        f"({args.permutations} permutations per month, original MK)"
    )
    print("categories:", result.category_counts())


if __name__ == "__main__":
    main()
