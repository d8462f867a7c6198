"""District-halo hotspot layers: whole county in one process against per district on Dask.

The six Gloucestershire districts (the ``gloucestershire`` pack) and the nine sample months
(police.uk street CSVs, 2025-01..2025-09), geocoded once. Measured in one run, per layer:

* **in-process** (baseline): ``run_method(method, ...)`` over the whole county, as
  ``geo-ssgp hotspots`` runs by default;
* **per district, in-process**: the same layer with ``districts=`` (each district with
  its halo, one after another);
* **per district on Dask**: ``run_method(..., client=...)``, the path of
  ``geo-ssgp hotspots --engine dask --workers N`` (the cluster is started once, before
  timing; its start-up is printed on its own).

Each method first runs once on 2 km cells, untimed (imports and first calls).

Every run checks that the layer's GeoJSON equals the baseline's (floats to 1e-9). Wall
seconds are printed with the 1-minute load average (the machine may be shared).

Usage::

    python benchmarks/bench_halo.py [--workers 2] [--methods kde gistar emerging]
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import ExitStack

import numpy as np

from geo_ssgp.config import get_settings
from geo_ssgp.dask_engine import dask_client
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots import run_method
from geo_ssgp.hotspots.emerging import pack_emerging
from geo_ssgp.hotspots.grid import pack_districts
from geo_ssgp.pack import load_pack
from geo_ssgp.pipeline import read_and_geocode


def _same(a, b) -> bool:
    """Equal documents, floats (not coordinates) to a relative 1e-9."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=1e-9, atol=0))
    return a == b


def _timed(func):
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def _layer(method: str, incidents, pack, cell_size: float | None = None, **options):
    """A callable making the method's GeoJSON (``emerging``: the emerging-hotspot places)."""
    if method == "emerging":
        return lambda: pack_emerging(incidents, pack, Filters(), cell_size=cell_size or 500.0,
                                     **options).to_geojson()
    if cell_size is not None:
        options["cell_size"] = cell_size
    return lambda: run_method(method, incidents, pack, **options).to_geojson()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", nargs="+", default=["kde", "gistar", "emerging"])
    args = parser.parse_args()
    settings = get_settings()
    county = load_pack(settings.model_copy(update={"pack": "gloucestershire"}))
    gloucester = load_pack(settings)
    _, incidents = read_and_geocode(gloucester.sample_files(), county)
    districts = pack_districts(county)
    print(f"{int((incidents['status'] == 'ok').sum()):,} incidents in {len(districts)} districts;"
          f" load average {os.getloadavg()[0]:.1f}")
    with ExitStack() as stack:
        client, up = _timed(lambda: stack.enter_context(dask_client(workers=args.workers)))
        print(f"LocalCluster of {args.workers} workers ready in {up:.1f} s (not counted)")
        print(f"{'layer':<10}{'in-process s':>14}{'per district s':>16}"
              f"{'on Dask s':>11}  same GeoJSON")
        for method in args.methods:
            _layer(method, incidents, county, cell_size=2000.0)()  # imports, JIT: not timed
            base, t_base = _timed(_layer(method, incidents, county))
            if method == "emerging":
                local, t_local = base, float("nan")
            else:
                local, t_local = _timed(_layer(method, incidents, county, districts=districts))
            dask, t_dask = _timed(_layer(method, incidents, county, client=client))
            same = _same(local, base) and _same(dask, base)
            print(f"{method:<10}{t_base:>14.1f}{t_local:>16.1f}{t_dask:>11.1f}  {same}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
