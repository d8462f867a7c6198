"""Getis-Ord Gi* on grid cells and LSOAs: p-values, multiple testing, direct esda calls.

The calibration claims behind the p-values are shown here on seeded runs;
``benchmarks/bench_gistar_calibration.py`` prints their rates over many runs.
"""

from __future__ import annotations

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.stats import poisson

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots import METHODS, run_method
from geo_ssgp.hotspots.gistar import (
    adjust_pvalues,
    classify,
    convolve_sparse,
    exact_pvalues,
    gistar_area_hotspots,
    gistar_grid_hotspots,
    gistar_table,
    poisson_window_pvalues,
)
from geo_ssgp.hotspots.grid import (
    grid_count,
    grid_weights,
    make_grid,
    star_weights,
    study_region,
)

# ---------------------------------------------------------------------------------------
# Calibration on pure noise


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_uniform_points_give_no_significant_gistar_cell_after_fdr(seed, synth, box):
    layer = gistar_grid_hotspots(synth.points(synth.uniform(seed)), box, permutations=99, seed=seed)
    surface = layer.surface
    assert len(surface) == 2500  # 100 m default cells over 5 km
    assert layer.hotspots.empty
    assert not surface["hot_cold"].str.startswith("hot").any()
    # the raw (unadjusted) p-values do flag cells: the adjustment is doing the work
    assert ((surface["p"] < 0.05) & (surface["z"] > 0)).sum() > 10


def test_normal_p_values_flag_noise_that_exact_p_values_do_not(synth, box):
    """Why ``exact`` is the default: the normal approximation finds hot cells in noise.

    One seeded run of 2,000 uniform points, the same cells and z-scores; only the p-value
    differs. (Over seeds 0..29 the normal approximation flags 16 runs, the exact p-value none;
    see the benchmark.)
    """
    points = synth.points(synth.uniform(10))
    norm = gistar_grid_hotspots(points, box, permutations=0, p_value="norm")
    exact = gistar_grid_hotspots(points, box, permutations=0, p_value="exact")
    assert np.array_equal(norm.surface["z"], exact.surface["z"])
    assert norm.surface["hot_cold"].str.startswith("hot").sum() == 7
    assert not exact.surface["hot_cold"].str.startswith("hot").any()
    assert exact.hotspots.empty


# ---------------------------------------------------------------------------------------
# Multiple testing and classes


def test_benjamini_hochberg_matches_esda_fdr_and_hand_values():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2, np.nan])
    adj = adjust_pvalues(p, "fdr_bh")
    assert adj[:5] == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.2])
    assert np.isnan(adj[5])
    assert adjust_pvalues(p, "bonferroni")[:5] == pytest.approx([0.05, 0.2, 0.15, 0.025, 1.0])
    assert adjust_pvalues(p, "none")[:5] == pytest.approx(p[:5])
    rng = np.random.default_rng(1)
    raw = np.concatenate([rng.uniform(0, 1, 900), rng.uniform(0, 1e-4, 100)])
    cut = esda.fdr(raw, 0.05)
    assert ((adjust_pvalues(raw) <= 0.05) == (raw <= cut)).all()
    with pytest.raises(BadInput, match="p_adjust") as err:
        adjust_pvalues(raw, "holm")
    assert err.value.param == "p_adjust"


def test_adjust_pvalues_edge_cases_keep_shape_and_nan():
    assert adjust_pvalues(np.array([])).shape == (0,)
    assert np.isnan(adjust_pvalues(np.array([np.nan, np.nan]))).all()
    assert adjust_pvalues(np.array([np.nan, 0.02])).tolist()[1] == pytest.approx(0.02)
    ties = adjust_pvalues(np.array([0.01, 0.01, 0.01, 0.5]))
    assert ties.tolist() == pytest.approx([0.01 * 4 / 3] * 3 + [0.5])
    assert adjust_pvalues(np.array([0.9, 0.8]), "bonferroni").tolist() == [1.0, 1.0]


def test_classes_by_adjusted_p_and_sign():
    z = np.array([3.0, 2.0, 1.5, -3.0, 2.0])
    p = np.array([0.001, 0.03, 0.08, 0.002, 0.5])
    assert classify(z, p).tolist() == [
        "hot 99%",
        "hot 95%",
        "hot 90%",
        "cold 99%",
        "not significant",
    ]


# ---------------------------------------------------------------------------------------
# p-values


