"""Hotspot methods: grids, KDE, Gi*, LISA, clusters and the layer contract.

Constructed data with known answers (a planted cluster, uniform points, snap points)
and the real 2025-01..09 Gloucester sample through the ingest -> geocode pipeline.
"""

from __future__ import annotations

import json
import math

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_ssgp.hotspots import DEFAULT_METHOD, METHODS, resolve_method, run_method
from geo_ssgp.hotspots.clusters import dbscan_hotspots, default_min_samples, weighted_kth_distance
from geo_ssgp.hotspots.gistar import (
    adjust_pvalues,
    classify,
    exact_pvalues,
    gistar_area_hotspots,
    gistar_grid_hotspots,
    gistar_table,
)
from geo_ssgp.hotspots.grid import (
    CELL_SIZE_RULE,
    default_cell_size,
    grid_adjacency,
    grid_count,
    grid_weights,
    make_grid,
    select_top_cells,
    snap_point_counts,
    snap_summary,
    study_region,
)
from geo_ssgp.hotspots.kde import bandwidth_nrd, default_bandwidth, kde_hotspots, quartic_density
from geo_ssgp.hotspots.layer import HOTSPOT_COLUMNS, json_safe
from geo_ssgp.hotspots.lisa import lisa_hotspots
from geo_ssgp.hotspots.rates import area_values, count_in_areas

X0, Y0 = 300000.0, 200000.0
CENTRE = shapely.Point(X0 + 2500.0, Y0 + 2500.0)


# ---------------------------------------------------------------------------------------
# Constructed data


def _points(xy: np.ndarray, month: str = "2025-01-01") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"month": np.full(len(xy), np.datetime64(month))},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    )


@pytest.fixture(scope="module")
def box():
    """A 5 x 5 km study region."""
    return gpd.GeoDataFrame(
        {"code": ["BOX"], "name": ["Box"]},
        geometry=[shapely.box(X0, Y0, X0 + 5000, Y0 + 5000)],
        crs="EPSG:27700",
    )


@pytest.fixture(scope="module")
def squares():
    """100 square 'areas' of 500 m covering the box (codes A<col><row>)."""
    ii, jj = (a.ravel() for a in np.meshgrid(np.arange(10), np.arange(10)))
    return gpd.GeoDataFrame(
        {"code": [f"A{i}{j}" for i, j in zip(ii, jj, strict=True)], "name": "area"},
        geometry=shapely.box(
            X0 + ii * 500, Y0 + jj * 500, X0 + ii * 500 + 500, Y0 + jj * 500 + 500
        ),
        crs="EPSG:27700",
    )


def _uniform(seed: int, n: int = 2000) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 5000, (n, 2)) + [X0, Y0]


def _disc(seed: int, centre: tuple[float, float], n: int = 200, radius: float = 150.0):
    rng = np.random.default_rng(seed)
    r = radius * np.sqrt(rng.uniform(0, 1, n))
    theta = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([centre[0] + r * np.cos(theta), centre[1] + r * np.sin(theta)])


@pytest.fixture(scope="module")
def planted():
    """2,000 uniform points over the box plus 200 in a 150 m disc at its centre.

    The centre is a corner shared by four 500 m areas, so at area level the cluster
    makes four adjacent high areas (a high-high cluster), not one outlier.
    """
    xy = np.vstack([_uniform(42), _disc(7, (CENTRE.x, CENTRE.y))])
    return _points(xy)


@pytest.mark.parametrize("name", list(METHODS))
def test_planted_cluster_is_the_top_hotspot_of_every_method(name, planted, box, squares):
    layer = run_method(name, planted, region=box, areas=squares)
    assert layer.method == name
    assert len(layer.hotspots) >= 1
    top = layer.hotspots.iloc[0]
    assert top["rank"] == 1
    assert top.geometry.distance(CENTRE) < 1e-6  # covers the centre (areas: on their corner)
    assert top["n_incidents"] >= 40
    assert list(layer.hotspots.columns[: len(HOTSPOT_COLUMNS)]) == HOTSPOT_COLUMNS
    assert (layer.hotspots["rank"].to_numpy() == np.arange(1, len(layer.hotspots) + 1)).all()
    assert layer.hotspots["score"].is_monotonic_decreasing
    assert layer.hotspots.crs == "EPSG:27700"
    assert layer.parameters["method"] == name
    assert layer.parameters["n_incidents"] == 2200


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_uniform_points_give_no_significant_gistar_cell_after_fdr(seed, box):
    layer = gistar_grid_hotspots(_points(_uniform(seed)), box, permutations=99, seed=seed)
    surface = layer.surface
    assert len(surface) == 2500  # 100 m default cells over 5 km
    assert layer.hotspots.empty
    assert not surface["hot_cold"].str.startswith("hot").any()
    # the raw (unadjusted) p-values do flag cells: the adjustment is doing the work
    assert ((surface["p"] < 0.05) & (surface["z"] > 0)).sum() > 10


