"""The method registry: ``resolve_method``, ``prepare_incidents`` and ``run_method``.

Every registered method finds a planted cluster and returns the common layer shape; the
filters and the period are applied once, before the method, and recorded in the layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.hotspots import DEFAULT_METHOD, METHODS, prepare_incidents, resolve_method, run_method
from geo_ssgp.hotspots.layer import HOTSPOT_COLUMNS
from geo_ssgp.schema import CRIME_GROUPS


@pytest.mark.parametrize("name", list(METHODS))
def test_planted_cluster_is_the_top_hotspot_of_every_method(
    name, synth, planted, box, squares, street_grid
):
    # on this 25 km² box DBSCAN's default eps joins 121 noise points to the planted disc
    # (1.28 km², 5.1 % of the box): allow it rather than reject it as district-sized
    params = {"max_area_share": 0.1} if name == "dbscan" else {}
    if name == "street-segments":  # 500 m street grid: snap the 150 m disc onto it
        params = {"segments": street_grid, "max_distance_m": 150.0}
    layer = run_method(name, planted, region=box, areas=squares, **params)
    assert layer.method == name
    assert len(layer.hotspots) >= 1
    top = layer.hotspots.iloc[0]
    assert top["rank"] == 1
    # covers the centre (areas: on their corner)
    assert top.geometry.distance(synth.CENTRE) < 1e-6
    assert top["n_incidents"] >= 40
    assert list(layer.hotspots.columns[: len(HOTSPOT_COLUMNS)]) == HOTSPOT_COLUMNS
    assert (layer.hotspots["rank"].to_numpy() == np.arange(1, len(layer.hotspots) + 1)).all()
    assert layer.hotspots["score"].is_monotonic_decreasing
    assert layer.hotspots.crs == "EPSG:27700"
    assert layer.parameters["method"] == name
    assert layer.parameters["n_incidents"] == 2200


def test_registry_resolves_default_and_rejects_unknown_methods(synth):
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
        "street-segments",
    }
    with pytest.raises(BadInput, match="unknown hotspot method 'hotness'.*grid-count"):
        resolve_method("hotness")
    with pytest.raises(ValueError, match="needs a pack or a region"):
        run_method("kde", synth.points(synth.uniform(0, 10)))


def test_prepare_incidents_keeps_ok_rows_filters_and_describes_them(synth):
    xy = synth.uniform(3, 6)
    pts = synth.points(xy).assign(
        month=pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"] * 2),
        crime_type=["Robbery", "Burglary", "Anti-social behaviour"] * 2,
        status=["ok", "ok", "ok", "ok", "outside_area", "ok"],
    )
    kept, info = prepare_incidents(pts)
    assert len(kept) == 5 and (kept["status"] == "ok").all()
    assert info == {
        "period": {"from": "2025-01", "to": "2025-03"},
        "filters": {"crime_types": None, "sources": None, "restricted": None},
        "n_incidents": 5,
        "excluded_not_ok": 1,
    }
    kept, info = prepare_incidents(pts, start="2025-02", crime_types="crime")
    assert kept.index.tolist() == [1]  # the other burglary is outside the area
    assert info["period"] == {"from": "2025-02", "to": "2025-02"}
    assert info["filters"]["crime_types"] == CRIME_GROUPS["crime"]
    kept, info = prepare_incidents(pts, crime_types="violence")
    assert kept.index.tolist() == [0, 3]
    assert info["filters"]["crime_types"] == [
        "Possession of weapons",
        "Robbery",
        "Violence and sexual offences",
    ]
    kept, info = prepare_incidents(pts.to_crs("EPSG:4326"), crime_types="BURGLARY", end="2025-02")
    assert kept.crs == "EPSG:27700" and kept.index.tolist() == [1]
    assert info["filters"]["crime_types"] == ["Burglary"] and info["n_incidents"] == 1
    with pytest.raises(BadInput) as err:
        prepare_incidents(pts, crime_types="muggings")
    assert err.value.param == "crime_type"
    with pytest.raises(NotEnoughData, match="0 of 6 incidents"):
        run_method("grid-count", pts, region=synth.points(xy), crime_types="drugs")


def test_real_filters_are_applied_and_recorded(sample_ok, pack):
    layer = run_method(
        "grid-count",
        sample_ok,
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
    month = sample_ok["month"].dt.strftime("%Y-%m")
    expected = (
        month.between("2025-07", "2025-09")
        & sample_ok["crime_type"].isin(p["filters"]["crime_types"])
    ).sum()
    assert p["n_incidents"] == expected
    assert layer.surface["count"].sum() == expected
