"""The Dask engine gives the in-process result: same rows, same codes, same quarantine.

One LocalCluster (2 worker processes) per module; the data are the Gloucester sample and
small constructed files.
"""

import dask_geopandas
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geo_ssgp.areas import area_count_part, area_counts, area_stats_for, area_stats_from_parts
from geo_ssgp.cli import app
from geo_ssgp.dask_engine import (
    dask_client,
    geocode_to_parquet,
    map_analysed,
    map_stored,
    read_and_geocode_dask,
)
from geo_ssgp.errors import IngestError
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots.count import cell_count_part
from geo_ssgp.hotspots.grid import make_grid, study_region
from geo_ssgp.pipeline import analysed_incidents, ingest_files, read_and_geocode
from geo_ssgp.store import SQLiteStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def test_sample_equals_the_in_process_path(client, pack, sample_files, sample_result,
                                           sample_geocoded):
    result, geocoded = read_and_geocode_dask(sample_files, pack, client)
    pd.testing.assert_frame_equal(geocoded, sample_geocoded)
    pd.testing.assert_frame_equal(result.incidents, sample_result.incidents)
    pd.testing.assert_frame_equal(result.quarantine, sample_result.quarantine)
    assert result.n_in == sample_result.n_in == 44_665
    assert result.files == sample_result.files
    assert (geocoded["status"] == "ok").sum() == 14_333


def test_hilbert_geoparquet_reads_back_with_partition_bounds(client, pack, sample_files,
                                                              sample_geocoded, tmp_path):
    files = sample_files[:3]
    balance = geocode_to_parquet(files, pack, client, tmp_path / "pq")
    assert balance.incidents.empty and balance.n_in == sum(f["n_in"] for f in balance.files)
    parts = dask_geopandas.read_parquet(tmp_path / "pq")
    # three small files on two workers: one partition per worker, written by the worker
    assert parts.npartitions == 2 and len(parts.spatial_partitions) == 2
    first = parts.get_partition(0).compute()
    assert first.index.name == "hilbert_distance" and first.index.is_monotonic_increasing
    assert parts.crs.to_epsg() == 27700
    names = {f.name for f in files}
    expected = sample_geocoded[sample_geocoded["source_file"].isin(names)]
    got = parts.compute().sort_values(["source_file", "source_row"], ignore_index=True)
    got.index = got.index.astype(expected.index.dtype)
    expected = expected.sort_values(["source_file", "source_row"], ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_index_type=False)
    # each partition's points lie inside the bounds recorded for it
    for i, bounds in enumerate(parts.spatial_partitions):
        assert parts.get_partition(i).compute().within(bounds.buffer(1e-6)).all()


def test_counts_read_only_their_columns_of_the_written_geoparquet(client, pack, sample_files,
                                                                 sample_geocoded, tmp_path):
    """The written GeoArrow points and the ``columns`` read back give the in-process counts."""
    files = sample_files[:3]
    geocode_to_parquet(files, pack, client, tmp_path / "pq")
    written = sorted((tmp_path / "pq").glob("part.*.parquet"))
    expected = sample_geocoded[sample_geocoded["source_file"].isin({f.name for f in files})]
    lsoa = map_analysed(client, written, area_counts, "lsoa21", columns=["lsoa21cd"])
    got = pd.concat(lsoa).groupby(level=0).sum().sort_index()
    pd.testing.assert_series_equal(got, area_counts(expected, "lsoa21").sort_index(),
                                   check_names=False)
    grid = make_grid(study_region(pack), cell_size=50.0)
    cells = map_analysed(client, written, cell_count_part, Filters(), grid, columns=["geometry"])
    np.testing.assert_array_equal(np.sum(cells, axis=0),
                                  cell_count_part(expected, Filters(), grid))
    assert np.sum(cells) == (expected["status"] == "ok").sum() > 3000