def test_uniform_points_with_normal_p_values_show_why_exact_is_the_default(box):
    """The normal approximation flags hot cells on pure noise after FDR in some runs."""
    flagged = 0
    for seed in range(30):
        layer = gistar_grid_hotspots(_points(_uniform(seed)), box, permutations=0, p_value="norm")
        flagged += int(layer.surface["hot_cold"].str.startswith("hot").any())
    assert flagged >= 5


def test_lisa_quadrants_for_a_cluster_inside_one_area_and_across_four(box, squares):
    inside = _points(np.vstack([_uniform(5), _disc(9, (X0 + 1250, Y0 + 1250), radius=100)]))
    layer = lisa_hotspots(inside, squares, permutations=999, seed=1)
    row = layer.surface.set_index("code").loc["A22"]
    assert row["quadrant"] == "HL"  # a high area with ordinary neighbours is an outlier
    assert "A22" not in set(layer.hotspots["code"])
    corner = _points(np.vstack([_uniform(5), _disc(9, (CENTRE.x, CENTRE.y))]))
    layer = lisa_hotspots(corner, squares, permutations=999, seed=1)
    assert set(layer.hotspots["code"]) == {"A44", "A45", "A54", "A55"}
    assert (layer.hotspots["quadrant"] == "HH").all()
    assert layer.surface["score"].notna().sum() == (layer.surface["quadrant"] == "HH").sum()


# ---------------------------------------------------------------------------------------
# Grids


def test_default_cell_size_follows_the_sfhotspot_rule():
    assert default_cell_size(shapely.box(0, 0, 5000, 5000)) == 100.0
    assert default_cell_size(shapely.box(0, 0, 8150, 11000)) == 100.0  # 163 m -> 100
    assert default_cell_size(shapely.box(0, 0, 30000, 12000)) == 200.0  # 240 m -> 200
    assert default_cell_size(shapely.box(0, 0, 3000, 9000)) == 60.0  # < 100 m: unrounded


def test_square_grid_counts_match_a_spatial_join(box):
    xy = _uniform(3, 5000)
    pts = _points(xy)
    grid = make_grid(box, cell_size=250)
    assert grid.cell_size_rule == "user"
    assert len(grid) == 400
    counts = grid_count(grid, pts)
    joined = gpd.sjoin(pts, grid.cells, predicate="within")
    expected = joined.groupby("index_right").size().reindex(grid.cells.index, fill_value=0)
    assert (counts.to_numpy() == expected.to_numpy()).all()
    assert counts.sum() == 5000 and counts.attrs["outside_grid"] == 0
    outside = _points(np.array([[X0 - 10.0, Y0 + 10.0]]))
    assert grid_count(grid, outside).attrs["outside_grid"] == 1


def test_grid_over_an_irregular_region_is_clipped_and_keeps_the_area():
    region = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0).buffer(1800)], crs="EPSG:27700")
    grid = make_grid(region, cell_size=200)
    assert grid.cell_size_rule == CELL_SIZE_RULE or grid.cell_size == 200
    assert grid.region_area_m2 == pytest.approx(region.area.iloc[0])
    assert grid.cells["area_m2"].sum() == pytest.approx(grid.region_area_m2, rel=1e-9)
    assert (grid.cells["area_m2"] <= grid.cells["full_area_m2"] + 1e-6).all()
    assert (grid.cells.geometry.within(region.geometry.iloc[0].buffer(1e-6))).all()
    full = make_grid(region, cell_size=200, clip=False)
    assert full.cells.geometry.area.eq(40000).all()
    assert full.cells["area_m2"].sum() == pytest.approx(grid.region_area_m2, rel=1e-9)


