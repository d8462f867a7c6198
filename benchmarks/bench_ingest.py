"""Ingest + geocode throughput for the nine 2025 police.uk months, beside raw pandas/sjoin.

Ours: ``geo_ssgp.pipeline.read_and_geocode`` (read, validate, quarantine, transform to
EPSG:27700, geocode onto LSOA 2021/2011, wards and districts), warm (pack layers loaded).
Baseline in the same run: ``pandas.read_csv`` of the same files, ``points_from_xy`` and
``to_crs``, then one raw ``geopandas.sjoin`` per polygon layer (no validation at all).
The 1,000,000-point geocoding figures are in ``bench_geocode.py``.

Usage: .venv/bin/python benchmarks/bench_ingest.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd
import pandas as pd

from geo_ssgp.config import get_settings
from geo_ssgp.pack import load_layer, load_pack
from geo_ssgp.pipeline import read_and_geocode


def timed(fn, repeat: int) -> list[float]:
    """Wall times of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def baseline(files, layers) -> int:
    """Raw read + transform + sjoin against each layer, no validation."""
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    frame = frame.dropna(subset=["Longitude", "Latitude"])
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["Longitude"], frame["Latitude"]), crs=4326
    ).to_crs(27700)
    for layer in layers:
        gpd.sjoin(points, layer, predicate="intersects", how="left")
    return len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    t0 = time.perf_counter()
    pack = load_pack(get_settings())
    files = pack.sample_files()
    layers = [load_layer(pack, k) for k in ("lsoa21", "lsoa11", "ward", "district")]
    for layer in layers:
        layer.sindex  # noqa: B018 - build indexes before timing, as geocode caches its own
    result, _ = read_and_geocode(files, pack)
    start_up = time.perf_counter() - t0
    ours = timed(lambda: read_and_geocode(files, pack), args.repeat)
    base = timed(lambda: baseline(files, layers), args.repeat)
    n = result.n_in
    print(f"files: {len(files)}  rows in: {n:,}  accepted: {len(result.incidents):,}")
    print(f"start-up (imports done; first load of pack + first run): {start_up:.2f} s")
    print(f"{'':34}{'median s':>10}{'best s':>10}{'rows/s':>12}")
    for name, times in (("geo_ssgp read_and_geocode", ours), ("raw read_csv + sjoin x4", base)):
        med = statistics.median(times)
        print(f"{name:34}{med:>10.3f}{min(times):>10.3f}{n / med:>12,.0f}")
    print(f"ratio ours / raw: {statistics.median(ours) / statistics.median(base):.2f}")


if __name__ == "__main__":
    main()
