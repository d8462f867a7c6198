"""District-by-district surfaces with a halo equal the whole-county ones (KDE, Gi*, emerging).

The county is the six Gloucestershire districts (``county_pack`` / ``county_geocoded``);
each test also shows the check has teeth: without the halo, units at district edges change.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from geo_ssgp.dask_engine import dask_client
from geo_ssgp.errors import BadInput
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots import run_method
from geo_ssgp.hotspots.cube import pack_cube
from geo_ssgp.hotspots.emerging import emerging_hotspots
from geo_ssgp.hotspots.gistar import district_gistar, gistar_table
from geo_ssgp.hotspots.grid import (
    grid_adjacency,
    grid_count,
    grid_weights,
    make_grid,
    pack_districts,
    snap_point_counts,
    study_region,
)
from geo_ssgp.hotspots.halo import cell_districts, place_districts
from geo_ssgp.hotspots.kde import district_density, quartic_density
from geo_ssgp.pack import load_layer

BANDWIDTH = 600.0


@pytest.fixture(scope="module")
def county(county_pack, county_geocoded):
    districts = load_layer(county_pack, "district").reset_index(drop=True)
    grid = make_grid(study_region(county_pack), cell_size=400.0)
    ok = county_geocoded[county_geocoded["status"] == "ok"]
    snaps = snap_point_counts(ok)
    whole = quartic_density(grid.cells["x"].to_numpy(), grid.cells["y"].to_numpy(),
                            snaps["x"].to_numpy(), snaps["y"].to_numpy(),
                            snaps["n_incidents"].to_numpy(), BANDWIDTH)
    return grid, ok, districts, whole


def test_every_cell_has_one_district(county):
    grid, _, districts, _ = county
    owner = cell_districts(grid, districts)
    assert len(districts) == 6
    assert (owner >= 0).all()
    assert set(owner) == set(range(6))


def test_halo_result_equals_the_whole_county(county):
    grid, ok, districts, whole = county
    halo = district_density(grid, ok, districts, BANDWIDTH)
    assert whole.max() > 0 and (whole > 0).sum() > 1000
    np.testing.assert_allclose(halo, whole, rtol=1e-12, atol=0)


def test_without_the_halo_district_edges_are_cut(county):
    """The check has teeth: dropping the halo changes cells near district edges."""
    grid, ok, districts, whole = county
    no_halo = district_density(grid, ok, districts, BANDWIDTH, halo=0.0)
    short = ~np.isclose(no_halo, whole, rtol=1e-12, atol=0)
    assert short.sum() > 50
    assert (no_halo[short] < whole[short]).all()  # only incidents across an edge are missing


@pytest.mark.slow
def test_districts_run_in_parallel_on_dask(county, county_gi):
    grid, ok, districts, whole = county
    y, area, adjacency, owner = county_gi
    with dask_client(workers=2) as client:
        halo = district_density(grid, ok, districts, BANDWIDTH, client=client)
        gi = district_gistar(y, adjacency, owner, area=area, p_value="poisson", client=client)
    np.testing.assert_allclose(halo, whole, rtol=1e-12, atol=0)
    pd.testing.assert_frame_equal(gi, district_gistar(y, adjacency, owner, area=area,
                                                      p_value="poisson"))


# Gi* -------------------------------------------------------------------------------------

GI_COLUMNS = ["gi", "z", "p_poisson", "p_exact", "p_norm", "p", "p_adj"]


def _within_districts(adjacency, owner):
    """The adjacency without links across district edges (each district alone, no halo)."""
    adj = sparse.coo_matrix(adjacency)
    same = owner[adj.row] == owner[adj.col]
    return sparse.csr_matrix((adj.data[same], (adj.row[same], adj.col[same])), adj.shape)


@pytest.fixture(scope="module")
def county_gi(county):
    grid, ok, districts, _ = county
    y = grid_count(grid, ok).to_numpy()
    area = grid.cells["area_m2"].to_numpy()
    return y, area, grid_adjacency(grid), cell_districts(grid, districts)


@pytest.mark.parametrize("p_value", ["poisson", "exact"])
def test_gistar_halo_equals_the_whole_county(county, county_gi, p_value):
    """Gi* per district with a one-cell halo gives esda's whole-county Gi* exactly."""
    grid, *_ = county
    y, area, adjacency, owner = county_gi
    whole = gistar_table(y, grid_weights(grid), permutations=0, p_value=p_value, area=area)
    halo = district_gistar(y, adjacency, owner, area=area, p_value=p_value)
    pd.testing.assert_frame_equal(halo[GI_COLUMNS], whole[GI_COLUMNS], rtol=1e-9, atol=1e-12)
    assert halo["hot_cold"].tolist() == whole["hot_cold"].tolist()
    assert halo["hot_cold"].str.startswith("hot").sum() > 20  # the county has real hotspots
    # high z-scores on district edges, where the halo matters
    edge = np.asarray((adjacency - _within_districts(adjacency, owner)).sum(axis=1)).ravel() > 0
    assert ((halo["z"].to_numpy() > 3) & edge).sum() > 0


