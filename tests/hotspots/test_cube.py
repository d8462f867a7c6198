"""The space-time cube: every place x step bin exists, empty bins are zero, exports agree."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots.cube import build_cube


def _incidents(xy, months, occurred=None) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"month": pd.to_datetime(months)},
        geometry=gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy]),
        crs="EPSG:27700",
    )
    if occurred is not None:
        frame["occurred_at"] = pd.to_datetime(occurred)
    return frame


@pytest.fixture
def three_points():
    # two incidents in one 100 m cell in January, one in another cell in March
    return _incidents([(50, 50), (60, 70), (250, 250)], ["2025-01-01", "2025-01-01", "2025-03-01"])


def test_grid_cube_counts_and_zeros(three_points):
    cube = build_cube(three_points, shapely.box(0, 0, 300, 300), cell_size=100)
    assert cube.step_labels == ["2025-01", "2025-02", "2025-03"]  # empty February kept
    assert cube.counts.shape == (3, len(cube.places))
    assert cube.counts.sum() == 3 and cube.counts[1].sum() == 0
    first = cube.places.geometry.contains(shapely.Point(50, 50)).to_numpy().argmax()
    assert cube.counts[:, first].tolist() == [2, 0, 0]
    assert (cube.counts >= 0).all() and cube.counts.dtype.kind == "i"
    # queen adjacency of the covered cells is symmetric and has no self-neighbours
    adj = cube.adjacency.toarray()
    assert (adj == adj.T).all() and np.diag(adj).sum() == 0


def test_cube_places_cover_only_where_incidents_are():
    far = _incidents([(50, 50), (150, 50), (50, 150)], ["2025-01-01"] * 3)
    cube = build_cube(far, shapely.box(0, 0, 5000, 5000), cell_size=100)
    assert len(cube.places) <= 9  # the hull + half a cell, not the 2,500 cells of the region


def test_lsoa_cube(squares):
    inc = _incidents([(300100, 200100), (300600, 200100), (300700, 200200)], ["2025-02-01"] * 3)
    region = shapely.box(300000, 200000, 305000, 205000)
    cube = build_cube(inc, region, unit="lsoa", areas=squares)
    totals = dict(zip(cube.places["code"], cube.counts.sum(axis=0), strict=True))
    assert totals["A00"] == 1 and totals["A10"] == 2


def test_week_and_day_steps_need_dates(three_points):
    with pytest.raises(BadInput, match="police.uk publishes the month only"):
        build_cube(three_points, shapely.box(0, 0, 300, 300), step="week")
    dated = _incidents(
        [(50, 50), (60, 70), (250, 250)],
        ["2025-01-01"] * 3,
        ["2025-01-06 22:15", "2025-01-07 01:00", "2025-01-20 12:00"],
    )
    cube = build_cube(dated, shapely.box(0, 0, 300, 300), step="week")
    assert cube.step_labels == ["2025-01-06", "2025-01-13", "2025-01-20"]
    assert cube.counts.sum(axis=1).tolist() == [2, 0, 1]
    days = build_cube(dated, shapely.box(0, 0, 300, 300), step="day")
    assert len(days.steps) == 15 and days.counts.sum() == 3


def test_exports_round_trip(three_points, tmp_path):
    cube = build_cube(three_points, shapely.box(0, 0, 300, 300), cell_size=100)
    back = gpd.read_parquet(cube.export(tmp_path / "cube.parquet"))
    assert len(back) == cube.counts.size and back["count"].sum() == 3
    assert back.crs.to_epsg() == 27700
    table = pd.read_csv(cube.export(tmp_path / "cube.csv"))
    assert table.columns.tolist() == ["place_id", "code", "step", "count"]
    assert (table["count"] == 0).sum() == cube.counts.size - 2
    with pytest.raises(BadInput, match="parquet or .csv"):
        cube.export(tmp_path / "cube.xlsx")