def test_grid_weights_equal_libpysal_contiguity_of_the_cells():
    region = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0).buffer(1500)], crs="EPSG:27700")
    grid = make_grid(region, cell_size=150, clip=False)
    for rule, builder in (("queen", libpysal.weights.Queen), ("rook", libpysal.weights.Rook)):
        ours = grid_weights(grid, rule)
        theirs = builder.from_dataframe(grid.cells, use_index=False)
        assert ours.n == theirs.n == len(grid)
        assert (ours.sparse != theirs.sparse).nnz == 0


def test_hex_grid_locates_points_in_their_hexagon_and_has_six_neighbours(box):
    grid = make_grid(box, cell_size=300, kind="hex")
    full = grid.cells["full_area_m2"]
    assert full.to_numpy() == pytest.approx(math.sqrt(3) / 2 * 300**2)
    assert grid.cells["area_m2"].sum() == pytest.approx(25e6)
    pts = _points(_uniform(11, 3000))
    pos = grid.locate(*(np.asarray(a) for a in (pts.geometry.x, pts.geometry.y)))
    assert (pos >= 0).all()
    contains = shapely.contains(grid.cells.geometry.to_numpy()[pos], pts.geometry.to_numpy())
    assert contains.mean() > 0.999  # only points on a shared edge may go either way
    adj = grid_adjacency(grid)
    degree = np.asarray(adj.sum(axis=1)).ravel()
    interior = grid.cells["area_m2"].to_numpy() >= grid.cells["full_area_m2"].to_numpy() - 1e-6
    assert degree.max() == 6 and (degree[interior] >= 4).all()
    src, dst = adj.nonzero()
    d = np.hypot(
        grid.cells["x"].to_numpy()[src] - grid.cells["x"].to_numpy()[dst],
        grid.cells["y"].to_numpy()[src] - grid.cells["y"].to_numpy()[dst],
    )
    assert d == pytest.approx(300.0)


def test_select_top_cells_respects_the_area_budget_and_breaks_ties_by_seed():
    score = np.array([5, 4, 4, 4, 4, 1, np.nan, 0.5])
    area = np.ones(8)
    mask = select_top_cells(score, area, 0.3, 10.0, seed=0)
    assert mask.sum() == 3 and mask[0] and not mask[6]
    again = select_top_cells(score, area, 0.3, 10.0, seed=0)
    assert (mask == again).all()
    picks = {tuple(select_top_cells(score, area, 0.3, 10.0, seed=s)) for s in range(20)}
    assert len(picks) > 1  # equal scores are not always resolved the same way
    assert select_top_cells(score, area, 1.0, 8.0).sum() == 7  # NaN never selected
    with pytest.raises(ValueError, match="coverage"):
        select_top_cells(score, area, 0.0, 10.0)


# ---------------------------------------------------------------------------------------
# Snap points


def test_snap_points_group_identical_coordinates_and_flag_single_point_hotspots():
    xy = np.vstack(
        [np.tile([[X0 + 100, Y0 + 100]], (90, 1)), [[X0 + 120, Y0 + 100]] * 5, [[X0 + 900, Y0]]]
    )
    pts = _points(xy)
    snaps = snap_point_counts(pts)
    assert snaps["n_incidents"].tolist() == [90, 5, 1]
    assert (snaps["x"].iloc[0], snaps["y"].iloc[0]) == (X0 + 100, Y0 + 100)
    hot = gpd.GeoDataFrame(
        geometry=[
            shapely.box(X0, Y0, X0 + 200, Y0 + 200),
            shapely.box(X0 + 800, Y0 - 50, X0 + 1000, Y0 + 50),
        ],
        crs="EPSG:27700",
    )
    summary = snap_summary(hot, pts)
    assert summary["n_incidents"].tolist() == [95, 1]
    assert summary["snap_points"].tolist() == [2, 1]
    assert summary["top_snap_share"].iloc[0] == pytest.approx(90 / 95)
    assert summary["single_snap_point"].tolist() == [True, True]


def test_grid_count_hotspots_carry_snap_point_columns(box):
    xy = np.vstack([_uniform(1, 300), np.tile([[X0 + 1210.0, Y0 + 3310.0]], (60, 1))])
    layer = run_method("grid-count", _points(xy), region=box)
    top = layer.hotspots.iloc[0]
    assert top.geometry.contains(shapely.Point(X0 + 1210, Y0 + 3310))
    assert top["single_snap_point"] and top["snap_points"] <= 3
    assert top["n_incidents"] >= 60 and top["count"] == top["n_incidents"]


# ---------------------------------------------------------------------------------------
# KDE


