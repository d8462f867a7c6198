"""Kernel density hotspots: MASS bandwidth rule, quartic kernel, weighted map points, records."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.hotspots.kde import bandwidth_nrd, default_bandwidth, kde_hotspots, quartic_density


def test_bandwidth_nrd_matches_mass(synth):
    # MASS::bandwidth.nrd(1:10) = 4 * 1.06 * min(sd, IQR/1.34) * 10^(-1/5)
    assert bandwidth_nrd(np.arange(1, 11)) == pytest.approx(8.0998, abs=1e-3)
    steps = np.arange(1.0, 11.0)
    pts = synth.points(np.column_stack([steps * 100 + synth.X0, steps * 50 + synth.Y0]))
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


def test_kde_layer_records_bandwidth_rule_and_override(synth, box, planted):
    layer = kde_hotspots(planted, box)
    p = layer.parameters
    assert p["kernel"] == "quartic (biweight)" and p["cell_size_m"] == 50.0
    assert p["bandwidth_rule"].startswith("nrd") and p["bandwidth_m"] == pytest.approx(
        default_bandwidth(planted)
    )
    nearest = layer.surface.distance(synth.CENTRE).idxmin()
    assert layer.surface["density_per_km2"].idxmax() == nearest
    fixed = kde_hotspots(planted, box, bandwidth=200.0, coverage=0.01)
    assert fixed.parameters["bandwidth_rule"] == "user" and fixed.parameters["bandwidth_m"] == 200
    assert fixed.surface.loc[fixed.surface["hotspot"], "area_m2"].sum() <= 0.01 * 25e6 + 1e-6


def test_kde_needs_two_incidents_and_a_positive_bandwidth(synth, box):
    one = synth.points(synth.uniform(0, 1))
    with pytest.raises(NotEnoughData, match="at least two incidents"):
        kde_hotspots(one, box)
    same = synth.points(np.repeat(synth.uniform(0, 1), 5, axis=0))
    with pytest.raises(NotEnoughData, match="too few coordinates"):
        kde_hotspots(same, box)
    with pytest.raises(BadInput, match="bandwidth must be positive") as err:
        kde_hotspots(synth.points(synth.uniform(0, 10)), box, bandwidth=0.0)
    assert err.value.param == "bandwidth"


def test_kde_layer_on_weighted_map_points_equals_the_kernel_over_every_incident(synth, box):
    # the layer sums the kernel once per map point times its incidents
    rng = np.random.default_rng(4)
    sites = np.round(rng.uniform(0, 5000, (60, 2))) + [synth.X0, synth.Y0]  # whole metres
    xy = np.repeat(sites, rng.integers(1, 30, 60), axis=0)
    layer = kde_hotspots(synth.points(xy), box, bandwidth=400.0, cell_size=100.0)
    cx, cy = layer.surface["x"].to_numpy(), layer.surface["y"].to_numpy()
    h = 400.0
    d2 = (cx[:, None] - xy[None, :, 0]) ** 2 + (cy[:, None] - xy[None, :, 1]) ** 2
    every = np.where(d2 < h * h, 3 / (math.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0.0).sum(1)
    assert len(xy) > 500 and every.max() > 0
    assert layer.surface["density_per_km2"].to_numpy() == pytest.approx(every * 1e6, rel=1e-9)
