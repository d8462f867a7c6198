"""The places the partnership names must come out of the default method, by label."""

import pytest

from geo_ssgp import hotspots

TOP = 15


@pytest.fixture(scope="module")
def default_labels(sample_geocoded, pack):
    layer = hotspots.run_method("default", sample_geocoded, pack, start="2025-01", end="2025-09")
    assert layer.method == hotspots.DEFAULT_METHOD
    return list(layer.hotspots.sort_values("rank")["label"].head(TOP))


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
