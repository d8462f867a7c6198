"""Cache misses under load: 20 clients each asking for an analyst map nobody has built yet.

Measured in one run, app under uvicorn in its own process, on the Gloucester sample or (with
``--tiles N``) a store of the sample stored N times over (``--tiles 37``: 1.6 million
incidents, every snap point carrying 37 times its incidents):

* **worker processes** (the app's default, ``GEO_SSGP_MAP_WORKERS=1``): maps are built in a
  separate process (:mod:`geo_ssgp.api.workers`); a request waits at most
  ``layer_timeout_s`` (10 s) before it gets "still computing" (202 page that reloads itself)
  while the build goes on;
* **threads** (before: ``GEO_SSGP_MAP_WORKERS=0``): the same bounded pool, but the build runs
  in a thread of the server process, whose compiled calls hold the interpreter lock;
* **baseline, unbounded** (``--unbounded``, the behaviour before issue 12): a time limit of an
  hour and as many build threads as clients, so every request waits for its own build.

For each: latency of the map requests (p50, p95, max) and of ``/api/health`` polled every
0.2 s by another client for at least ``--window`` seconds, while the builds go on (p50, p95,
max). Target: health p95 < 100 ms, map p95 < 10 s (or "still computing").

Usage: .venv/bin/python benchmarks/bench_cold_maps.py [--clients 20] [--tiles 37]
       [--window 60] [--unbounded]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from geo_ssgp.api import create_app
from geo_ssgp.config import get_settings
from geo_ssgp.store import SQLiteStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import TOKEN, pct, start_server  # noqa: E402  (benchmarks/ is a folder of scripts)

MONTHS = [f"2025-{m:02d}" for m in range(1, 10)]
TYPES = ["", "&crime_type=asb", "&crime_type=violence"]
WARM = "/map/analyst?from=2025-09&to=2025-09"


def cold_paths(n: int) -> list[str]:
    """``n`` distinct analyst-map URLs (period and type combinations)."""
    out = []
    for i, a in enumerate(MONTHS):
        for b in MONTHS[i:]:
            for t in TYPES:
                out.append(f"/map/analyst?from={a}&to={b}{t}")
    return out[:n]


def tile_store(store: SQLiteStore, tiles: int) -> int:
    """Store the stored incidents ``tiles`` times in all (copies as extra datasets).

    Returns
    -------
    int
        Stored incidents afterwards.
    """
    base = store.incidents()
    empty = store.quarantine().iloc[:0]
    for i in range(1, tiles):
        copy = base.assign(incident_id=base["incident_id"].astype(str) + f"-t{i}")
        info = {"sha256": f"{i:064x}", "name": f"tile-{i}.csv", "source": "police-uk",
                "n_in": len(copy), "n_accepted": len(copy), "n_quarantined": 0}
        store.add_datasets([(info, copy, empty)])
    return len(store.incidents())


async def run(url: str, paths: list[str], window: float) -> dict[str, list]:
    """Every path by its own client at once, with health polled meanwhile (>= ``window`` s).

    A client answered "still computing" asks again after ``Retry-After`` (as the page does)
    until its map is built.

    Returns
    -------
    dict
        ``first``: seconds to the first answer, ``codes``: its status, ``ready``: seconds to
        the built map, ``health``: seconds of each health request.
    """
    done = asyncio.Event()
    health: list[float] = []

    async def poll(client: httpx.AsyncClient) -> None:
        t_end = time.perf_counter() + window
        while not done.is_set() or time.perf_counter() < t_end:
            t0 = time.perf_counter()
            (await client.get("/api/health")).raise_for_status()
            health.append(time.perf_counter() - t0)
            await asyncio.sleep(0.2)

    async def one(client: httpx.AsyncClient, path: str) -> tuple[float, int, float]:
        t0 = time.perf_counter()
        r = await client.get(path, headers=TOKEN)
        first, code = time.perf_counter() - t0, r.status_code
        while r.status_code == 202:
            await asyncio.sleep(float(r.headers["retry-after"]))
            r = await client.get(path, headers=TOKEN)
        r.raise_for_status()
        return first, code, time.perf_counter() - t0

    limits = httpx.Limits(max_connections=len(paths) + 2)
    async with httpx.AsyncClient(base_url=url, timeout=3600, limits=limits) as client:
        poller = asyncio.create_task(poll(client))
        results = await asyncio.gather(*(one(client, p) for p in paths))
        done.set()
        await poller
    first, codes, ready = (list(col) for col in zip(*results, strict=True))
    return {"first": first, "codes": codes, "ready": ready, "health": health}


def seconds(values: list[float]) -> str:
    """p50, p95 and max of durations, in seconds."""
    return (f"p50 {statistics.median(values):6.1f} s   p95 {pct(values, 95):6.1f} s   "
            f"max {max(values):6.1f} s")


def report(name: str, first: list[float], codes: list[int], ready: list[float],
           health: list[float]) -> None:
    """Print one scenario's figures."""
    print(f"{name}")
    print(f"   first answer   {seconds(first)}   statuses {sorted(set(codes))} "
          f"({codes.count(200)} built, {codes.count(202)} still computing)")
    print(f"   map built      {seconds(ready)} (clients asking again after Retry-After)")
    print(f"   /api/health    p50 {statistics.median(health) * 1000:6.0f} ms  "
          f"p95 {pct(health, 95) * 1000:6.0f} ms  max {max(health) * 1000:6.0f} ms "
          f"over {len(health)} polls")


def warm_up(url: str) -> float:
    """Seconds until a first map is built (server and workers have read the store)."""
    t0 = time.perf_counter()
    while httpx.get(url + WARM, headers=TOKEN, timeout=3600).status_code != 200:
        time.sleep(1)
    return time.perf_counter() - t0


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server; kill it if it has not stopped a minute later."""
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        print("   (the server ignored SIGTERM for 60 s: killed)")
        proc.kill()
        proc.wait()


def scenarios(clients: int, unbounded: bool) -> dict[str, dict[str, str]]:
    """Settings of each scenario, as ``GEO_SSGP_*`` environment variables."""
    out = {
        "threads (before): 1 build thread in the server process, 10 s limit": {
            "GEO_SSGP_MAP_WORKERS": "0"
        },
        "worker process (default): 1 build process, 10 s limit": {"GEO_SSGP_MAP_WORKERS": "1"},
    }
    if unbounded:
        out["baseline, unbounded (a build thread per client, no limit)"] = {
            "GEO_SSGP_MAP_WORKERS": "0",
            "GEO_SSGP_LAYER_WORKERS": str(clients),
            "GEO_SSGP_LAYER_TIMEOUT_S": "3600",
        }
    return out


def main() -> None:
    """Run each scenario on the same store."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--tiles", type=int, default=1, help="store the sample this many times")
    ap.add_argument("--window", type=float, default=30, help="seconds health is polled at least")
    ap.add_argument("--unbounded", action="store_true", help="also run the unbounded baseline")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each scenario (alternating)")
    args = ap.parse_args()
    paths = cold_paths(args.clients)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        svc = create_app(get_settings(store_dir=store, dev=True), load_sample=True).state.geo
        n = tile_store(svc.store, args.tiles)
        print(f"{len(paths)} clients, each a different cold analyst map, {n:,} stored incidents")
        runs = list(scenarios(args.clients, args.unbounded).items()) * args.repeat
        for name, env in runs:
            proc, url = start_server(store, **env)
            try:
                print(f"   (first map, the store read included: {warm_up(url):.1f} s)")
                report(name, **asyncio.run(run(url, paths, args.window)))
            finally:
                stop(proc)


if __name__ == "__main__":
    main()
