"""The places the partnership names: hotspots of the default method, and significant.

The default (50 m counts) ranks the city-centre map points first; the three places
must be among its hotspots with ``significant`` True (the per-place exceedance test,
:mod:`geo_ssgp.hotspots.significance`), found by label.
"""

import re

import pytest
import shapely

from geo_ssgp import hotspots
from geo_ssgp.hotspots.label import NEAR_EDGE_M
from geo_ssgp.pack import load_points

TOP = 15


@pytest.fixture(scope="module")
def default_layer(sample_geocoded, pack):
    """The default layer of 2025-01..09."""
    layer = hotspots.run_method("default", sample_geocoded, pack, start="2025-01", end="2025-09")
    assert layer.method == hotspots.DEFAULT_METHOD
    return layer


@pytest.fixture(scope="module")
def default_labels(default_layer):
    """Labels of the default layer's significant hotspots, by rank."""
    ranked = default_layer.hotspots.sort_values("rank")
    assert ranked.head(TOP)["significant"].all()
    return list(ranked.loc[ranked["significant"], "label"])


def _has(labels, *words):
    return [lab for lab in labels if all(w in lab for w in words)]


def test_city_centre_and_gloucester_park(default_labels):
    assert _has(default_labels, "city centre")
    assert _has(default_labels, "Gloucester Park")


def test_kingsholm(default_labels):
    assert _has(default_labels, "Kingsholm")


def test_barton_and_tredworth_around_widden_street(default_labels):
    assert _has(default_labels, "Barton and Tredworth", "Widden Street")


def test_all_three_significant_at_lsoa_level(sample_geocoded, pack):
    layer = hotspots.run_method(
        "lsoa-gistar", sample_geocoded, pack, start="2025-01", end="2025-09"
    )
    labels = list(layer.hotspots["label"])
    assert _has(labels, "city centre") and _has(labels, "Gloucester Park")
    assert _has(labels, "Kingsholm")
    assert _has(labels, "Barton and Tredworth", "Widden Street")


def test_every_near_place_in_the_top_20_lies_within_the_stated_distance(default_layer, pack):
    # "near X": X's point (places table, else NPTG locality) within 250 m of the hotspot
    assert NEAR_EDGE_M == 250.0
    points = [load_points(pack, "places"), load_points(pack, "localities")]
    top = default_layer.hotspots.sort_values("rank").head(20)
    named = 0
    for label, geom in zip(top["label"], top.geometry, strict=True):
        found = re.search(r"near ([^,)]+)\)", label)
        if found is None:
            continue
        named += 1
        where = [t.geometry.values[t["name"] == found.group(1)] for t in points]
        distance = min(shapely.distance(geom, g).min() for g in where if len(g))
        assert distance <= NEAR_EDGE_M, (label, distance)
    assert named >= 3  # Gloucester Docks, Gloucester Park, Wotton ... are still named
