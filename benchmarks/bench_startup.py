"""Restart time with many stored datasets: the sample store, then with 25 small uploads more.

For each store, in one run on this machine, a fresh Python process (as a restart is) times
``create_app`` (imports, pack, store catalogue, routes; no incident file is read) and the first
``/api/health`` after it (reads every stored GeoParquet file once and filters the public
records); median of ``--repeat`` processes. The baseline is the same store before the 25
uploads, measured in the same run.

Usage: .venv/bin/python benchmarks/bench_startup.py [--uploads 25] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from geo_ssgp.api import create_app
from geo_ssgp.config import get_settings
from geo_ssgp.pack import load_pack
from geo_ssgp.pipeline import ingest_files
from geo_ssgp.store import open_store


def small_log(i: int) -> str:
    """A 20-row local log, different for each ``i`` (so each is a new dataset)."""
    rows = [
        f"U{i}-{k},2025-0{1 + k % 9}-1{k % 9},ASB,{-2.2437 + 0.0005 * k:.5f},"
        f"{51.8651 + 0.0001 * i:.5f},Street {k}"
        for k in range(20)
    ]
    return "ref,date,type,lon,lat,location\n" + "\n".join(rows) + "\n"


#: Run in a fresh process: seconds to build the app and to answer the first health request.
RESTART = """
import json, time
t0 = time.perf_counter()
from fastapi.testclient import TestClient
from geo_ssgp.api import create_app
app = create_app(load_sample=False)
t1 = time.perf_counter()
assert TestClient(app).get("/api/health").status_code == 200
print(json.dumps([t1 - t0, time.perf_counter() - t1]))
"""


def restart(store: Path, repeat: int) -> tuple[float, float]:
    """Median seconds of ``create_app`` and of the first health answer, fresh processes."""
    env = {**os.environ, "GEO_SSGP_STORE": str(store), "GEO_SSGP_DEV": "1"}
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", RESTART], env=env, capture_output=True, text=True,
                check=True,
            ).stdout.strip().splitlines()[-1]
        )
        for _ in range(repeat)
    ]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    """Measure restart before and after ``--uploads`` small uploads on one store."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uploads", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = get_settings(store_dir=Path(tmp) / "store", dev=True)
        create_app(settings, load_sample=True)  # the sample
        pack = load_pack(settings)
        store = open_store(settings, pack.name)
        n0 = len(store.datasets())
        before = restart(settings.store_dir, args.repeat)
        for i in range(args.uploads):
            path = Path(tmp) / f"log{i}.csv"
            path.write_text(small_log(i))
            ingest_files(store, pack, [path], source="local")
        after = restart(settings.store_dir, args.repeat)
        n = len(store.datasets())
    print(f"restart, median of {args.repeat}         create_app   first /api/health")
    print(f"sample store ({n0} datasets)        {before[0]:8.2f} s   {before[1]:8.2f} s")
    print(f"+{args.uploads} uploads ({n} datasets)      {after[0]:8.2f} s   {after[1]:8.2f} s")


if __name__ == "__main__":
    main()
