"""A synthetic national year through the pipeline: in-process, --engine dask, raw dask-geopandas.

The national year is built by tiling the real Gloucestershire LSOA polygons (LSOA 2011: the
only county-wide LSOA polygons in the data folder) and the county's nine months of police.uk
incidents over a grid of offsets across Great Britain (kept inside the BNG / UK lon-lat box
the validator accepts), written once as police.uk street CSVs (one file per tile, the
police.uk column layout) plus a synthetic area pack (tiled LSOA and district polygons).

Timed, on the same files:

* **in-process**: ``read_and_geocode`` + LSOA counts (``areas.area_counts``) + 100 m cell
  counts, in one fresh process (so its peak memory is its own);
* **dask engine**: ``geocode_to_parquet`` on a LocalCluster (read + validate + geocode +
  Hilbert GeoParquet, written by the workers, per partition of ~300,000 rows), then the same
  LSOA and cell counts per partition of the written files, reading only the columns they use
  (``dask_engine.map_analysed(..., columns=)``);
* **raw dask-geopandas**: ``dask.dataframe.read_csv`` + ``points_from_xy`` + ``to_crs`` +
  ``dask_geopandas.sjoin`` to the LSOA polygons + counts (no validation, quarantine, edge
  rules or district test).

All three start with the layers loaded (the Dask engine's time includes broadcasting them to
the workers, not the cluster's start, which is printed apart) and must agree on the counts.

Usage::

    python benchmarks/bench_national.py                      # 6.5 million rows, 35,000 LSOAs
    python benchmarks/bench_national.py --rows 1000000 --scaling --skip-raw

``--scaling`` adds a table: the Dask engine with 1 and 2 workers and the in-process path at
1x, 2x and 4x ``--rows``. Each line prints wall seconds, rows/s, the CPU time the path used
(driver plus workers: on a busy machine the wall clock mostly measures the wait for a core,
the CPU time the work), the peak memory (largest worker, or the in-process process) and the
1-minute load average when the path finished (the machine may be shared).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo_ssgp.areas import area_counts
from geo_ssgp.config import get_settings
from geo_ssgp.dask_engine import dask_client, geocode_to_parquet, map_analysed
from geo_ssgp.incidents.locate import UK_LAT, UK_LON
from geo_ssgp.pack import load_layer, load_pack
from geo_ssgp.pipeline import analysed_rows, read_and_geocode

CELL = 100.0
TILE_W, TILE_H = 80_000.0, 75_000.0


def _offsets(county_bounds, n: int) -> list[tuple[float, float]]:
    """Tile offsets on a grid across GB whose tiles stay inside the UK lon/lat box."""
    to_wgs = Transformer.from_crs(27700, 4326, always_xy=True)
    minx, miny, maxx, maxy = county_bounds
    out = []
    for y0 in np.arange(20_000, 1_200_000, TILE_H):
        for x0 in np.arange(60_000, 660_000, TILE_W):
            dx, dy = x0 - minx, y0 - miny
            xs = [minx + dx, maxx + dx]
            ys = [miny + dy, maxy + dy]
            lon, lat = to_wgs.transform(np.repeat(xs, 2), np.tile(ys, 2))
            if (lon.min() > UK_LON[0] and lon.max() < UK_LON[1] and lat.min() > UK_LAT[0]
                    and lat.max() < UK_LAT[1]):
                out.append((dx, dy))
    if len(out) < n:
        raise SystemExit(f"only {len(out)} tiles fit in the UK box; ask for fewer LSOAs")
    return out[:n]


def build(rows: int, lsoas: int, folder: Path) -> tuple[Path, list[Path]]:
    """Write the synthetic pack and incident CSVs; return (manifest, files)."""
    county = load_pack(get_settings(pack="gloucestershire"))
    lsoa = load_layer(county, "lsoa11")  # columns code, name, geometry (EPSG:27700)
    lads = load_layer(county, "district")
    n_tiles = math.ceil(lsoas / len(lsoa))
    offsets = _offsets(tuple(lads.total_bounds), n_tiles)
    sample = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False)
                        for f in county.sample_files()], ignore_index=True)
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    to_wgs = Transformer.from_crs(27700, 4326, always_xy=True)
    has_xy = sample["Longitude"] != ""
    lon = pd.to_numeric(sample["Longitude"], errors="coerce").to_numpy()
    lat = pd.to_numeric(sample["Latitude"], errors="coerce").to_numpy()
    x, y = to_bng.transform(lon, lat)
    (folder / "incidents").mkdir(parents=True)
    per_tile = math.ceil(rows / n_tiles)
    polys, districts, files = [], [], []
    for t, (dx, dy) in enumerate(offsets):
        tag = f"T{t:03d}"
        polys.append(_shifted(lsoa, dx, dy, tag))
        districts.append(_shifted(lads, dx, dy, tag))
        take = np.arange(t * per_tile, min((t + 1) * per_tile, rows)) % len(sample)
        tile = sample.iloc[take].copy()
        tx, ty = to_wgs.transform(x[take] + dx, y[take] + dy)
        moved = has_xy.to_numpy()[take]
        tile.loc[moved, "Longitude"] = np.round(tx[moved], 6).astype(str)
        tile.loc[moved, "Latitude"] = np.round(ty[moved], 6).astype(str)
        tile["Crime ID"] = np.where(tile["Crime ID"] != "", tag + tile["Crime ID"] +
                                    np.arange(len(tile)).astype(str), "")
        path = folder / "incidents" / f"2025-{tag}-street.csv"
        tile.to_csv(path, index=False)
        files.append(path)
    pd.concat(polys).to_file(folder / "lsoa.geojson", driver="GeoJSON")
    dist = pd.concat(districts)
    dist.to_file(folder / "districts.geojson", driver="GeoJSON")
    codes = ", ".join(f'"{c}"' for c in dist["code"])
    manifest = folder / "national.toml"
    manifest.write_text(
        f'[pack]\nname = "national"\ntitle = "Synthetic national year"\n'
        f"district_codes = [{codes}]\n\n"
        '[layers.lsoa11]\nfile = "lsoa.geojson"\ncode = "code"\nname = "name"\n\n'
        '[layers.district]\nfile = "districts.geojson"\ncode = "code"\nname = "name"\n',
        encoding="utf-8",
    )
    return manifest, files


def _shifted(frame: gpd.GeoDataFrame, dx: float, dy: float, tag: str) -> gpd.GeoDataFrame:
    out = frame.copy()
    out["geometry"] = shapely.transform(out.geometry.values, lambda c: c + [dx, dy])
    out["code"] = tag + out["code"]
    return out


def _cell_counts(frame: pd.DataFrame) -> pd.Series:
    """Incidents per occupied 100 m cell of the BNG lattice (key = column * 2**32 + row).

    A national grid of 100 m cells would hold about 25 million cells, nearly all empty, so
    the benchmark counts occupied cells only (the ``grid-counts`` command counts on the
    pack's clipped grid, the same per-partition way).
    """
    key = (np.floor(frame.geometry.x.to_numpy() / CELL).astype("int64") * 2**32
           + np.floor(frame.geometry.y.to_numpy() / CELL).astype("int64"))
    return pd.Series(key).value_counts()


def _cell_frame(frame: pd.DataFrame) -> pd.DataFrame:
    counts = _cell_counts(frame)
    return pd.DataFrame({"key": counts.index.to_numpy(), "n": counts.to_numpy()})


#: The columns the counts read back from the GeoParquet (with ``status`` and ``geometry``).
COUNTED = ["lsoa11cd"]


def _counts_part(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """LSOA counts (the ``areas`` rule) and 100 m cell counts of analysed incidents."""
    return area_counts(frame, "lsoa11"), _cell_counts(frame)


def _combine(parts) -> tuple[pd.Series, pd.Series]:
    lsoa, cells = zip(*parts, strict=True)
    return (pd.concat(lsoa).groupby(level=0).sum(), pd.concat(cells).groupby(level=0).sum())


def _result(seconds: float, lsoa: pd.Series, cells: pd.Series, **extra) -> dict:
    return {"seconds": seconds, "lsoas": len(lsoa), "cells": len(cells), "ok": int(lsoa.sum()),
            "load": os.getloadavg()[0], **extra}


def _cpu_s() -> float:
    """CPU seconds this process has used (user + system): the work, whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_process(manifest: Path, files) -> dict:
    """read_and_geocode + counts in one fresh process (its own peak memory), layers loaded."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_in_process, manifest, files).result()


def _in_process(manifest: Path, files) -> dict:
    pack = _load(manifest)
    t, cpu = time.perf_counter(), _cpu_s()
    _, geocoded = read_and_geocode(files, pack)
    lsoa, cells = _counts_part(analysed_rows(geocoded))
    return _result(time.perf_counter() - t, lsoa, cells, cpu_s=_cpu_s() - cpu,
                   peak_mb=_rss_peak_mb())


def _load(manifest: Path):
    """The synthetic pack with its layers loaded (every timed path starts from this)."""
    pack = load_pack(get_settings(data_dir=manifest.parent, pack=str(manifest)))
    for key in pack.layers:
        load_layer(pack, key)
    return pack


def dask_engine(pack, files, workers: int, out: Path) -> dict:
    """ingest + geocode to Hilbert GeoParquet, then LSOA and cell counts read back from it.

    Timed from a running cluster (its start is reported apart) to the combined counts: the
    layers' broadcast, every partition's read + validate + geocode + GeoParquet write, the
    repeated-ID check, and the counts.
    """
    t0 = time.perf_counter()
    with dask_client(workers=workers) as client:
        client.wait_for_workers(workers)
        start_s = time.perf_counter() - t0
        cpu = _cpu_s() + sum(client.run(_cpu_s).values())
        t = time.perf_counter()
        geocode_to_parquet(files, pack, client, out)
        t_geocode = time.perf_counter() - t
        written = sorted(out.glob("part.*.parquet"))
        lsoa, cells = _combine(map_analysed(client, written, _counts_part, columns=COUNTED))
        seconds = time.perf_counter() - t
        cpu = _cpu_s() + sum(client.run(_cpu_s).values()) - cpu
        peak = max(client.run(_rss_peak_mb).values())
    return _result(seconds, lsoa, cells, geocode_s=t_geocode, partitions=len(written),
                   peak_mb=peak, cpu_s=cpu, start_s=start_s)


def raw_sjoin(pack, files, workers: int) -> dict:
    polygons = load_layer(pack, "lsoa11")[["code", "geometry"]]
    with dask_client(workers=workers) as client:
        client.wait_for_workers(workers)
        cpu = _cpu_s() + sum(client.run(_cpu_s).values())
        t = time.perf_counter()
        frame = dd.read_csv([str(f) for f in files], usecols=["Longitude", "Latitude"],
                            dtype=float, blocksize=None).dropna()
        xy = dask_geopandas.points_from_xy(frame, "Longitude", "Latitude", crs="EPSG:4326")
        points = dask_geopandas.from_dask_dataframe(frame, geometry=xy).set_crs(4326)
        points = points.to_crs(27700)
        joined = dask_geopandas.sjoin(points, polygons, predicate="within")
        lsoa = joined["code"].value_counts(split_out=1)
        meta = _cell_frame(gpd.GeoDataFrame(geometry=gpd.points_from_xy([], [])))
        cells = joined.map_partitions(_cell_frame, meta=meta).groupby("key")["n"].sum(split_out=1)
        lsoa, cells = client.compute([lsoa, cells], sync=True)
        seconds = time.perf_counter() - t
        cpu = _cpu_s() + sum(client.run(_cpu_s).values()) - cpu
        peak = max(client.run(_rss_peak_mb).values())
    return _result(seconds, lsoa, cells, cpu_s=cpu, peak_mb=peak)


HEADER = (f"{'path':<36} {'wall s':>7} {'rows/s':>10} {'CPU s':>7} {'peak MB':>8} {'load':>5}"
          f"  {'LSOAs':>6} {'100 m cells':>11} {'incidents in area':>17}")


def line(name: str, r: dict, n_rows: int) -> str:
    return (f"{name:<36} {r['seconds']:7.1f} {n_rows / r['seconds']:10,.0f} {r['cpu_s']:7.1f}"
            f" {r['peak_mb']:8,.0f} {r['load']:5.1f}  {r['lsoas']:6,} {r['cells']:11,}"
            f" {r['ok']:17,}")


def dask_line(name: str, r: dict, n_rows: int) -> str:
    return (line(name, r, n_rows) + f"\n{'':<36} of which ingest + geocode + GeoParquet "
            f"{r['geocode_s']:.1f} s, counts {r['seconds'] - r['geocode_s']:.1f} s "
            f"({r['partitions']} partitions; cluster start {r['start_s']:.1f} s, not included)")


LEGEND = """\
wall s: elapsed seconds; rows/s: input rows / wall s; CPU s: processor time the path used
(driver + workers; on a busy machine wall s measures the wait for a core, CPU s the work);
peak MB: resident high-water mark of the largest worker (Dask) or of the process
(in-process); load: 1-minute load average when the path finished (the machine may be shared).
Every path must give the same LSOA count, occupied cells and incidents in the area (checked),
except the raw sjoin, which has no validation, edge or gap rules.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_500_000)
    parser.add_argument("--lsoas", type=int, default=35_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scaling", action="store_true",
                        help="1 and 2 workers and in-process at 1x, 2x, 4x --rows")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--skip-raw", action="store_true", help="leave out the raw sjoin")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="geo_ssgp_national_"))
    try:
        run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(args, root: Path) -> None:
    print(f"load: {os.getloadavg()[0]:.1f} (1-minute average on {os.cpu_count()} cores)")
    t = time.perf_counter()
    manifest, files = build(args.rows, args.lsoas, root / "x1")
    pack = _load(manifest)  # every path below starts with the layers loaded
    print(f"synthetic year: {args.rows:,} rows in {len(files)} files, "
          f"{len(load_layer(pack, 'lsoa11')):,} LSOAs (built in {time.perf_counter() - t:.1f} s)")
    print(LEGEND)
    print(HEADER)
    d = dask_engine(pack, files, args.workers, root / "pq")
    print(dask_line(f"dask engine, {args.workers} workers", d, args.rows))
    if not args.skip_raw:
        r = raw_sjoin(pack, files, args.workers)
        print(line(f"raw dask_geopandas.sjoin, {args.workers} workers", r, args.rows))
    done = {args.workers: d}  # results at 1x rows, reused by the scaling table
    if not args.skip_in_process:
        done["in-process"] = p = in_process(manifest, files)
        print(line("in-process (one process)", p, args.rows))
        assert (p["lsoas"], p["cells"], p["ok"]) == (d["lsoas"], d["cells"], d["ok"])
    if args.scaling:
        scaling(args, root, (manifest, pack, files), done)


