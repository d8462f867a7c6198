"""Cache misses under load: 20 clients each asking for an analyst map nobody has built yet.

Measured in one run on the Gloucester sample, app under uvicorn in its own process:

* **bounded** (the app's default): maps are built by a pool of ``layer_workers`` threads and a
  request waits at most ``layer_timeout_s`` (10 s) before it gets "still computing" (202 page
  that reloads itself) while the build goes on;
* **baseline, unbounded** (the behaviour before issue 12): the same requests with a time limit
  of an hour and as many build threads as clients, so every request waits for its own build.

For each: latency of the map requests (p50, p95, max) and of ``/api/health`` polled every
0.2 s by another client meanwhile (p50, p95, max). Target: health p95 < 100 ms, map p95 < 10 s.

Usage: .venv/bin/python benchmarks/bench_cold_maps.py [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from geo_ssgp.api import create_app
from geo_ssgp.config import get_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import TOKEN, pct, start_server  # noqa: E402  (benchmarks/ is a folder of scripts)

MONTHS = [f"2025-{m:02d}" for m in range(1, 10)]
TYPES = ["", "&crime_type=asb", "&crime_type=violence"]


def cold_paths(n: int) -> list[str]:
    """``n`` distinct analyst-map URLs (period and type combinations)."""
    out = []
    for i, a in enumerate(MONTHS):
        for b in MONTHS[i:]:
            for t in TYPES:
                out.append(f"/map/analyst?from={a}&to={b}{t}")
    return out[:n]


async def run(url: str, paths: list[str]) -> tuple[list[float], list[int], list[float]]:
    """Every path by its own client at once, with health polled meanwhile."""
    done = asyncio.Event()
    health: list[float] = []

    async def poll(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            (await client.get("/api/health")).raise_for_status()
            health.append(time.perf_counter() - t0)
            await asyncio.sleep(0.2)

    async def one(client: httpx.AsyncClient, path: str) -> tuple[float, int]:
        t0 = time.perf_counter()
        r = await client.get(path, headers=TOKEN)
        return time.perf_counter() - t0, r.status_code

    limits = httpx.Limits(max_connections=len(paths) + 2)
    async with httpx.AsyncClient(base_url=url, timeout=3600, limits=limits) as client:
        poller = asyncio.create_task(poll(client))
        results = await asyncio.gather(*(one(client, p) for p in paths))
        done.set()
        await poller
    return [t for t, _ in results], [s for _, s in results], health


def report(name: str, lat: list[float], codes: list[int], health: list[float]) -> None:
    """Print one scenario's figures."""
    print(f"{name}")
    print(f"   map requests   p50 {statistics.median(lat):6.1f} s   p95 {pct(lat, 95):6.1f} s   "
          f"max {max(lat):6.1f} s   statuses {sorted(set(codes))} "
          f"({codes.count(200)} built, {codes.count(202)} still computing)")
    print(f"   /api/health    p50 {statistics.median(health) * 1000:6.0f} ms  "
          f"p95 {pct(health, 95) * 1000:6.0f} ms  max {max(health) * 1000:6.0f} ms "
          f"over {len(health)} polls")


def main() -> None:
    """Run the bounded and the unbounded scenario on the same store."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    args = ap.parse_args()
    paths = cold_paths(args.clients)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        create_app(get_settings(store_dir=store, dev=True), load_sample=True)
        scenarios = {
            "bounded (default: 1 build thread, 10 s limit)": {},
            "baseline, unbounded (a build thread per client, no limit)": {
                "GEO_SSGP_LAYER_WORKERS": str(args.clients),
                "GEO_SSGP_LAYER_TIMEOUT_S": "3600",
            },
        }
        print(f"{len(paths)} clients, each a different cold analyst map, on the sample")
        for name, env in scenarios.items():
            proc, url = start_server(store, **env)
            try:
                report(name, *asyncio.run(run(url, paths)))
            finally:
                proc.terminate()
                proc.wait(timeout=60)


if __name__ == "__main__":
    main()
