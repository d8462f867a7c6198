"""Hotspot engine speed and predictive accuracy on the real Gloucester sample.

Run: ``.venv/bin/python benchmarks/bench_hotspots.py`` (2-4 minutes on 2 cores).

Prints, for all nine months (2025-01..09, ~14,300 Gloucester incidents):

1. time per registered method (``run_method``, labels off, significance included), each
   beside a direct esda / scikit-learn / scipy call on the same data measured in the
   same run (the layers work on weighted map points, the library calls on every incident);
2. the core computations alone (the Gi* table as the layer runs it, beside esda with 999
   permutations, on the 100 m grid; KDE on the 50 m grid) beside the same baselines;
   targets < 1 s each;
3. the rolling backtest on the common 50 m grid (three folds, train 6 months -> test
   the next month; methods tuned on training months): PAI and PEI, mean (sd), at
   1 / 3 / 5 % of the area for every method and the naive previous-period baseline;
4. one split, untuned: grid counts by cell size and recency half-life, KDE by bandwidth;
5. seconds per layer on a year of city data (2024-10..12 from the API radius export,
   2025-01..09 from the street CSVs), each beside the direct library call on every
   incident, and on the whole 33-month radius export for the point-cluster layers.

The calibration of Gi* p-values on pure noise is ``bench_gistar_calibration.py``.
"""

from __future__ import annotations

import time
import warnings

import esda
import libpysal
import numpy as np
import pandas as pd

from geo_ssgp.filters import filter_incidents
from geo_ssgp.hotspots import METHODS, run_method
from geo_ssgp.hotspots.clusters import default_min_samples
from geo_ssgp.hotspots.evaluate import backtest, backtest_table, rolling_backtest, rolling_folds
from geo_ssgp.hotspots.gistar import gistar_table
from geo_ssgp.hotspots.grid import (
    grid_count,
    grid_weights,
    make_grid,
    point_xy,
    snap_point_counts,
    study_region,
)
from geo_ssgp.hotspots.kde import default_bandwidth, quartic_density
from geo_ssgp.hotspots.rates import area_values, area_weights
from geo_ssgp.pack import load_layer, load_pack
from geo_ssgp.pipeline import read_and_geocode

warnings.simplefilter("ignore", DeprecationWarning)
warnings.simplefilter("ignore", FutureWarning)


