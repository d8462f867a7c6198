"""The places the partnership names: hotspots of the default method, and significant.

The default (50 m counts) ranks the city-centre map points first; the three places
must be among its hotspots with ``significant`` True (the per-place exceedance test,
:mod:`geo_ssgp.hotspots.significance`), found by label.
"""

import pytest

from geo_ssgp import hotspots

TOP = 15


@pytest.fixture(scope="module")
def default_labels(sample_geocoded, pack):
    """Labels of the default layer's significant hotspots, by rank."""
    layer = hotspots.run_method("default", sample_geocoded, pack, start="2025-01", end="2025-09")
    assert layer.method == hotspots.DEFAULT_METHOD
    ranked = layer.hotspots.sort_values("rank")
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
