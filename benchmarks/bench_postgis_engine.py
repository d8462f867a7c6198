"""Area and grid counts from the PostGIS store: in-process against workers reading partitions.

The store at ``--store`` (a ``postgresql://`` URL) gets the pack's sample months if it holds
none. Measured in one run, on the same store:

* **in-process** (baseline): ``store.incidents()`` read by the driver, then
  ``areas.area_count_part`` (LSOA 2021) and ``hotspots.count.cell_count_part`` (100 m cells),
  as ``geo-ssgp areas`` / ``grid-counts`` run by default;
* **Dask engine**: ``dask_engine.map_stored`` on a LocalCluster, each worker querying its
  group of datasets from PostgreSQL (``PostGISStore.dataset_incidents``) and running the same
  per-part functions, as ``--engine dask`` runs them (cluster start-up printed apart).

Both must give the same table and counts. Wall seconds, with the 1-minute load average.

Usage::

    python benchmarks/bench_postgis_engine.py --store postgresql://user@host:5432/db [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import ExitStack

import numpy as np
import pandas as pd

from geo_ssgp.areas import area_count_part, area_stats_from_parts
from geo_ssgp.config import get_settings
from geo_ssgp.dask_engine import dask_client, map_stored
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots.count import cell_count_part
from geo_ssgp.hotspots.grid import make_grid, study_region
from geo_ssgp.pack import load_pack
from geo_ssgp.pipeline import analysed_rows, ensure_sample
from geo_ssgp.store_postgis import PostGISStore


def _timed(func):
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True, help="postgresql:// URL")
    parser.add_argument("--pack", default=None, help="area pack (default: the settings')")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    pack = load_pack(get_settings(pack=args.pack))
    store = PostGISStore(args.store, pack.name)
    _, t_ingest = _timed(lambda: ensure_sample(store, pack))
    n_rows = int(store.datasets()["n_accepted"].sum())
    grid = make_grid(study_region(pack), cell_size=100.0)
    filters, level = Filters(), pack.primary_lsoa
    print(f"{len(store.datasets())} datasets, {n_rows:,} stored incidents (sample ingest"
          f" {t_ingest:.1f} s); load average {os.getloadavg()[0]:.1f}")

    def in_process():
        rows = analysed_rows(store.incidents())
        return [area_count_part(rows, filters, level)], [cell_count_part(rows, filters, grid)]

    (areas, cells), t_plain = _timed(in_process)
    with ExitStack() as stack:
        client, up = _timed(lambda: stack.enter_context(dask_client(workers=args.workers)))
        print(f"LocalCluster of {args.workers} workers ready in {up:.1f} s (not counted)")

        def on_dask():
            return (map_stored(client, store, area_count_part, filters, level),
                    map_stored(client, store, cell_count_part, filters, grid))

        (d_areas, d_cells), t_dask = _timed(on_dask)
    same_areas = area_stats_from_parts(d_areas, pack, filters, level).equals(
        area_stats_from_parts(areas, pack, filters, level)
    )
    same_cells = np.array_equal(np.sum(d_cells, axis=0), cells[0])
    table = pd.DataFrame(
        {"wall s": [t_plain, t_dask], "partitions": [1, len(d_areas)]},
        index=["in-process (driver reads all)", f"Dask, {args.workers} workers query"],
    )
    print(table.round(2).to_string())
    print(f"same {level} table: {same_areas}; same 100 m counts: {same_cells}"
          f" ({int(cells[0].sum()):,} incidents in {int((cells[0] > 0).sum()):,} cells)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
