"""DBSCAN / HDBSCAN point clusters: weighted snap points, parameter rules, real snap points."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import DBSCAN

from geo_ssgp.hotspots import run_method
from geo_ssgp.hotspots.clusters import dbscan_hotspots, default_min_samples, weighted_kth_distance
from geo_ssgp.hotspots.grid import snap_point_counts


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