def test_record_ids_repeated_across_files_are_refused(client, pack, tmp_path):
    header = "ref,date,type,lon,lat\n"
    a = tmp_path / "a.csv"
    a.write_text(header + "X1,2025-01-02,ASB,-2.2437,51.8651\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text(header + "X1,2025-01-03,ASB,-2.2437,51.8651\n", encoding="utf-8")
    with pytest.raises(IngestError, match="1 record IDs repeat across files"):
        read_and_geocode_dask([a, b], pack, client)
    with pytest.raises(IngestError, match="1 record IDs repeat across files"):
        geocode_to_parquet([a, b], pack, client, tmp_path / "pq")
    assert not (tmp_path / "pq").exists()  # nothing half-written is left
    # within one file the rule is the in-process one: the repeat is quarantined
    c = tmp_path / "c.csv"
    c.write_text(header + "X1,2025-01-02,ASB,-2.2437,51.8651\nX1,2025-01-03,ASB,-2.2,51.8\n",
                 encoding="utf-8")
    result, _ = read_and_geocode_dask([c], pack, client)
    assert result.quarantine["reason"].tolist() == ["duplicate_id"]


def test_ingest_with_a_client_stores_what_in_process_stores(client, pack, sample_files,
                                                            tmp_path):
    files = sample_files[:2]
    dask_store, plain_store = SQLiteStore(tmp_path / "d"), SQLiteStore(tmp_path / "p")
    assert ingest_files(dask_store, pack, files, client=client) == ingest_files(
        plain_store, pack, files
    )
    pd.testing.assert_frame_equal(dask_store.incidents(), plain_store.incidents())
    pd.testing.assert_frame_equal(dask_store.quarantine(), plain_store.quarantine())


def test_cli_geocode_engine_dask_writes_the_same_csv(pack, sample_files, tmp_path):
    runner = CliRunner()
    files = [str(f) for f in sample_files[:1]]
    plain, dask_out = tmp_path / "plain.csv", tmp_path / "dask.csv"
    assert runner.invoke(app, ["geocode", *files, "--out", str(plain)]).exit_code == 0
    args = ["geocode", *files, "--out", str(dask_out), "--engine", "dask", "--workers", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert dask_out.read_text() == plain.read_text()
    _, geocoded = read_and_geocode(sample_files[:1], pack)
    assert len(pd.read_csv(dask_out)) >= len(geocoded)


def test_cli_engine_options_are_checked(sample_files, tmp_path):
    runner = CliRunner()
    out = str(tmp_path / "x.csv")
    result = runner.invoke(app, ["geocode", str(sample_files[0]), "--out", out, "--engine", "x"])
    assert result.exit_code == 2 and "--engine 'x': expected in-process or dask" in result.output
    result = runner.invoke(app, ["geocode", str(sample_files[0]), "--out", out, "--workers", "2"])
    assert result.exit_code == 2 and "need --engine dask" in result.output


@pytest.fixture(scope="module")
def stored(pack, sample_files, tmp_path_factory):
    """An embedded store holding the nine sample months (nine GeoParquet datasets)."""
    store = SQLiteStore(tmp_path_factory.mktemp("dask-store") / pack.name)
    ingest_files(store, pack, sample_files)
    return store


@pytest.mark.parametrize(
    "filters, level",
    [(Filters(), "lsoa21"), (Filters.of("2025-04", "2025-09", ["violence"]), "ward")],
)
def test_areas_on_the_cluster_equal_the_in_process_table(client, pack, stored, filters, level):
    parts = map_analysed(client, stored.incident_files(), area_count_part, filters, level)
    assert len(parts) == 2  # nine small datasets, two workers: one partition each
    got = area_stats_from_parts(parts, pack, filters, level)
    expected = area_stats_for(analysed_incidents(stored), pack, filters, level)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs


def test_grid_counts_on_the_cluster_equal_the_in_process_counts(client, pack, stored):
    grid = make_grid(study_region(pack), cell_size=50.0)
    filters = Filters.of("2025-01", "2025-09", ["Anti-social behaviour"])
    parts = map_analysed(client, stored.incident_files(), cell_count_part, filters, grid)
    expected = cell_count_part(analysed_incidents(stored), filters, grid)
    np.testing.assert_array_equal(np.sum(parts, axis=0), expected)
    assert expected.sum() == len(filters.apply(analysed_incidents(stored))) > 1000


def test_cli_areas_and_grid_counts_engine_dask_write_the_same_csv(stored, tmp_path):
    runner = CliRunner()
    store = ["--store", str(stored.root.parent)]
    for command in (["areas", "--level", "ward"], ["grid-counts", "--cell-size", "100"]):
        plain, dask_out = tmp_path / "plain.csv", tmp_path / "dask.csv"
        result = runner.invoke(app, [*command, "--out", str(plain), *store])
        assert result.exit_code == 0, result.output
        args = [*command, "--out", str(dask_out), *store, "--engine", "dask", "--workers", "1"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert dask_out.read_text() == plain.read_text()
    assert "occupied 100 m cells" in result.output
    assert pd.read_csv(dask_out)["count"].sum() == len(analysed_incidents(stored))


@pytest.fixture(scope="module")
def pg_stored(postgis_url, pack, sample_files):
    """A PostGIS store (a database of its own) holding the nine sample months."""
    import psycopg

    from geo_ssgp.store_postgis import PostGISStore

    with psycopg.connect(postgis_url, autocommit=True) as con:
        con.execute("CREATE DATABASE dask_engine")
    store = PostGISStore(postgis_url.rsplit("/", 1)[0] + "/dask_engine", pack.name)
    ingest_files(store, pack, sample_files)
    return store


def test_cli_ingest_engine_dask_into_postgis_stores_what_in_process_stores(
    client, pg_stored, sample_files
):
    """``ingest --engine dask`` writes through the same Store interface: same rows in PostGIS."""
    import psycopg

    from geo_ssgp.store_postgis import PostGISStore

    url = pg_stored.url.rsplit("/", 1)[0]
    with psycopg.connect(f"{url}/postgres", autocommit=True) as con:
        con.execute("CREATE DATABASE dask_ingest")
    args = ["ingest", *map(str, sample_files), "--store", f"{url}/dask_ingest",
            "--engine", "dask", "--scheduler", client.scheduler.address]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "in 44,665 = accepted 43,590 + quarantined 1,075" in result.output
    landed = PostGISStore(f"{url}/dask_ingest", pg_stored.schema)
    pd.testing.assert_frame_equal(landed.incidents(), pg_stored.incidents())
    pd.testing.assert_frame_equal(landed.quarantine(), pg_stored.quarantine())


@pytest.mark.parametrize(
    "filters, level",
    [(Filters(), "lsoa21"), (Filters.of("2025-04", "2025-09", ["violence"]), "ward")],
)
def test_areas_read_from_postgis_by_the_workers_equal_the_in_process_table(
    client, pack, pg_stored, stored, filters, level
):
    parts = map_stored(client, pg_stored, area_count_part, filters, level)
    assert len(parts) == 2  # nine datasets, two workers: one query of datasets each
    got = area_stats_from_parts(parts, pack, filters, level)
    expected = area_stats_for(analysed_incidents(pg_stored), pack, filters, level)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs
    # and the same table as the embedded store's files give
    pd.testing.assert_frame_equal(got, area_stats_from_parts(
        map_stored(client, stored, area_count_part, filters, level), pack, filters, level))
    assert got["count"].sum() == len(filters.apply(analysed_incidents(pg_stored))) > 1000


def test_grid_counts_read_from_postgis_equal_the_in_process_counts(client, pack, pg_stored):
    grid = make_grid(study_region(pack), cell_size=50.0)
    filters = Filters.of("2025-01", "2025-09", ["Anti-social behaviour"])
    parts = map_stored(client, pg_stored, cell_count_part, filters, grid)
    expected = cell_count_part(analysed_incidents(pg_stored), filters, grid)
    np.testing.assert_array_equal(np.sum(parts, axis=0), expected)
    assert expected.sum() == len(filters.apply(analysed_incidents(pg_stored))) > 1000


def test_a_partition_of_postgis_datasets_is_read_as_in_process(pg_stored):
    """The workers' reader gives the rows, columns and dtypes of ``incidents()``."""
    everything = pg_stored.incidents()
    ids = pg_stored.datasets()["id"].tolist()
    parts = [pg_stored.dataset_incidents(ids[:4]), pg_stored.dataset_incidents(ids[4:])]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), everything)
    assert len(pg_stored.dataset_incidents([])) == 0


def test_cli_areas_and_grid_counts_engine_dask_on_the_postgis_store(client, pg_stored, tmp_path):
    runner = CliRunner()
    store = ["--store", pg_stored.url, "--pack", "gloucester"]
    cluster = ["--engine", "dask", "--scheduler", client.scheduler.address]
    for command in (["areas", "--level", "lsoa21", "--from", "2025-03", "--crime-type", "asb"],
                    ["grid-counts", "--cell-size", "100"]):
        plain, dask_out = tmp_path / "plain.csv", tmp_path / "dask.csv"
        result = runner.invoke(app, [*command, "--out", str(plain), *store])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, [*command, "--out", str(dask_out), *store, *cluster])
        assert result.exit_code == 0, result.output
        assert dask_out.read_text() == plain.read_text()
    assert pd.read_csv(dask_out)["count"].sum() == len(analysed_incidents(pg_stored))


def test_incidents_in_two_sources_count_once_as_in_process(client, pack, sample_files):
    """The radius export repeats street-CSV incidents: both engines quarantine the same rows."""
    radius = sorted((pack.data_dir / "incidents" / "police-uk-api-radius").glob("*.csv"))
    files = [*radius, *sample_files[:3]]
    result, geocoded = read_and_geocode_dask(files, pack, client)
    plain_result, plain = read_and_geocode(files, pack)
    pd.testing.assert_frame_equal(geocoded, plain)
    pd.testing.assert_frame_equal(result.quarantine, plain_result.quarantine)
    assert result.files == plain_result.files
    assert (result.quarantine["reason"] == "duplicate_incident").sum() > 1000