def test_gistar_without_the_halo_changes_edge_cells(county_gi):
    y, area, adjacency, owner = county_gi
    halo = district_gistar(y, adjacency, owner, area=area, p_value="poisson")
    alone = district_gistar(y, _within_districts(adjacency, owner), owner, area=area,
                            p_value="poisson")
    changed = ~np.isclose(alone["z"], halo["z"], rtol=1e-9)
    edge = np.asarray((adjacency - _within_districts(adjacency, owner)).sum(axis=1)).ravel() > 0
    assert changed.sum() > 100 and not changed[~edge].any()


def _lattice(n: int) -> sparse.csr_matrix:
    """Queen adjacency of an n x n lattice (cell i = row * n + col)."""
    r, c = np.divmod(np.arange(n * n), n)
    src, dst = [], []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            rr, cc = r + dr, c + dc
            ok = (dr, dc) != (0, 0)
            ok = ok & (rr >= 0) & (rr < n) & (cc >= 0) & (cc < n)
            src.append(np.flatnonzero(ok))
            dst.append(rr[ok] * n + cc[ok])
    src, dst = np.concatenate(src), np.concatenate(dst)
    return sparse.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n * n, n * n))


def test_gistar_halo_is_quiet_on_noise_and_finds_a_cluster_across_an_edge():
    """Calibration carries over: uniform counts give no hotspot; a planted one is found.

    Question answered: is the window around this cell far above the whole area's average?
    Two districts split a 30 x 30 lattice down the middle; the planted cluster straddles it.
    """
    n = 30
    adjacency = _lattice(n)
    owner = (np.arange(n * n) % n >= n // 2).astype(int)
    rng = np.random.default_rng(7)
    quiet = [district_gistar(rng.poisson(2.0, n * n), adjacency, owner) for _ in range(20)]
    assert sum((t["p_adj"] < 0.05).any() for t in quiet) <= 1
    y = rng.poisson(2.0, n * n)
    r, c = np.divmod(np.arange(n * n), n)
    planted = (abs(r - 15) <= 1) & (abs(c - 14.5) <= 1.5)  # 3 x 4 cells across the edge
    y[planted] += 12
    table = district_gistar(y, adjacency, owner)
    hot = (table["hot_cold"].str.startswith("hot") & (table["p_adj"] < 0.05)).to_numpy()
    assert hot[planted].all()
    assert set(owner[hot & planted]) == {0, 1}


def test_gistar_halo_refuses_permutation_p_values(county_gi):
    y, area, adjacency, owner = county_gi
    with pytest.raises(BadInput, match="permutation"):
        district_gistar(y, adjacency, owner, p_value="sim")


# Emerging hotspots ---------------------------------------------------------------------


@pytest.mark.slow
def test_emerging_halo_equals_the_whole_county(county_pack, county_geocoded, county):
    """Space-time Gi* per district (halo of neighbouring cells, all steps) = whole county.

    On 500 m cells the two summation orders differ in the last bits of z; the trend test
    compares z to 9 decimals, or 35 places would get another Mann-Kendall tau (a series
    constant up to 1e-15 would count as a trend in one path only).
    """
    _, _, districts, _ = county
    cube = pack_cube(county_geocoded, county_pack, Filters(), unit="grid", cell_size=500.0)
    whole = emerging_hotspots(cube)
    halo = emerging_hotspots(cube, districts=districts)
    np.testing.assert_allclose(halo.z, whole.z, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(halo.p_adj, whole.p_adj, rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(halo.locations, whole.locations)
    assert (whole.p_adj < 0.05).sum() > 20


# Layers: run_method per district ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, params",
    [("gistar", {"cell_size": 400.0}), ("kde", {"cell_size": 200.0, "bandwidth": 800.0})],
)
def test_layer_per_district_equals_the_whole_county_layer(
    county_pack, county_geocoded, county, same_geojson, method, params
):
    """Same hotspots, classes, labels and parameters; measures to 1e-9 (summing order)."""
    _, _, districts, _ = county
    whole = run_method(method, county_geocoded, county_pack, **params)
    halo = run_method(method, county_geocoded, county_pack, districts=districts, **params)
    same_geojson(halo.to_geojson(include_surface=True), whole.to_geojson(include_surface=True))
    assert len(whole.hotspots) > 10
    assert halo.hotspots["label"].tolist() == whole.hotspots["label"].tolist()
    if method == "gistar":
        assert halo.surface["hot_cold"].tolist() == whole.surface["hot_cold"].tolist()
        assert halo.surface["p_sim"].isna().all() and whole.surface["p_sim"].isna().all()
    # hotspots on district edges, where the halo matters
    owner = place_districts(whole.surface.geometry, districts)
    assert len(set(owner[whole.surface["hotspot"].to_numpy()])) > 1


def test_per_district_runs_only_where_it_is_exact(county_pack, county_geocoded):
    """Methods without a halo rule, and Gi* permutation p-values, are refused in one line."""
    with pytest.raises(BadInput, match="'grid-count' does not run per district.*kde, gistar"):
        run_method("grid-count", county_geocoded, county_pack, client=object())
    districts = pack_districts(county_pack)
    with pytest.raises(BadInput, match="permutation p-value draws from the whole area"):
        run_method("gistar", county_geocoded, county_pack, districts=districts,
                   cell_size=1000.0, permutations=99)
