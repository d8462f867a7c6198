"""Snapping a year of city incidents to street segments, beside a plain ``sjoin_nearest``.

``geo_ssgp.streets.snap_to_segments`` snaps each distinct (point, street text) once and,
among the segments within 30 m, prefers the one whose OSM name matches police.uk's
"On or near" street. The baseline is one ``geopandas.sjoin_nearest(points, segments,
max_distance=30)`` on every incident (no name preference; ties give extra rows), with
the segments' spatial index built before timing. Both are timed warm (segments built
once), best of ``--repeat`` runs.

Data: Gloucester's incidents of the nine police.uk street CSVs (2025-01..09), resampled
with replacement to twelve months' worth (x 12/9) so the figure is for a year.

Usage: .venv/bin/python benchmarks/bench_streets.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd

from geo_ssgp.config import get_settings
from geo_ssgp.pack import load_pack
from geo_ssgp.pipeline import read_and_geocode
from geo_ssgp.streets import SNAP_DISTANCE_M, snap_to_segments, street_segments

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_geocode import best_of  # noqa: E402  (benchmarks/ is a folder of scripts)


def main() -> None:
    """Print both timings and how often the two snaps agree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pack = load_pack(get_settings())
    _, geocoded = read_and_geocode(pack.sample_files(), pack)
    city = geocoded[geocoded["status"] == "ok"]
    year = city.sample(n=round(len(city) * 12 / 9), replace=True, random_state=0)
    t0 = time.perf_counter()
    segs = street_segments(pack)
    build = time.perf_counter() - t0
    segs.sindex  # noqa: B018 - build the baseline's index before timing
    points = year[["location_text", "geometry"]]

    def baseline() -> gpd.GeoDataFrame:
        return gpd.sjoin_nearest(
            points, segs[["segment_id", "geometry"]], max_distance=SNAP_DISTANCE_M
        )

    ours = snap_to_segments(points, segs)
    plain = baseline()
    plain = plain[~plain.index.duplicated()]["segment_id"].reindex(points.index)
    same = (
        (ours["segment_id"] == plain).fillna(False) | (ours["segment_id"].isna() & plain.isna())
    ).sum()
    print(f"incidents: {len(points):,} (a year of Gloucester), segments: {len(segs):,}")
    print(f"segments built from OSM (first call, cached after): {build:.2f} s")
    ours_s = best_of(lambda: snap_to_segments(points, segs), args.repeat)
    print(f"snap_to_segments (name preferred): {ours_s:.3f} s")
    print(f"baseline sjoin_nearest:            {best_of(baseline, args.repeat):.3f} s")
    print(
        f"same segment as the baseline: {same / len(points):.1%} "
        f"(the rest: a named street within 30 m beats a nearer one)"
    )


if __name__ == "__main__":
    main()