def test_exact_p_values_agree_with_monte_carlo_total_randomisation():
    rng = np.random.default_rng(4)
    w = libpysal.weights.lat2W(25, 25, rook=False)
    y = rng.poisson(1.5, 625)
    y[rng.integers(0, 625, 6)] += 25  # heavy tail, like snap points
    p, upper = exact_pvalues(y, w)
    adj = w.sparse.tocsr()
    window = np.asarray(adj @ y).ravel() + y
    size = np.asarray(adj.sum(axis=1)).ravel().astype(int) + 1
    sims = 20000
    draws = rng.choice(y, size=(sims, 9), replace=True)
    for m in (4, 6, 9):
        csum = np.sort(draws[:, :m].sum(axis=1))
        sel = size == m
        mc = 1.0 - np.searchsorted(csum, window[sel], side="left") / sims
        assert np.abs(mc - upper[sel]).max() < 0.02
    assert ((p >= 0) & (p <= 1)).all()


def test_exact_p_values_approach_the_normal_approximation_for_large_counts():
    rng = np.random.default_rng(8)
    w = libpysal.weights.lat2W(30, 30, rook=False)
    y = rng.poisson(400, 900).astype(float)
    table = gistar_table(y, w, permutations=0, p_value="exact")
    mid = (table["p_norm"] > 0.01) & (table["p_norm"] < 0.9)
    assert np.abs(table.loc[mid, "p_exact"] - table.loc[mid, "p_norm"]).max() < 0.03


def test_gistar_rejects_exact_p_for_rates_and_unknown_options():
    w = libpysal.weights.lat2W(5, 5)
    with pytest.raises(BadInput, match="integer counts"):
        gistar_table(np.linspace(0.1, 2.5, 25), w, permutations=0, p_value="exact")
    with pytest.raises(BadInput, match="p_value"):
        gistar_table(np.arange(25), w, permutations=0, p_value="bootstrap")
    table = gistar_table(np.linspace(0.1, 2.5, 25), w, permutations=99)
    assert table["p"].equals(table["p_sim"])


# ---------------------------------------------------------------------------------------
# Real data: Gloucester 2025-01..09


def _full_boxes(grid) -> gpd.GeoDataFrame:
    """Unclipped square cells rebuilt independently from the lattice indices."""
    x0, y0 = grid.origin
    s = grid.cell_size
    col, row = grid.cells["col"].to_numpy(), grid.cells["row"].to_numpy()
    geoms = shapely.box(x0 + col * s, y0 + row * s, x0 + (col + 1) * s, y0 + (row + 1) * s)
    return gpd.GeoDataFrame(geometry=geoms, crs="EPSG:27700")


def test_real_gistar_equals_a_direct_esda_call(sample_ok, pack):
    layer = run_method("gistar", sample_ok, pack, label=False, permutations=99, seed=3)
    grid = make_grid(study_region(pack), cell_size=layer.parameters["cell_size_m"])
    cells = _full_boxes(grid)
    xy = sample_ok.geometry
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=xy, crs=xy.crs), cells, predicate="within")
    counts = joined.groupby("index_right").size().reindex(cells.index, fill_value=0)
    assert counts.sum() == len(sample_ok) == layer.parameters["n_incidents"]
    assert (layer.surface["count"].to_numpy() == counts.to_numpy()).all()
    w = libpysal.weights.Queen.from_dataframe(cells, use_index=False)
    w.transform = "B"
    direct = esda.G_Local(
        counts.to_numpy().astype(float),
        w,
        transform="B",
        star=True,
        permutations=99,
        seed=3,
        n_jobs=1,
    )
    assert np.allclose(layer.surface["z"].to_numpy(), direct.Zs)
    assert np.allclose(layer.surface["p_sim"].to_numpy(), np.minimum(1, 2 * direct.p_sim))
    assert np.allclose(layer.surface["p_norm"].to_numpy(), np.minimum(1, 2 * direct.p_norm))
    hot = layer.hotspots
    assert len(hot) >= 1 and (hot["hot_cold"].str.startswith("hot")).all()
    assert (hot["p_adj"] < 0.05).all() and hot["z"].iloc[0] == layer.surface["z"].max()


def test_real_lsoa_gistar_equals_a_direct_esda_call(sample_ok, pack, real_lsoa_counts):
    lsoa, counts, w = real_lsoa_counts
    y = counts.to_numpy().astype(float)
    gi = run_method("lsoa-gistar", sample_ok, pack, label=False, permutations=0)
    assert gi.parameters["areas"] == "lsoa21" and gi.parameters["n_areas"] == len(lsoa) == 82
    surface = gi.surface.set_index("code").loc[lsoa["code"]]
    assert (surface["count"].to_numpy() == counts.to_numpy()).all()
    direct = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    assert np.allclose(surface["z"].to_numpy(), direct.Zs)
    assert set(gi.hotspots["code"]) <= set(surface.index[surface["z"] > 0])


def test_real_area_methods_accept_rates(sample_ok, pack):
    layer = run_method(
        "lsoa-gistar", sample_ok, pack, label=False, value="eb_rate", permutations=199
    )
    assert layer.parameters["variable"].startswith("empirical-Bayes")
    assert layer.parameters["p_value"].startswith("two-sided conditional permutation")
    assert layer.surface["population"].notna().all()
    assert layer.surface["value"].equals(layer.surface["eb_rate_per_1000"])
    assert METHODS["lsoa-gistar"].func is gistar_area_hotspots