def test_bandwidth_nrd_matches_mass():
    # MASS::bandwidth.nrd(1:10) = 4 * 1.06 * min(sd, IQR/1.34) * 10^(-1/5)
    assert bandwidth_nrd(np.arange(1, 11)) == pytest.approx(8.0998, abs=1e-3)
    pts = _points(
        np.column_stack([np.arange(1.0, 11.0) * 100 + X0, np.arange(1.0, 11.0) * 50 + Y0])
    )
    assert default_bandwidth(pts) == pytest.approx((809.98 + 404.99) / 2, abs=0.1)


def test_quartic_density_matches_the_formula_and_integrates_to_the_count():
    rng = np.random.default_rng(0)
    px, py = rng.uniform(0, 1000, 50), rng.uniform(0, 1000, 50)
    w = rng.integers(1, 5, 50)
    cx, cy = rng.uniform(0, 1000, 200), rng.uniform(0, 1000, 200)
    h = 250.0
    d2 = (cx[:, None] - px[None, :]) ** 2 + (cy[:, None] - py[None, :]) ** 2
    k = np.where(d2 < h * h, 3 / (math.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0.0)
    assert quartic_density(cx, cy, px, py, w, h) == pytest.approx(k @ w, rel=1e-10)
    gx, gy = (
        a.ravel() + 2.5 for a in np.meshgrid(np.arange(-300, 1300, 5.0), np.arange(-300, 1300, 5.0))
    )
    total = quartic_density(gx, gy, px, py, w, h).sum() * 25.0
    assert total == pytest.approx(w.sum(), rel=1e-3)


def test_kde_layer_records_bandwidth_rule_and_override(box, planted):
    layer = kde_hotspots(planted, box)
    p = layer.parameters
    assert p["kernel"] == "quartic (biweight)" and p["cell_size_m"] == 50.0
    assert p["bandwidth_rule"].startswith("nrd") and p["bandwidth_m"] == pytest.approx(
        default_bandwidth(planted)
    )
    assert layer.surface["density_per_km2"].idxmax() == layer.surface.distance(CENTRE).idxmin()
    fixed = kde_hotspots(planted, box, bandwidth=200.0, coverage=0.01)
    assert fixed.parameters["bandwidth_rule"] == "user" and fixed.parameters["bandwidth_m"] == 200
    assert fixed.surface.loc[fixed.surface["hotspot"], "area_m2"].sum() <= 0.01 * 25e6 + 1e-6


# ---------------------------------------------------------------------------------------
# Gi* and multiple testing


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
    with pytest.raises(ValueError, match="p_adjust"):
        adjust_pvalues(raw, "holm")


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
    with pytest.raises(ValueError, match="integer counts"):
        gistar_table(np.linspace(0.1, 2.5, 25), w, permutations=0, p_value="exact")
    with pytest.raises(ValueError, match="p_value"):
        gistar_table(np.arange(25), w, permutations=0, p_value="bootstrap")
    table = gistar_table(np.linspace(0.1, 2.5, 25), w, permutations=99)
    assert table["p"].equals(table["p_sim"])


# ---------------------------------------------------------------------------------------
# Clusters


def test_weighted_dbscan_equals_dbscan_on_every_duplicated_point():
    from sklearn.cluster import DBSCAN

    rng = np.random.default_rng(2)
    sites = rng.integers(0, 2000, (120, 2)).astype(float) + [X0, Y0]  # whole metres
    reps = rng.integers(1, 12, 120)
    xy = np.repeat(sites, reps, axis=0)
    pts = _points(xy)
    # no distance between whole-metre sites equals 130.5 m, so grouping is exact
    layer = dbscan_hotspots(pts, eps=130.5, min_samples=15)
    full = DBSCAN(eps=130.5, min_samples=15).fit(xy).labels_
    # same clusters and the same noise; a border point reachable from two clusters may
    # join either (DBSCAN's border assignment depends on point order)
    assert len(layer.hotspots) == len(set(full) - {-1}) >= 5
    assert layer.hotspots["cluster_incidents"].sum() == (full >= 0).sum()
    sizes = np.sort(pd.Series(full[full >= 0]).value_counts().to_numpy())
    assert np.abs(np.sort(layer.hotspots["cluster_incidents"].to_numpy()) - sizes).max() <= 11
    assert layer.parameters["eps_m"] == 130.5
    assert layer.parameters["eps_rule"] == "user" and layer.parameters["min_samples"] == 15


def test_dbscan_rules_and_weighted_k_distance():
    assert default_min_samples(10) == 5 and default_min_samples(400) == 20
    assert default_min_samples(14000) == 50 and default_min_samples(3) == 3
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [30.0, 0.0]])
    w = np.array([3, 1, 2])
    # from (0,0): 2 others at 0 m, then 1 at 10 m, then 2 at 30 m
    assert weighted_kth_distance(xy, w, 2).tolist() == [0.0, 10.0, 20.0]
    assert weighted_kth_distance(xy, w, 3).tolist() == [10.0, 10.0, 30.0]


