"""Analyst map page size and build/render time against the straightforward Folium map.

Run: ``.venv/bin/python benchmarks/bench_maps.py`` (about a minute on 2 cores; the naive
map takes most of it). The naive baseline is ``benchmarks/naive_map.py``.

For all nine months (2025-01..09, ~14,300 geocoded Gloucester incidents) it prints:

1. ``build_analyst_map`` with every registered hotspot method, the KDE surface, the three
   LSOA choropleths, wards and incidents: HTML bytes of ``render`` (assets linked from
   ``/static/vendor`` and ``/static/app``, whose map runtime bytes are printed beside it) and
   of ``render_standalone`` (every asset inlined), build and render time; the page's largest
   parts;
2. the baseline measured in the same run: ``naive_map`` (Folium defaults: one clustered
   marker with a popup per incident, CDN assets), HTML bytes and times;
3. the ratio. Targets: page <= 1 MB and at least 50x smaller than the naive map.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from geo_ssgp import maps
from geo_ssgp.areas import area_stats
from geo_ssgp.geocode import geocode
from geo_ssgp.hotspots import METHODS, run_method
from geo_ssgp.incidents import read_incidents
from geo_ssgp.pack import load_layer, load_pack

sys.path.insert(0, str(Path(__file__).resolve().parent))
from naive_map import naive_map  # noqa: E402  (benchmarks/ is a folder of scripts)

warnings.simplefilter("ignore", DeprecationWarning)
warnings.simplefilter("ignore", FutureWarning)
warnings.simplefilter("ignore", UserWarning)


def timed(func):
    """Wall time of one call, and its result."""
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def part_sizes(fmap) -> list[tuple[int, str]]:
    """Script bytes of each top-level map child (with its own children), largest first."""
    out = []
    for key, element in fmap._children.items():
        size = 0
        for item in (element, *element._children.values()):
            script = item._template.module.__dict__.get("script")
            size += len(script(item, {}).encode()) if script else 0
        out.append((size, getattr(element, "layer_name", key)))
    return sorted(out, reverse=True)


def main() -> None:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    pack = load_pack()
    t_read, result = timed(lambda: read_incidents(pack.sample_files(), pack=pack))
    t_geo, incidents = timed(lambda: geocode(result.incidents, pack))
    ok = incidents[incidents["status"] == "ok"]
    print(
        f"incidents: {len(ok):,} geocoded in Gloucester, 9 months "
        f"(read {t_read:.1f} s, geocode {t_geo:.1f} s)"
    )
    areas = area_stats(incidents, pack, "lsoa21")
    wards = load_layer(pack, "ward")
    t_hot, layers = timed(lambda: {m: run_method(m, incidents, pack) for m in METHODS})
    print(
        f"hotspot layers: {', '.join(f'{m} ({len(v.hotspots)})' for m, v in layers.items())}"
        f" in {t_hot:.1f} s"
    )

    t_build, fmap = timed(
        lambda: maps.build_analyst_map(
            pack,
            areas,
            wards,
            layers,
            "grid-count",
            incidents=ok,
            surface=layers["kde"].surface,
        )
    )
    t_render, page = timed(lambda: maps.render(fmap))
    t_alone, standalone = timed(lambda: maps.render_standalone(fmap))
    size = len(page.encode())
    size_alone = len(standalone.encode())

    t_naive_build, naive = timed(lambda: naive_map(ok))
    t_naive_render, naive_page = timed(lambda: naive.get_root().render())
    naive_size = len(naive_page.encode())

    print()
    print(f"{'map':<44}{'HTML bytes':>14}{'build s':>10}{'render s':>10}")
    print(
        f"{'analyst map, render() (links /static/vendor)':<44}{size:>14,}"
        f"{t_build:>10.2f}{t_render:>10.2f}"
    )
    runtime = sum((maps.APP_DIR / name).stat().st_size for name in maps.APP_ASSETS.values())
    print(f"{'  + map runtime, /static/app (cached files)':<44}{runtime:>14,}")
    print(
        f"{'analyst map, render_standalone() (inlined)':<44}{size_alone:>14,}"
        f"{'':>10}{t_alone:>10.2f}"
    )
    print(
        f"{'naive_map (marker + popup per incident, CDN)':<44}{naive_size:>14,}"
        f"{t_naive_build:>10.2f}{t_naive_render:>10.2f}"
    )
    print()
    ratio = naive_size / size
    speed = (t_naive_build + t_naive_render) / (t_build + t_render)
    print(
        f"analyst page is {ratio:.1f}x smaller than the naive map (target >= 50x: "
        f"{'met' if ratio >= 50 else 'NOT met'}) and {size / 1e6:.3f} MB (target <= 1 MB: "
        f"{'met' if size <= 1_000_000 else 'NOT met'}); build + render {speed:.0f}x faster"
    )
    print(
        f"analyst map draws {len(ok):,} incidents as "
        f"{len(maps.snap_point_rows(ok)['n']):,} snap-point markers"
    )
    print()
    print("largest parts of the analyst page (script bytes):")
    for n, name in part_sizes(fmap)[:10]:
        print(f"  {n:>9,}  {name}")


if __name__ == "__main__":
    main()
