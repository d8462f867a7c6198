"""Geocoding speed: geo_ssgp.geocode.geocode against raw geopandas.sjoin, same run.

The baseline is one plain ``geopandas.sjoin(points, layer)`` (inner join, predicate
``intersects``) per polygon layer of the pack (lsoa21, lsoa11, ward, district), with each
layer's spatial index built before timing. A second baseline uses ``predicate="within"``,
for which geopandas indexes the points and tests prepared polygons (its fast path).
``geocode`` does more (edge rule, gap snapping, edge distances, lookups, status), and is
timed warm (layers loaded once).

Data: the nine police.uk street CSVs of the pack's sample (rows with a location), and a
synthetic set of N points resampled from them with Gaussian jitter (sd 150 m), carrying
the same columns.

Usage: .venv/bin/python benchmarks/bench_geocode.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely

from geo_ssgp.config import get_settings
from geo_ssgp.geocode import geocode
from geo_ssgp.incidents import read_incidents
from geo_ssgp.pack import load_layer, load_pack


def best_of(fn, repeat: int) -> float:
    """Shortest wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def synthetic(incidents: gpd.GeoDataFrame, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` rows resampled from ``incidents`` with their points jittered (sd 150 m)."""
    rng = np.random.default_rng(seed)
    rows = incidents.iloc[rng.integers(0, len(incidents), n)].reset_index(drop=True)
    xy = shapely.get_coordinates(rows.geometry.values) + rng.normal(0, 150, (n, 2))
    return rows.set_geometry(gpd.points_from_xy(xy[:, 0], xy[:, 1], crs=incidents.crs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic rows")
    parser.add_argument("--repeat", type=int, default=3, help="repeats (best is kept)")
    parser.add_argument("--pack", default="gloucester")
    args = parser.parse_args()

    pack = load_pack(get_settings(pack=args.pack))
    incidents = read_incidents(pack.sample_files(), pack=pack).incidents
    t0 = time.perf_counter()
    geocode(incidents.iloc[:10], pack)
    cold = time.perf_counter() - t0
    print(
        f"pack {pack.name}: layers {', '.join(pack.layers)}; "
        f"first call (reads and prepares the layers) {cold:.3f} s"
    )
    layers = [
        load_layer(pack, k)
        for k in ("lsoa21", "lsoa11", "ward", "district")
        if pack.has("layers", k)
    ]
    for layer in layers:
        layer.sindex  # noqa: B018  build the baseline's indexes before timing

    def baseline(points, predicate):
        for layer in layers:
            gpd.sjoin(points, layer, predicate=predicate)

    header = (
        f"{'data':<22}{'rows':>11}{'ours s':>9}{'sjoin s':>9}{'ratio':>7}"
        f"{'within s':>10}{'ratio':>7}{'rows/s':>11}"
    )
    print(header)
    print("-" * len(header))
    sets = [("police.uk 2025-01..09", incidents)]
    if args.rows:
        sets.append((f"synthetic {args.rows:,}", synthetic(incidents, args.rows)))
    for label, points in sets:
        repeat = args.repeat if len(points) < 200_000 else 1
        ours = best_of(lambda p=points: geocode(p, pack), repeat)
        raw = best_of(lambda p=points: baseline(p, "intersects"), repeat)
        within = best_of(lambda p=points: baseline(p, "within"), repeat)
        print(
            f"{label:<22}{len(points):>11,}{ours:>9.3f}{raw:>9.3f}{ours / raw:>7.2f}"
            f"{within:>10.3f}{ours / within:>7.2f}{len(points) / ours:>11,.0f}"
        )
    print(
        "sjoin = geopandas.sjoin(points, layer, predicate='intersects') summed over the layers;\n"
        "within = the same with predicate='within' (index on the points, prepared polygons);\n"
        "ratio = ours / baseline (target <= 1.3)"
    )


if __name__ == "__main__":
    main()
