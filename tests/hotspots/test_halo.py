"""District-by-district density with a halo equals the whole-county density."""

import numpy as np
import pytest

from geo_ssgp.dask_engine import dask_client
from geo_ssgp.hotspots.grid import make_grid, snap_point_counts, study_region
from geo_ssgp.hotspots.halo import cell_districts, district_density
from geo_ssgp.hotspots.kde import quartic_density
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
def test_districts_run_in_parallel_on_dask(county):
    grid, ok, districts, whole = county
    with dask_client(workers=2) as client:
        halo = district_density(grid, ok, districts, BANDWIDTH, client=client)
    np.testing.assert_allclose(halo, whole, rtol=1e-12, atol=0)
