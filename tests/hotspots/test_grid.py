"""Grids (square, hexagonal, clipped), cell counts, weights, top-cell selection, snap points."""

from __future__ import annotations

import math

import geopandas as gpd
import libpysal
import numpy as np
import pytest
import shapely
from scipy import sparse

from geo_ssgp.errors import BadInput
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
    star_weights,
)


def test_default_cell_size_follows_the_sfhotspot_rule():
    assert default_cell_size(shapely.box(0, 0, 5000, 5000)) == 100.0
    assert default_cell_size(shapely.box(0, 0, 8150, 11000)) == 100.0  # 163 m -> 100
    assert default_cell_size(shapely.box(0, 0, 30000, 12000)) == 200.0  # 240 m -> 200
    assert default_cell_size(shapely.box(0, 0, 3000, 9000)) == 60.0  # < 100 m: unrounded


def test_square_grid_counts_match_a_spatial_join(synth, box):
    xy = synth.uniform(3, 5000)
    pts = synth.points(xy)
    grid = make_grid(box, cell_size=250)
    assert grid.cell_size_rule == "user"
    assert len(grid) == 400
    counts = grid_count(grid, pts)
    joined = gpd.sjoin(pts, grid.cells, predicate="within")
    expected = joined.groupby("index_right").size().reindex(grid.cells.index, fill_value=0)
    assert (counts.to_numpy() == expected.to_numpy()).all()
    assert counts.sum() == 5000 and counts.attrs["outside_grid"] == 0
    outside = synth.points(np.array([[synth.X0 - 10.0, synth.Y0 + 10.0]]))
    assert grid_count(grid, outside).attrs["outside_grid"] == 1


def test_grid_over_an_irregular_region_is_clipped_and_keeps_the_area(synth):
    disc = shapely.Point(synth.X0, synth.Y0).buffer(1800)
    region = gpd.GeoDataFrame(geometry=[disc], crs="EPSG:27700")
    grid = make_grid(region, cell_size=200)
    assert grid.cell_size_rule == CELL_SIZE_RULE or grid.cell_size == 200
    assert grid.region_area_m2 == pytest.approx(region.area.iloc[0])
    assert grid.cells["area_m2"].sum() == pytest.approx(grid.region_area_m2, rel=1e-9)
    assert (grid.cells["area_m2"] <= grid.cells["full_area_m2"] + 1e-6).all()
    assert (grid.cells.geometry.within(region.geometry.iloc[0].buffer(1e-6))).all()
    full = make_grid(region, cell_size=200, clip=False)
    assert full.cells.geometry.area.eq(40000).all()
    assert full.cells["area_m2"].sum() == pytest.approx(grid.region_area_m2, rel=1e-9)


def test_grid_weights_equal_libpysal_contiguity_of_the_cells(synth):
    disc = shapely.Point(synth.X0, synth.Y0).buffer(1500)
    region = gpd.GeoDataFrame(geometry=[disc], crs="EPSG:27700")
    grid = make_grid(region, cell_size=150, clip=False)
    for rule, builder in (("queen", libpysal.weights.Queen), ("rook", libpysal.weights.Rook)):
        ours = grid_weights(grid, rule)
        theirs = builder.from_dataframe(grid.cells, use_index=False)
        assert ours.n == theirs.n == len(grid)
        assert (ours.sparse != theirs.sparse).nnz == 0


def test_hex_grid_locates_points_in_their_hexagon_and_has_six_neighbours(synth, box):
    grid = make_grid(box, cell_size=300, kind="hex")
    full = grid.cells["full_area_m2"]
    assert full.to_numpy() == pytest.approx(math.sqrt(3) / 2 * 300**2)
    assert grid.cells["area_m2"].sum() == pytest.approx(25e6)
    pts = synth.points(synth.uniform(11, 3000))
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
    with pytest.raises(BadInput, match="coverage"):
        select_top_cells(score, area, 0.0, 10.0)


# ---------------------------------------------------------------------------------------
# Snap points


def test_snap_points_group_identical_coordinates_and_flag_single_point_hotspots(synth):
    x0, y0 = synth.X0, synth.Y0
    xy = np.vstack(
        [np.tile([[x0 + 100, y0 + 100]], (90, 1)), [[x0 + 120, y0 + 100]] * 5, [[x0 + 900, y0]]]
    )
    pts = synth.points(xy)
    snaps = snap_point_counts(pts)
    assert snaps["n_incidents"].tolist() == [90, 5, 1]
    assert (snaps["x"].iloc[0], snaps["y"].iloc[0]) == (x0 + 100, y0 + 100)
    hot = gpd.GeoDataFrame(
        geometry=[
            shapely.box(x0, y0, x0 + 200, y0 + 200),
            shapely.box(x0 + 800, y0 - 50, x0 + 1000, y0 + 50),
        ],
        crs="EPSG:27700",
    )
    summary = snap_summary(hot, pts)
    assert summary["n_incidents"].tolist() == [95, 1]
    assert summary["snap_points"].tolist() == [2, 1]
    assert summary["top_snap_share"].iloc[0] == pytest.approx(90 / 95)
    assert summary["single_snap_point"].tolist() == [True, True]


def test_repeated_grids_are_built_once_but_independent(box):
    a = make_grid(box, cell_size=250)
    b = make_grid(box, cell_size=250)
    assert a is not b and a.cells is not b.cells
    assert a.cells.equals(b.cells) and a.cell_size_rule == "user"
    a.cells["count"] = 1  # a caller's change stays in its own grid
    a.cell_size_rule = "changed"
    assert "count" not in b.cells and make_grid(box, cell_size=250).cell_size_rule == "user"
    assert "count" not in make_grid(box, cell_size=250).cells


def test_star_weights_are_the_neighbours_plus_self_built_once_per_grid(box):
    grid = make_grid(box, cell_size=500)
    w = star_weights(grid)
    n = len(grid.cells)
    queen = grid_adjacency(grid, "queen") + sparse.identity(n)
    assert (w.sparse != queen).nnz == 0 and w.transform == "B" and w.id_order == list(range(n))
    assert star_weights(make_grid(box, cell_size=500)) is w  # make_grid's copies share it
    rook = star_weights(grid, "rook")
    assert rook is not w and rook.sparse.sum() == grid_adjacency(grid, "rook").sum() + n
    assert star_weights(make_grid(box, cell_size=250)) is not w  # another grid, its own


def test_a_grid_too_fine_for_its_area_is_refused_with_the_smallest_size():
    """A 1 m grid over a 9 x 8 km district would be ~72 million cells: refused, not built."""
    district = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 9000, 8000)], crs=27700)
    with pytest.raises(BadInput, match=r"cell_size 1 m would make about .* use at least 5 m"):
        make_grid(district, cell_size=1)
    assert len(make_grid(district, cell_size=50).cells) == 180 * 160