def best_of(func, repeat: int = 3) -> tuple[float, object]:
    """Smallest wall time of ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    pack = load_pack()
    t0 = time.perf_counter()
    _, geo = read_and_geocode(pack.sample_files(), pack)
    pts = geo[geo["status"] == "ok"].reset_index(drop=True)
    print(f"loaded {len(pts):,} Gloucester incidents in {time.perf_counter() - t0:.2f} s")
    snaps = snap_point_counts(pts)
    print(f"  on {len(snaps):,} distinct snap points (busiest: {snaps['n_incidents'].iloc[0]})")
    region = study_region(pack)
    run_method("grid-count", pts, pack, label=False)  # warm caches (layers, imports)

    x, y = point_xy(pts)
    g100 = make_grid(region, cell_size=100)
    g50 = make_grid(region, cell_size=50)
    counts100 = grid_count(g100, pts).to_numpy().astype(float)
    w100 = grid_weights(g100)
    h = default_bandwidth(pts)

    print("\n1. time per method (all nine months; best of 3; labels off)")
    time_layers(pts, pack, region)
    print("\n2. core computations (targets < 1 s)")
    t_gi, _ = best_of(lambda: gistar_table(counts100, w100, permutations=999, seed=0))
    t_gi0, _ = best_of(lambda: gistar_table(counts100, w100, permutations=0))
    t_esda, _ = best_of(
        lambda: esda.G_Local(
            counts100, w100, transform="B", star=True, permutations=999, seed=0, n_jobs=1
        )
    )
    t_w, _ = best_of(lambda: grid_weights(g100))
    t_wq, _ = best_of(lambda: libpysal.weights.Queen.from_dataframe(g100.cells, use_index=False), 1)
    area100 = g100.cells["area_m2"].to_numpy()
    t_gip, _ = best_of(lambda: gistar_table(counts100, w100, permutations=0, area=area100))
    print(
        f"  Gi* table as the layer runs it (Poisson window p, no permutations), "
        f"{len(g100):,} cells: {t_gip:.3f} s"
        f"  (esda.G_Local 999 perms alone {t_esda:.3f} s; our table with 999 perms"
        f" {t_gi:.3f} s, exact p without permutations {t_gi0:.3f} s)"
    )
    print(
        f"  grid queen weights from lattice: {t_w:.3f} s"
        f"  (libpysal Queen.from_dataframe {t_wq:.3f} s)"
    )
    cx, cy = g50.cells["x"].to_numpy(), g50.cells["y"].to_numpy()
    t_k, _ = best_of(
        lambda: quartic_density(
            cx, cy, snaps["x"].to_numpy(), snaps["y"].to_numpy(), snaps["n_incidents"].to_numpy(), h
        )
    )
    t_sk, _ = best_of(lambda: _baselines(pts, pack, region)["kde"][1]())
    t_g50, _ = best_of(lambda: make_grid(region, cell_size=50))
    print(
        f"  quartic KDE, {len(g50):,} cells of 50 m, bandwidth {h:.0f} m: {t_k:.3f} s"
        f"  (sklearn epanechnikov {t_sk:.3f} s; building the 50 m grid {t_g50:.3f} s)"
    )

    print("\n3. rolling backtest, common 50 m grid: train 6 months -> test the next month,")
    print("   3 folds (2025-01..06 -> 07, 02..07 -> 08, 03..08 -> 09); mean (sd) over folds")
    folds = rolling_folds(("2025-01", "2025-06"), ("2025-07", "2025-07"), folds=3)
    t_bt, res = best_of(lambda: rolling_backtest(pts, folds, pack), 1)
    tab = backtest_table(res)
    pd.set_option("display.width", 160)
    for what in ("pai", "pei"):
        mean = tab.pivot(index="method", columns="coverage", values=what)
        sd = tab.pivot(index="method", columns="coverage", values=f"{what}_sd")
        print(f"\n  {what.upper()}")
        print((mean.round(2).astype(str) + " (" + sd.round(2).astype(str) + ")").to_string())
    print(f"  (3 folds x 7 methods tuned on training months + baseline: {t_bt:.1f} s)")

    print("\n4. one split (train 2025-01..06 -> test 2025-07..09), 50 m common grid, untuned")
    train = filter_incidents(pts, start="2025-01", end="2025-06")
    test = filter_incidents(pts, start="2025-07", end="2025-09")
    settings = [("grid-count", {"cell_size": c}) for c in (50.0, 100.0, 150.0)]
    settings += [("grid-count", {"cell_size": 50.0, "half_life": h}) for h in (1.0, 2.0, 3.0)]
    settings += [("kde", {"cell_size": 50.0, "bandwidth": b}) for b in (100.0, 200.0, 400.0)]
    settings += [("kde", {})]
    for name, params in settings:
        r = backtest(
            train, test, pack, methods=[name], tune=False, method_params={name: params}
        )[name]["coverage"]
        pai = " ".join(f"{r[c]['pai']:6.2f}" for c in (0.01, 0.03, 0.05))
        pei = " ".join(f"{r[c]['pei']:5.3f}" for c in (0.01, 0.03, 0.05))
        label = ", ".join(f"{k}={v:g}" for k, v in params.items()) or "defaults"
        print(f"  {name:10s} {label:32s} PAI 1/3/5%: {pai}   PEI: {pei}")

    print("\n5. a year of city data: 2024-10..12 from the API radius export (central")
    print("   Gloucester) + 2025-01..09 from the street CSVs (whole district); no month twice")
    radius = pack.data_dir / "incidents" / "police-uk-api-radius"
    _, api = read_and_geocode(sorted(radius.glob("*.csv")), pack)
    api = api[api["status"] == "ok"]
    year = pd.concat([filter_incidents(api, start="2024-10", end="2024-12"), pts])
    year = year.reset_index(drop=True)
    print(f"  {len(year):,} incidents on {len(snap_point_counts(year)):,} map points;"
          " target < 1 s per layer")
    time_layers(year, pack, region)
    print("\n   the 33-month radius export alone (a long history on few map points)")
    print(f"  {len(api):,} incidents on {len(snap_point_counts(api)):,} map points")
    time_layers(api.reset_index(drop=True), pack, region, methods=("hdbscan", "dbscan", "kde"))


def _baselines(pts, pack, region) -> dict:
    """A direct library call per method, on the same incidents (every incident)."""
    x, y = point_xy(pts)
    xy = np.column_stack([x, y])
    g100 = make_grid(region, cell_size=100)
    centres = make_grid(region, cell_size=50).cells[["x", "y"]].to_numpy()
    counts100 = grid_count(g100, pts).to_numpy().astype(float)
    w100 = grid_weights(g100)
    h = default_bandwidth(pts)
    table = area_values(pts, load_layer(pack, "lsoa21"))
    wl = area_weights(table)
    ms = default_min_samples(len(pts))

    def np_hist():
        bins_x = np.arange(g100.origin[0], x.max() + 100, 100)
        bins_y = np.arange(g100.origin[1], y.max() + 100, 100)
        return np.histogram2d(x, y, bins=[bins_x, bins_y])

    def sk_kde():
        from sklearn.neighbors import KernelDensity

        kd = KernelDensity(kernel="epanechnikov", bandwidth=h).fit(xy)
        return kd.score_samples(centres)

    def scipy_kde():
        from scipy.stats import gaussian_kde

        return gaussian_kde(xy.T)(centres.T)

    def esda_gi(y_, w_):
        return lambda: esda.G_Local(
            y_, w_, transform="B", star=True, permutations=999, seed=0, n_jobs=1
        )

    def sk_dbscan():
        from sklearn.cluster import DBSCAN

        return DBSCAN(eps=50.0, min_samples=ms).fit(xy)

    def sk_hdbscan():
        from sklearn.cluster import HDBSCAN

        return HDBSCAN(min_cluster_size=ms, min_samples=10, copy=True).fit(xy)

    def lisa():
        y_ = table["count"].to_numpy(float)
        return esda.Moran_Local(y_, wl, permutations=9999, seed=0, n_jobs=1)

    return {
        "grid-count": ("numpy histogram2d, 100 m", np_hist),
        "kde": ("sklearn KernelDensity epanechnikov at the 50 m cell centres", sk_kde),
        "kde-scipy": ("scipy gaussian_kde (Scott) at the 50 m cell centres", scipy_kde),
        "gistar": ("esda.G_Local 999 perms, 100 m grid", esda_gi(counts100, w100)),
        "lsoa-gistar": (
            f"esda.G_Local 999 perms, {len(table)} LSOAs",
            esda_gi(table["count"].to_numpy(float), wl),
        ),
        "lisa": (f"esda.Moran_Local 9999 perms, {len(table)} LSOAs", lisa),
        "dbscan": ("sklearn DBSCAN on every incident, eps 50 m", sk_dbscan),
        "hdbscan": ("sklearn HDBSCAN on every incident", sk_hdbscan),
    }


def time_layers(pts, pack, region, methods=None) -> None:
    """Print each layer's time (``run_method``, labels off) beside its direct library call."""
    base = _baselines(pts, pack, region)
    print(f"  {'method':15s} {'run_method':>10s}  {'library':>8s}  library call")
    for name in methods or METHODS:
        t_ours, layer = best_of(lambda n=name: run_method(n, pts, pack, label=False))
        extra = [k for k in base if k == name or k.startswith(name + "-")]
        calls = [base[k] for k in extra] or [("(no direct library equivalent)", None)]
        for i, (label, call) in enumerate(calls):
            t_base = f"{best_of(call)[0]:7.3f}s" if call is not None else f"{'':8s}"
            ours = f"{t_ours:9.3f}s" if i == 0 else f"{'':10s}"
            tail = f"  ({len(layer.hotspots)} hotspots)" if i == 0 else ""
            print(f"  {name if i == 0 else '':15s} {ours}  {t_base}  {label}{tail}")

if __name__ == "__main__":
    main()
