"""Per-place exceedance test and Gi*'s Poisson window p-value: calibration and power.

Each test says which question it checks: "is this 50 m cell far above an even spread?"
(exceedance) or "is there a cluster of high values here?" (Gi*). Calibration is on
uniform random points inside the real Gloucester district (nothing to find, clipped
edge cells included); power on planted clusters; the named places on the real sample.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.stats import nbinom, poisson

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots import run_method
from geo_ssgp.hotspots.gistar import adjust_pvalues, poisson_window_pvalues
from geo_ssgp.hotspots.grid import grid_count, grid_weights, make_grid, study_region
from geo_ssgp.hotspots.significance import (
    cell_exceedance,
    exceedance_pvalues,
    hotspot_significance,
    nb_dispersion,
    segment_exceedance,
    uniform_points,
)

RUNS = 50  # per configuration; benchmarks/bench_gistar_calibration.py runs 200


def test_exceedance_pvalues_by_hand():
    counts = np.array([0, 1, 5, 12])
    expected = np.array([1.0, 1.0, 1.0, 2.0])
    p = exceedance_pvalues(counts, expected, "poisson")
    assert p[0] == 1.0
    assert p == pytest.approx(
        [1.0, 1 - np.exp(-1), poisson.sf(4, 1.0), poisson.sf(11, 2.0)]
    )
    alpha = nb_dispersion(counts.astype(float), expected)
    assert alpha == pytest.approx(((counts - expected) ** 2 - counts).sum() / 7.0)
    size = 1 / alpha
    assert exceedance_pvalues(counts, expected, "nb") == pytest.approx(
        nbinom.sf(counts - 1, size, size / (size + expected))
    )
    # an overdispersed null asks for more: the NB p-value of a big count is larger
    assert exceedance_pvalues(counts, expected, "nb")[3] > p[3]
    with pytest.raises(BadInput, match="model must be one of"):
        exceedance_pvalues(counts, expected, "normal")


def test_segment_exceedance_expects_in_proportion_to_length():
    # 30 incidents on 1,000 m of street: a 100 m segment expects 3
    counts = np.array([10, 10, 10, 0])
    length = np.array([100.0, 400.0, 400.0, 100.0])
    out = segment_exceedance(counts, length)
    assert out["expected"].tolist() == pytest.approx([3.0, 12.0, 12.0, 3.0])
    assert out["p_value"].tolist() == pytest.approx(
        [poisson.sf(9, 3.0), poisson.sf(9, 12.0), poisson.sf(9, 12.0), 1.0]
    )
    assert out["p_adjusted"].tolist() == pytest.approx(
        adjust_pvalues(out["p_value"].to_numpy(), "fdr_bh").tolist()
    )
    assert (segment_exceedance(np.zeros(3), np.ones(3))["p_value"] == 1.0).all()


def test_clipped_cells_expect_less(box, synth):
    """A cell half outside the region expects half the incidents of a whole cell."""
    half = gpd.GeoDataFrame(geometry=[box.geometry[0].difference(
        shapely.box(synth.X0, synth.Y0, synth.X0 + 25, synth.Y0 + 5000))], crs=box.crs)
    grid = make_grid(half, cell_size=50)
    tests = cell_exceedance(grid, synth.points(synth.uniform(0)))
    area = grid.cells["area_m2"].to_numpy()
    assert set(np.round(area)) == {1250.0, 2500.0}
    ratio = tests["expected"].to_numpy() / area
    assert ratio == pytest.approx(np.full(len(area), ratio[0]))
    assert tests["expected"].sum() == pytest.approx(tests["count"].sum())  # points inside


@pytest.fixture(scope="module")
def district(pack):
    return study_region(pack)


@pytest.mark.slow
def test_quiet_on_uniform_noise_in_the_district(district):
    """Nothing to find: at most 5 % of runs with any significant cell, hot or cold.

    Gi* (Poisson window, two-sided) and the exceedance test, BH over all cells, at
    50 m and 100 m with 14,000 and 1,500 points; clipped edge cells are area-weighted,
    so they are not false cold spots. The 5 % holds over the pooled runs; a single
    configuration's share, from 50 runs, may sample up to 10 %.
    """
    flagged = {"gistar": [], "exceedance": []}
    for cell_size in (50.0, 100.0):
        grid = make_grid(district, cell_size=cell_size)
        w, area = grid_weights(grid), grid.cells["area_m2"].to_numpy()
        for n_points in (14_000, 1_500):
            gi = exceed = 0
            for seed in range(RUNS):
                points = uniform_points(district, n_points, seed)
                counts = grid_count(grid, points).to_numpy()
                p, _ = poisson_window_pvalues(counts, w, area)
                gi += bool((adjust_pvalues(p) < 0.05).any())
                exceed += bool((cell_exceedance(grid, points)["p_adjusted"] < 0.05).any())
            flagged["gistar"].append(gi / RUNS)
            flagged["exceedance"].append(exceed / RUNS)
    for test, shares in flagged.items():
        assert np.mean(shares) <= 0.05, (test, shares)
        assert max(shares) <= 0.10, (test, shares)


def test_planted_cluster_is_found_by_both_tests(district):
    """Power: 40 incidents on one map point and 60 in a 150 m disc over 14,000 uniform."""
    noise = uniform_points(district, 14_000, 1)
    centre = shapely.Point(383300.0, 218400.0)
    assert district.geometry[0].contains(centre)
    rng = np.random.default_rng(2)
    r, t = 150 * np.sqrt(rng.uniform(0, 1, 60)), rng.uniform(0, 2 * np.pi, 60)
    xy = np.vstack([np.column_stack([centre.x + r * np.cos(t), centre.y + r * np.sin(t)]),
                    np.repeat([[centre.x + 10, centre.y + 10]], 40, axis=0)])
    planted = gpd.GeoDataFrame(
        {"month": np.full(len(xy), np.datetime64("2025-01-01"))},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700")
    points = pd.concat([noise, planted], ignore_index=True)
    layer = run_method("gistar", points, region=district, label=False, permutations=0)
    hot = layer.hotspots
    assert len(hot) >= 1 and hot.geometry.distance(centre).min() < 100
    assert not layer.surface["hot_cold"].str.startswith("cold").any()
    tested = hotspot_significance(
        gpd.GeoDataFrame(geometry=[centre.buffer(20), shapely.Point(376000, 214000)],
                         crs="EPSG:27700"),
        points, district)
    assert list(tested["significant"]) == [True, False]


def test_every_hotspot_carries_p_value_p_adjusted_significant(sample_ok, pack):
    layer = run_method("default", sample_ok, pack, label=False)
    hot = layer.hotspots
    assert {"p_value", "p_adjusted", "significant"} <= set(hot.columns)
    assert ((hot["p_value"] >= 0) & (hot["p_value"] <= hot["p_adjusted"])).all()
    assert (hot["significant"] == (hot["p_adjusted"] < 0.05)).all()
    assert hot.sort_values("rank").head(15)["significant"].all()
    assert layer.parameters["significance"]["model"] == "poisson"
    assert "far above" in layer.parameters["significance"]["question"]
