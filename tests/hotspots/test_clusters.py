"""DBSCAN / HDBSCAN point clusters: weighted snap points, parameter rules, real snap points.

Weighted runs on distinct map points are checked against scikit-learn on every incident."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN, HDBSCAN
from sklearn.metrics import adjusted_rand_score

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots import run_method
from geo_ssgp.hotspots.clusters import (
    dbscan_hotspots,
    default_min_samples,
    weighted_hdbscan_labels,
    weighted_kth_distance,
)
from geo_ssgp.hotspots.grid import SNAP_PRECISION_M, point_xy, snap_point_counts


def test_weighted_dbscan_equals_dbscan_on_every_duplicated_point(synth):
    rng = np.random.default_rng(2)
    sites = rng.integers(0, 2000, (120, 2)).astype(float) + [synth.X0, synth.Y0]  # whole m
    reps = rng.integers(1, 12, 120)
    xy = np.repeat(sites, reps, axis=0)
    pts = synth.points(xy)
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


def test_real_snap_point_hotspots_are_flagged(sample_ok, pack):
    snaps = snap_point_counts(sample_ok)
    assert len(snaps) < len(sample_ok) / 5  # ~1,250 points carry ~14,300 incidents
    busiest = snaps.iloc[0]
    layer = run_method("dbscan", sample_ok, pack, label=False)
    flagged = layer.hotspots[layer.hotspots["single_snap_point"]]
    assert len(flagged) >= 1
    assert (flagged["top_snap_share"] >= 0.8).all()
    holder = layer.hotspots[layer.hotspots.intersects(busiest.geometry)]
    assert holder["n_incidents"].max() >= busiest["n_incidents"]


def _snap_and_disc(synth):
    """120 incidents on one map point, 200 in a 150 m disc, 300 uniform over 5 km."""
    one = np.repeat([[synth.X0 + 1000.0, synth.Y0 + 1000.0]], 120, axis=0)
    disc = synth.disc(3, (synth.X0 + 3500.0, synth.Y0 + 3500.0), n=200)
    return synth.points(np.vstack([one, disc, synth.uniform(4, n=300)]))


def test_one_map_point_cluster_is_a_point_hotspot_ranked_by_incidents(synth, box):
    layer = run_method("dbscan", _snap_and_disc(synth), region=box, label=False)
    hot = layer.hotspots
    point = hot[hot["kind"] == "map point"]
    assert len(point) == 1
    row = point.iloc[0]
    assert row.geometry.geom_type == "Point" and row["n_incidents"] == 120
    assert row["description"] == "one police.uk map point: 120 incidents"
    assert pd.isna(row["density_per_km2"]) and row["area_m2"] == 0
    disc = hot[hot["kind"] == "area"].iloc[0]
    assert disc["map_points"] > 100 and disc["description"].endswith("incidents")
    # ranked by incidents: the 200-incident disc before the 120-incident map point
    assert hot["cluster_incidents"].is_monotonic_decreasing
    assert disc["rank"] < row["rank"]
    assert layer.parameters["rank"] == "incidents"


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_real_busiest_map_point_is_a_point_hotspot(sample_ok, pack, method):
    busiest = snap_point_counts(sample_ok).iloc[0]
    layer = run_method(method, sample_ok, pack, label=False)
    top = layer.hotspots.iloc[0]
    assert top["kind"] == "map point" and top.geometry.equals(busiest.geometry)
    assert top["description"] == f"one police.uk map point: {busiest['n_incidents']:,} incidents"
    assert top["n_incidents"] == busiest["n_incidents"] == 537
    assert (layer.hotspots["kind"] == "map point").sum() >= 20


def test_district_sized_cluster_is_rejected_with_a_warning(synth, box):
    points = synth.points(synth.uniform(5, n=3000))
    with pytest.warns(UserWarning, match="district-sized cluster rejected"):
        layer = dbscan_hotspots(points, box, eps=300.0, min_samples=5)
    assert layer.hotspots.empty
    (text,) = layer.parameters["rejected_clusters"]
    assert "covers more than 5% of the region" in text and "3,000 incidents" in text


def test_real_dbscan_on_asb_rejects_the_district_sized_cluster(sample_ok, pack):
    with pytest.warns(UserWarning, match="district-sized cluster rejected"):
        layer = run_method("dbscan", sample_ok, pack, crime_types="anti-social-behaviour",
                           label=False)
    (text,) = layer.parameters["rejected_clusters"]
    assert "2.85 km²" in text
    assert layer.hotspots["area_m2"].max() < 0.05 * 40e6


def _weighted_sites(synth, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three dense groups of map points and a sparse background, 1-150 incidents each."""
    rng = np.random.default_rng(seed)
    groups = [rng.normal(c, 60.0, (40, 2)) for c in ((500, 500), (2500, 800), (1500, 2600))]
    sites = np.round(np.vstack([*groups, rng.uniform(0, 3000, (80, 2))])) + [synth.X0, synth.Y0]
    sites = np.unique(sites, axis=0)
    reps = rng.integers(1, 40, len(sites))
    reps[rng.choice(len(sites), 6, replace=False)] = rng.integers(60, 150, 6)  # busy points
    return sites, reps


@pytest.mark.parametrize("selection", ["leaf", "eom"])
def test_weighted_hdbscan_on_map_points_equals_hdbscan_on_every_incident(synth, selection):
    sites, reps = _weighted_sites(synth, 7)
    xy = np.repeat(sites, reps, axis=0)
    full = HDBSCAN(min_cluster_size=50, min_samples=10, cluster_selection_method=selection,
                   copy=True).fit(xy).labels_
    ours = np.repeat(weighted_hdbscan_labels(sites, reps, 50, 10, selection), reps)
    # the same partition of incidents into clusters and noise
    assert adjusted_rand_score(full, ours) == 1.0
    assert ((full < 0) == (ours < 0)).all()
    assert len(set(full)) - 1 >= 4
    # a busy map point (>= 50 incidents) can be a cluster on its own, as with every incident
    sizes = pd.Series(reps).groupby(ours[np.cumsum(reps) - 1]).size()
    assert (sizes.drop(-1, errors="ignore") == 1).any()


def test_real_hdbscan_on_map_points_matches_every_incident(sample_ok, pack):
    x, y = point_xy(sample_ok)
    xy = np.round(np.column_stack([x, y]) / SNAP_PRECISION_M) * SNAP_PRECISION_M
    sites, inverse, reps = np.unique(xy, axis=0, return_inverse=True, return_counts=True)
    full = HDBSCAN(min_cluster_size=50, min_samples=10, copy=True).fit(xy).labels_
    ours = weighted_hdbscan_labels(sites, reps, 50, 10)[inverse.ravel()]
    assert len(sites) == 1250 and len(xy) == 14333
    assert len(set(full)) == len(set(ours)) == 113  # 112 clusters and noise
    # equal distances (map points on a lattice) may be taken in another order: 6 of
    # 14,333 incidents change between noise and a cluster
    assert ((full < 0) != (ours < 0)).sum() <= 10
    assert adjusted_rand_score(full, ours) > 0.99
    top = pd.Series(full[full >= 0]).value_counts().head(5).tolist()
    assert pd.Series(ours[ours >= 0]).value_counts().head(5).tolist() == top


def test_weighted_hdbscan_rejects_an_unknown_selection_method():
    with pytest.raises(BadInput, match="cluster_selection_method"):
        weighted_hdbscan_labels(np.zeros((3, 2)), np.ones(3, dtype=int), 2, 2, "mass")