def test_poisson_window_pvalues_by_hand_and_clipped_cells_expect_less():
    """Window count vs Poisson(lambda x window area): a half cell expects half as much."""
    w = libpysal.weights.lat2W(1, 3, rook=True)  # a row of three cells: 0-1-2
    y = np.array([0, 4, 8])
    area = np.array([50.0, 100.0, 100.0])
    p, side = poisson_window_pvalues(y, w, area)
    lam = 12 / 250
    expected = np.array([150.0, 250.0, 200.0]) * lam
    s = np.array([4, 12, 12])
    assert side == pytest.approx(s - expected)
    two = 2 * np.minimum(poisson.sf(s - 1, expected), poisson.cdf(s, expected))
    assert p == pytest.approx(np.minimum(two, 1.0))


def test_real_gistar_finds_the_clusters_at_50m(sample_ok, pack):
    """With the Poisson window p-value Gi* flags clusters on snap-point data.

    The exact total-randomisation p-value flagged one hotspot at 100 m and none at 50 m.
    """
    layer = gistar_grid_hotspots(sample_ok, study_region(pack), cell_size=50, permutations=0)
    assert layer.parameters["p_value"].startswith("two-sided area-weighted Poisson")
    assert len(layer.hotspots) > 50
    assert layer.hotspots["p_adj"].max() < 0.05
    assert layer.hotspots["count"].sum() > 0.5 * len(sample_ok)


def test_permutations_run_only_for_the_permutation_p_value(synth, box, planted):
    # the default (Poisson window) p-value is analytic: no permutations, same result
    plain = gistar_grid_hotspots(planted, box)
    permuted = gistar_grid_hotspots(planted, box, permutations=99, seed=1)
    assert plain.parameters["permutations"] == 0 and permuted.parameters["permutations"] == 99
    assert plain.surface["p_sim"].isna().all() and permuted.surface["p_sim"].notna().all()
    for col in ("z", "p", "p_adj", "hot_cold"):
        assert plain.surface[col].equals(permuted.surface[col])
    assert len(plain.hotspots) == len(permuted.hotspots) >= 1
    # a permutation p-value (rates) still gets its 999 permutations by default
    rates = gistar_grid_hotspots(planted, box, p_value="sim")
    assert rates.parameters["permutations"] == 999


def test_sparse_convolution_equals_numpy_convolve():
    rng = np.random.default_rng(3)
    kernel = np.zeros(400)
    kernel[rng.choice(400, 12, replace=False)] = rng.random(12)
    kernel /= kernel.sum()
    pmf = np.convolve(kernel, kernel)
    assert convolve_sparse(pmf, kernel) == pytest.approx(np.convolve(pmf, kernel), abs=1e-15)
    assert convolve_sparse(np.array([1.0]), kernel).tolist() == kernel.tolist()


def test_cached_star_weights_give_the_same_gistar_as_fresh_weights(synth, box, planted):
    """Gi* on the grid's cached window weights (self-weight included once, reused by every
    filter on that grid) equals Gi* on fresh neighbour weights, where esda adds the
    self-weight itself: every statistic, on a planted cluster and on uniform noise."""
    grid = make_grid(box, cell_size=100)
    area = grid.cells["area_m2"].to_numpy()
    uniform = synth.points(synth.uniform(5))
    for points in (planted, uniform):
        y = grid_count(grid, points).to_numpy()
        for p_value in ("poisson", "sim"):
            options = {"area": area, "p_value": p_value, "permutations": 99, "seed": 2}
            cached = gistar_table(y, star_weights(grid), **options)
            fresh = gistar_table(y, grid_weights(grid), **options)
            pd.testing.assert_frame_equal(cached, fresh)
    assert star_weights(make_grid(box, cell_size=100)) is star_weights(grid)


def test_a_layer_on_reused_weights_equals_one_on_new_weights(synth, box, planted):
    """Two filters in a row on the same grid, then the cache emptied: the same layer."""
    uniform = synth.points(synth.uniform(6))
    first = gistar_grid_hotspots(planted, box, cell_size=100)
    gistar_grid_hotspots(uniform, box, cell_size=100)  # another "filter" on the same weights
    again = gistar_grid_hotspots(planted, box, cell_size=100)
    make_grid(box, cell_size=100)._derived.clear()
    fresh = gistar_grid_hotspots(planted, box, cell_size=100)
    for layer in (again, fresh):
        pd.testing.assert_frame_equal(layer.surface, first.surface)
        assert layer.hotspots.drop(columns="geometry").equals(
            first.hotspots.drop(columns="geometry"))
        assert layer.hotspots.geometry.geom_equals(first.hotspots.geometry).all()
    assert len(first.hotspots) >= 1