# ---------------------------------------------------------------------------------------
# Rates


def test_area_rates_and_empirical_bayes(squares):
    xy = np.vstack([_uniform(6, 500), _disc(1, (X0 + 250, Y0 + 250), n=100, radius=100)])
    pop = pd.Series(1000.0, index=squares["code"])
    pop["A00"] = 50.0
    table = area_values(_points(xy), squares, value="eb_rate", population=pop)
    row = table.set_index("code").loc["A00"]
    assert row["rate_per_1000"] == pytest.approx(row["count"] / 50 * 1000)
    eb = esda.smoothing.Empirical_Bayes(table["count"].to_numpy(), table["population"].to_numpy())
    assert table["eb_rate_per_1000"].to_numpy() == pytest.approx(np.ravel(eb.r) * 1000)
    assert row["eb_rate_per_1000"] < row["rate_per_1000"]  # shrunk toward the mean
    assert table["value"].equals(table["eb_rate_per_1000"])
    assert table["count"].sum() == 600
    with pytest.raises(ValueError, match="population"):
        area_values(_points(xy), squares, value="rate")


def test_count_in_areas_counts_boundary_points_once(squares):
    pts = _points(np.array([[X0 + 500.0, Y0 + 500.0], [X0 + 10.0, Y0 + 10.0]]))
    counts = count_in_areas(pts, squares)
    assert counts.sum() == 2


# ---------------------------------------------------------------------------------------
# Registry and layer contract


def test_registry_resolves_default_and_rejects_unknown_methods():
    assert resolve_method("default") == DEFAULT_METHOD
    assert DEFAULT_METHOD in METHODS
    assert set(METHODS) == {
        "grid-count",
        "kde",
        "gistar",
        "lsoa-gistar",
        "lisa",
        "dbscan",
        "hdbscan",
    }
    with pytest.raises(ValueError, match="unknown hotspot method 'hotness'.*grid-count"):
        resolve_method("hotness")
    with pytest.raises(ValueError, match="needs a pack or a region"):
        run_method("kde", _points(_uniform(0, 10)))


def test_cell_scores_on_the_layers_own_grid_are_its_surface(box, planted):
    layer = gistar_grid_hotspots(planted, box, permutations=0)
    grid = make_grid(box)
    assert layer.cell_scores(grid).to_numpy() == pytest.approx(layer.surface["z"].to_numpy())
    clusters = run_method("dbscan", planted, region=box)
    scores = clusters.cell_scores(grid)
    assert scores.notna().sum() >= 4
    assert scores.max() == pytest.approx(clusters.hotspots["score"].iloc[0])


def test_json_safe_turns_numpy_and_nan_into_json():
    value = {"a": np.int64(3), "b": np.float32(1.5), "c": float("nan"), "d": np.array([1, 2])}
    value["e"] = pd.Timestamp("2025-01-01")
    value["f"] = (np.bool_(True), None)
    out = json_safe(value)
    assert out == {
        "a": 3,
        "b": 1.5,
        "c": None,
        "d": [1, 2],
        "e": "2025-01-01T00:00:00",
        "f": [True, None],
    }
    json.dumps(out, allow_nan=False)


# ---------------------------------------------------------------------------------------
# Real data: Gloucester 2025-01..09 through the pipeline


@pytest.fixture(scope="session")
def gloucester_incidents(pack, sample_files):
    """Geocoded police.uk incidents inside Gloucester (status ok)."""
    from geo_ssgp.geocode import geocode
    from geo_ssgp.incidents import read_incidents

    result = read_incidents(sample_files, pack=pack)
    geo = geocode(result.incidents, pack)
    return geo[geo["status"] == "ok"].reset_index(drop=True)


