"""Street-segment hotspots: the busiest segments per km, kept as lines, tested on length.

Constructed data answer "does the method find a segment planted with extra incidents,
and stay quiet when incidents fall on streets in proportion to their length?"; the real
sample answers "are the streets the partnership names among the significant segments?".
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.ops import substring

from geo_ssgp.errors import BadInput, PackError
from geo_ssgp.hotspots import run_method
from geo_ssgp.hotspots.layer import HOTSPOT_COLUMNS
from geo_ssgp.hotspots.segments import segment_hotspots, segment_surface, segments_in_region

RUNS = 100


@pytest.fixture(scope="module")
def streets(street_grid):
    """The street grid with lengths cut to 20..500 m (seeded), so length matters."""
    rng = np.random.default_rng(3)
    keep = rng.uniform(20.0, 500.0, len(street_grid))
    out = street_grid.copy()
    out = out.set_geometry(
        [substring(g, 0.0, k) for g, k in zip(street_grid.geometry, keep, strict=True)]
    )
    out["length_m"] = out.geometry.length
    return out


def test_planted_busy_segment_is_the_top_significant_hotspot(streets, synth):
    target = streets[streets["length_m"].between(100, 200)].iloc[0]
    noise = synth.on_streets(streets, 1000, seed=1)
    extra = synth.on_streets(streets[streets["segment_id"] == target["segment_id"]], 30, seed=2)
    layer = segment_hotspots(synth.points(np.vstack([noise, extra])), streets)
    top = layer.hotspots.iloc[0]
    assert top["segment_id"] == target["segment_id"]
    assert top["significant"] and top["p_adjusted"] < 1e-6
    assert top["n_incidents"] >= 30
    assert top.geometry.geom_type == "LineString" and top["area_m2"] == 0.0
    assert top["length_m"] == pytest.approx(target["length_m"])
    assert top["label"] == f"Grid Ward: {target['name']}"
    # the only significant segment of the region
    assert layer.surface["significant"].sum() == 1
    assert list(layer.hotspots.columns[: len(HOTSPOT_COLUMNS)]) == HOTSPOT_COLUMNS
    assert layer.hotspots["score"].is_monotonic_decreasing
    # hotspots cover at most 2 % of the street length, and hold >= 3 incidents each
    assert layer.hotspots["length_m"].sum() <= 0.02 * streets["length_m"].sum()
    assert (layer.hotspots["n_incidents"] >= 3).all()


def test_quiet_when_incidents_follow_street_length(streets, synth):
    # nothing to find: at most 5 % of runs have any significant segment
    noisy = 0
    for seed in range(RUNS):
        surface, _ = segment_surface(synth.points(synth.on_streets(streets, 1000, seed)), streets)
        noisy += bool(surface["significant"].any())
    assert noisy / RUNS <= 0.05


def test_coverage_is_checked_and_region_keeps_segments_by_midpoint(streets, box, synth):
    with pytest.raises(BadInput, match="coverage must be in"):
        segment_hotspots(synth.points(synth.on_streets(streets, 50, 0)), streets, coverage=0)
    half = shapely.box(*box.total_bounds[:2], box.total_bounds[0] + 2500, box.total_bounds[3])
    inside = segments_in_region(streets, half)
    middle = shapely.line_interpolate_point(inside.geometry.values, 0.5, normalized=True)
    assert len(inside) > 0 and shapely.contains(half, middle).all()


def test_run_method_without_streets_raises_pack_error(synth, box):
    with pytest.raises(PackError, match=r"\[streets\] layer"):
        run_method("street-segments", synth.points(synth.uniform(0, 20)), region=box)


@pytest.fixture(scope="module")
def real_layer(sample_ok, pack):
    """Street-segment hotspots of the 2025-01..09 Gloucester sample."""
    return run_method("street-segments", sample_ok, pack)


def test_real_named_streets_are_significant_segments(real_layer):
    surface = real_layer.surface
    significant = set(surface.loc[surface["significant"], "name"].dropna())
    centre = {"Northgate Street", "Eastgate Street", "Southgate Street", "Westgate Street"}
    assert centre <= significant
    assert "Widden Street" in significant
    # Kingsholm: no 2025 police.uk incident is "On or near Kingsholm Road" (its 12
    # segments hold 0); Kingsholm's incidents sit on Mayhill Way and Hyde Close
    kingsholm = surface[surface["significant"] & (surface["ward_nm"] == "Kingsholm and Wotton")]
    assert {"Mayhill Way", "Hyde Close"} <= set(kingsholm["name"])
    assert surface.loc[surface["name"] == "Kingsholm Road", "n_incidents"].sum() == 0


def test_real_hotspots_are_street_lines_labelled_by_street(real_layer):
    hot = real_layer.hotspots
    assert set(hot.geom_type) <= {"LineString", "MultiLineString"}
    assert (hot["area_m2"] == 0).all()
    assert hot["length_m"].sum() <= 0.02 * real_layer.parameters["street_km"] * 1000
    named = hot["name"].notna()
    pairs = zip(hot.loc[named, "name"], hot.loc[named, "label"], strict=True)
    assert all(name in label for name, label in pairs)
    assert real_layer.parameters["significance"]["baseline"].startswith("incidents snapped")
    # the layer says how many incidents lie off every street (not counted)
    off = real_layer.parameters["incidents_off_street"]
    assert 0 < off < 0.1 * real_layer.parameters["n_incidents"]