def scaling(args, root: Path, base: tuple, done: dict) -> None:
    """Wall seconds (and rows/s) with 1 and 2 workers and in-process, at 1x, 2x, 4x rows."""
    print("\nscaling: wall s (rows/s) [load at the end]; Dask engine timed as above")
    print(f"{'rows':>12} {'1 worker':>24} {'2 workers':>24} {'in-process':>24}")
    for k in (1, 2, 4):
        rows = args.rows * k
        if k == 1:
            manifest, pack, files = base
        else:
            manifest, files = build(rows, args.lsoas, root / f"x{k}")
            pack = _load(manifest)
        known = done if k == 1 else {}
        cells = [known.get(w) or dask_engine(pack, files, w, root / f"pq{k}_{w}") for w in (1, 2)]
        cells.append(known.get("in-process") or in_process(manifest, files))
        assert len({(c["lsoas"], c["cells"], c["ok"]) for c in cells}) == 1
        print(f"{rows:>12,}" + "".join(f" {_cell(c, rows):>24}" for c in cells))
        if k > 1:
            shutil.rmtree(root / f"x{k}", ignore_errors=True)


def _cell(r: dict, rows: int) -> str:
    return f"{r['seconds']:.1f} s ({rows / r['seconds']:,.0f}) [{r['load']:.1f}]"


if __name__ == "__main__":
    main()