def _full_boxes(grid) -> gpd.GeoDataFrame:
    """Unclipped square cells rebuilt independently from the lattice indices."""
    x0, y0 = grid.origin
    s = grid.cell_size
    col, row = grid.cells["col"].to_numpy(), grid.cells["row"].to_numpy()
    geoms = shapely.box(x0 + col * s, y0 + row * s, x0 + (col + 1) * s, y0 + (row + 1) * s)
    return gpd.GeoDataFrame(geometry=geoms, crs="EPSG:27700")


def test_real_gistar_equals_a_direct_esda_call(gloucester_incidents, pack):
    layer = run_method("gistar", gloucester_incidents, pack, label=False, permutations=99, seed=3)
    grid = make_grid(study_region(pack), cell_size=layer.parameters["cell_size_m"])
    cells = _full_boxes(grid)
    xy = gloucester_incidents.geometry
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=xy, crs=xy.crs), cells, predicate="within")
    counts = joined.groupby("index_right").size().reindex(cells.index, fill_value=0)
    assert counts.sum() == len(gloucester_incidents) == layer.parameters["n_incidents"]
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


def test_real_lsoa_gistar_and_lisa_equal_direct_esda_calls(gloucester_incidents, pack):
    from geo_ssgp.pack import load_layer

    lsoa = load_layer(pack, "lsoa21")
    counts = gloucester_incidents["lsoa21cd"].value_counts().reindex(lsoa["code"], fill_value=0)
    w = libpysal.weights.Queen.from_dataframe(lsoa, use_index=True)
    w.transform = "B"
    y = counts.to_numpy().astype(float)
    gi = run_method("lsoa-gistar", gloucester_incidents, pack, label=False, permutations=0)
    assert gi.parameters["areas"] == "lsoa21" and gi.parameters["n_areas"] == len(lsoa) == 82
    surface = gi.surface.set_index("code").loc[lsoa["code"]]
    assert (surface["count"].to_numpy() == counts.to_numpy()).all()
    direct = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    assert np.allclose(surface["z"].to_numpy(), direct.Zs)
    assert set(gi.hotspots["code"]) <= set(surface.index[surface["z"] > 0])

    li = run_method("lisa", gloucester_incidents, pack, label=False, permutations=999, seed=5)
    lm = esda.Moran_Local(y, w, transformation="r", permutations=999, seed=5)
    quads = pd.Series(lm.q).map({1: "HH", 2: "LH", 3: "LL", 4: "HL"}).to_numpy()
    lsurf = li.surface.set_index("code").loc[lsoa["code"]]
    assert (lsurf["quadrant"].to_numpy() == quads).all()
    assert np.allclose(lsurf["local_i"].to_numpy(), lm.Is)
    assert np.allclose(lsurf["p"].to_numpy(), np.minimum(1, 2 * lm.p_sim))
    assert (li.hotspots["quadrant"] == "HH").all() and len(li.hotspots) >= 1
    # the city-centre LSOA (most incidents) is a high-high hotspot
    assert counts.idxmax() in set(li.hotspots["code"])


def test_real_layer_parameters_and_geojson(gloucester_incidents, pack):
    layer = run_method("default", gloucester_incidents, pack)
    p = layer.parameters
    assert layer.method == DEFAULT_METHOD == p["method"]
    assert p["cell_size_m"] == 100.0 and p["cell_size_rule"] == CELL_SIZE_RULE
    assert p["period"] == {"from": "2025-01", "to": "2025-09"}
    assert p["filters"] == {"crime_types": None, "sources": None, "restricted": None}
    assert p["n_incidents"] == len(gloucester_incidents) > 14000
    assert p["region"] == "Gloucester (E07000081)" and p["pack"] == pack.name
    assert p["coverage"] == 0.05
    hot = layer.hotspots
    assert hot["label"].str.len().gt(0).all()  # labelled by the label module
    assert hot["n_incidents"].sum() <= len(gloucester_incidents)
    assert hot["area_m2"].sum() <= 0.05 * layer.surface["area_m2"].sum() + 1e-6
    doc = layer.to_geojson()
    text = json.dumps(doc, allow_nan=False)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(hot)
    assert doc["parameters"]["period"]["from"] == "2025-01" and doc["method"] == DEFAULT_METHOD
    coords = np.array(
        [
            c
            for f in doc["features"]
            for c in shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
        ]
    )
    assert coords[:, 0].min() > -2.4 and coords[:, 0].max() < -2.1  # longitude
    assert coords[:, 1].min() > 51.8 and coords[:, 1].max() < 51.92  # latitude
    assert doc["features"][0]["properties"]["rank"] == 1
    assert json.loads(text)["parameters"]["n_incidents"] == p["n_incidents"]


def test_real_snap_point_hotspots_are_flagged(gloucester_incidents, pack):
    snaps = snap_point_counts(gloucester_incidents)
    assert len(snaps) < len(gloucester_incidents) / 5  # ~1,250 points carry ~14,300 incidents
    busiest = snaps.iloc[0]
    layer = run_method("dbscan", gloucester_incidents, pack, label=False)
    flagged = layer.hotspots[layer.hotspots["single_snap_point"]]
    assert len(flagged) >= 1
    assert (flagged["top_snap_share"] >= 0.8).all()
    holder = layer.hotspots[layer.hotspots.intersects(busiest.geometry)]
    assert holder["n_incidents"].max() >= busiest["n_incidents"]


def test_real_area_methods_accept_rates(gloucester_incidents, pack):
    layer = run_method(
        "lsoa-gistar", gloucester_incidents, pack, label=False, value="eb_rate", permutations=199
    )
    assert layer.parameters["variable"].startswith("empirical-Bayes")
    assert layer.parameters["p_value"].startswith("two-sided conditional permutation")
    assert layer.surface["population"].notna().all()
    assert layer.surface["value"].equals(layer.surface["eb_rate_per_1000"])
    assert METHODS["lsoa-gistar"].func is gistar_area_hotspots


def test_real_filters_are_applied_and_recorded(gloucester_incidents, pack):
    layer = run_method(
        "grid-count",
        gloucester_incidents,
        pack,
        label=False,
        start="2025-07",
        end="2025-09",
        crime_types="violence",
    )
    p = layer.parameters
    assert p["period"] == {"from": "2025-07", "to": "2025-09"}
    assert p["filters"]["crime_types"] == [
        "Possession of weapons",
        "Robbery",
        "Violence and sexual offences",
    ]
    month = gloucester_incidents["month"].dt.strftime("%Y-%m")
    expected = (
        month.between("2025-07", "2025-09")
        & gloucester_incidents["crime_type"].isin(p["filters"]["crime_types"])
    ).sum()
    assert p["n_incidents"] == expected
    assert layer.surface["count"].sum() == expected


# ---------------------------------------------------------------------------------------
# Change between periods


def test_compare_periods_matches_by_overlap_and_tests_the_change(box):
    from geo_ssgp.hotspots.change import compare_periods, period_months

    a_xy = np.vstack(
        [
            _uniform(1, 300),
            _disc(1, (X0 + 1050, Y0 + 1050), 120, 40),
            _disc(2, (X0 + 4050, Y0 + 4050), 80, 40),
        ]
    )
    b_xy = np.vstack(
        [
            _uniform(2, 150),
            _disc(3, (X0 + 1050, Y0 + 1050), 30, 40),
            _disc(4, (X0 + 2550, Y0 + 4050), 60, 40),
        ]
    )
    pa = _points(a_xy, "2025-01-01")
    pb = _points(b_xy, "2025-07-01")
    la = run_method("grid-count", pa, region=box, threshold=8)
    lb = run_method("grid-count", pb, region=box, threshold=8)
    la.parameters["period"] = {"from": "2025-01", "to": "2025-06"}
    lb.parameters["period"] = {"from": "2025-07", "to": "2025-09"}
    assert period_months(la.parameters) == 6 and period_months(lb.parameters) == 3
    out = compare_periods(la, lb, pa, pb)
    assert set(out["status"]) == {"persistent", "new", "gone"}
    here = out[out.intersects(shapely.Point(X0 + 1050, Y0 + 1050))].iloc[0]
    assert here["status"] == "persistent" and here["rank_before"] == 1
    assert here["n_after"] < here["n_before"] and here["change"] < 0
    assert here["rate_ratio"] == pytest.approx((here["n_after"] / 3) / (here["n_before"] / 6))
    new = out[out.intersects(shapely.Point(X0 + 2550, Y0 + 4050))].iloc[0]
    assert new["status"] == "new" and pd.isna(new["rank_before"])
    assert new["n_after"] >= 60 and new["p_change"] < 0.001
    gone = out[out.intersects(shapely.Point(X0 + 4050, Y0 + 4050))].iloc[0]
    assert gone["status"] == "gone" and pd.isna(gone["rank"]) and gone["n_before"] >= 80
