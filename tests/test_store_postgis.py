"""PostGIS-only behaviour: migrations, QGIS-readable tables, published layers, concurrency.

The interface shared with the embedded store is tested on both backends in test_store.py.
"""

import threading
import uuid

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from shapely.geometry import Point, box

from geo_ssgp.config import get_settings
from geo_ssgp.errors import AlreadyStored, BadInput
from geo_ssgp.hotspots.layer import HotspotLayer
from geo_ssgp.pipeline import ingest_files
from geo_ssgp.store import SQLiteStore, open_store
from geo_ssgp.store_postgis import PostGISStore, migrations


@pytest.fixture
def store(postgis_url):
    return PostGISStore(postgis_url, f"t_{uuid.uuid4().hex[:12]}")


def _query(store, text, params=()):
    with psycopg.connect(store.url) as con:
        return con.execute(text, params).fetchall()


def _dataset(sha: str, n: int):
    incidents = gpd.GeoDataFrame(
        {"incident_id": [f"{sha}-{i}" for i in range(n)], "source_file": f"{sha}.csv",
         "source_row": range(n), "status": "ok"},
        geometry=[Point(380000 + i % 500, 215000 + i // 500) for i in range(n)],
        crs="EPSG:27700",
    )
    quarantine = pd.DataFrame(
        {"source": ["local"], "source_file": [f"{sha}.csv"], "source_row": [n],
         "reason": ["no_location"], "detail": ["x"], "original": ["{}"]}
    )
    info = {"sha256": sha, "name": f"{sha}.csv", "source": "local", "n_in": n + 1,
            "n_accepted": n, "n_quarantined": 1, "by_reason": {"no_location": 1}}
    return info, incidents, quarantine


def test_open_store_selects_postgis_for_a_url(postgis_url, tmp_path):
    assert isinstance(open_store(get_settings(store_dir=postgis_url), "gloucester"), PostGISStore)
    assert isinstance(open_store(get_settings(store_dir=tmp_path), "gloucester"), SQLiteStore)


def test_migrations_are_numbered_and_applied_once(store):
    versions = [v for v, _, _ in migrations()]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert store.schema_version() == versions[-1]
    assert store.migrate() == []  # reopening applies nothing
    again = PostGISStore(store.url, store.schema)
    assert again.migrate() == []
    rows = _query(store, f"SELECT version FROM {store.schema}.schema_migrations")
    assert [r[0] for r in rows] == versions


def test_migration_2_marks_police_uk_datasets_public_and_types_lsoa_rule(store):
    police, local = _dataset("aaa", 2), _dataset("bbb", 2)
    police[0]["source"] = "police-uk"
    police[1]["lsoa_rule"] = ["polygon", "map_point"]
    store.add_datasets([police, local])
    with psycopg.connect(store.url) as con:  # back to the store as migration 1 left it
        con.execute(f"ALTER TABLE {store.schema}.datasets DROP COLUMN public")
        con.execute(f"ALTER TABLE {store.schema}.incidents DROP COLUMN lsoa_rule")
        con.execute(f"DELETE FROM {store.schema}.schema_migrations WHERE version = 2")
    assert store.migrate() == [2]
    assert store.datasets()["public"].tolist() == [True, False]
    police[1]["lsoa_rule"] = ["map_point", "polygon"]
    store.add_datasets([({**police[0], "sha256": "ccc"}, police[1], police[2])])
    rows = _query(store, f"SELECT lsoa_rule, extra FROM {store.schema}.incidents"
                         " WHERE lsoa_rule IS NOT NULL ORDER BY id")
    assert rows == [("map_point", None), ("polygon", None)]  # a typed column, not in extra


def test_tables_are_qgis_readable(store):
    """QGIS needs a geometry column with a declared SRID and a primary key per table."""
    columns = _query(
        store,
        "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns"
        " WHERE f_table_schema = %s ORDER BY f_table_name",
        (store.schema,),
    )
    assert columns == [("focus_areas", "geom", 27700, "GEOMETRY"),
                       ("incidents", "geom", 27700, "POINT")]
    keyed = _query(
        store,
        "SELECT table_name FROM information_schema.table_constraints WHERE table_schema = %s"
        " AND constraint_type = 'PRIMARY KEY' ORDER BY table_name",
        (store.schema,),
    )
    assert [r[0] for r in keyed] == ["datasets", "focus_areas", "hotspot_layers", "incidents",
                                     "quarantine", "runs", "schema_migrations"]
    indexes = _query(
        store, "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexdef LIKE"
        " '%%USING gist%%' ORDER BY indexname", (store.schema,)
    )
    assert [r[0] for r in indexes] == ["focus_areas_geom_gix", "incidents_geom_gix"]


def test_focus_area_geometry_is_stored_in_bng(store):
    area = store.save_focus_area("Barton", "", box(383000, 218000, 383500, 218400), [], {})
    row = _query(store, f"SELECT ST_SRID(geom), ST_Area(geom) FROM {store.schema}.focus_areas"
                 " WHERE id = %s", (area.id,))
    assert row == [(27700, 200000.0)]


def _layer() -> HotspotLayer:
    hotspots = gpd.GeoDataFrame(
        {"rank": [1, 2], "n_incidents": [40, 12], "label": ["Near <Eastgate>", "Barton"],
         "score": [3.2, 1.1], "single_snap_point": [True, False]},
        geometry=[box(383000, 218000, 383050, 218050), box(383100, 218000, 383150, 218050)],
        crs="EPSG:27700",
    )
    return HotspotLayer("gistar", hotspots, {"cell_size": 50, "fdr": True})


def test_published_layer_is_a_qgis_table_with_parameters(store):
    table = store.publish_layer("gistar-q3", _layer())
    assert table == f"{store.schema}.layer_gistar_q3"
    rows = _query(store, f"SELECT fid, rank, n_incidents, label, single_snap_point, ST_SRID(geom),"
                  f" ST_Area(geom) FROM {table} ORDER BY fid")
    assert rows == [(1, 1, 40, "Near <Eastgate>", True, 27700, 2500.0),
                    (2, 2, 12, "Barton", False, 27700, 2500.0)]
    geom = _query(store, "SELECT srid, type FROM geometry_columns WHERE f_table_schema = %s"
                  " AND f_table_name = 'layer_gistar_q3'", (store.schema,))
    assert geom == [(27700, "POLYGON")]
    catalogue = _query(store, f"SELECT method, parameters, n_features FROM"
                       f" {store.schema}.hotspot_layers")
    assert catalogue == [("gistar", {"cell_size": 50, "fdr": True}, 2)]
    comment = _query(store, "SELECT obj_description(%s::regclass)", (table,))[0][0]
    assert comment.startswith("gistar hotspots:") and '"cell_size": 50' in comment
    # publishing again under the same name replaces the layer
    one = _layer()
    one.hotspots = one.hotspots.iloc[:1]
    store.publish_layer("gistar-q3", one)
    assert _query(store, f"SELECT count(*) FROM {table}") == [(1,)]
    assert _query(store, f"SELECT n_features FROM {store.schema}.hotspot_layers") == [(1,)]
    with pytest.raises(BadInput, match="layer name"):
        store.publish_layer("x; drop table incidents", _layer())


def test_twenty_parallel_focus_writers_lose_nothing(store):
    """Each thread has its own store object (its own connections), like 20 API workers."""
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        mine = PostGISStore(store.url, store.schema)
        try:
            barrier.wait()
            area = mine.save_focus_area(f"area {i}", "", box(i, 0, i + 1, 1), [f"E{i}"], {})
            mine.update_focus_area(area.id, notes=f"note {i}")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    areas = store.list_focus_areas()
    assert len(areas) == 20 and len({a.id for a in areas}) == 20
    assert sorted(a.name for a in areas) == sorted(f"area {i}" for i in range(20))
    assert all(a.notes == f"note {a.name.split()[1]}" for a in areas)
    assert all(a.lsoa_codes == [f"E{a.name.split()[1]}"] for a in areas)


def test_two_concurrent_ingests_lose_nothing(store):
    """Two different files land in full; the same file ingested twice at once is stored once."""
    barrier = threading.Barrier(3)
    outcome: dict[str, object] = {}

    def ingest(key: str, item) -> None:
        barrier.wait()
        try:
            outcome[key] = store.add_datasets([item])
        except AlreadyStored as exc:
            outcome[key] = exc

    jobs = [("a", _dataset("aaa", 5000)), ("b", _dataset("bbb", 4000)),
            ("a-again", _dataset("aaa", 5000))]
    threads = [threading.Thread(target=ingest, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [k for k, v in outcome.items() if isinstance(v, Exception)]
    assert len(failed) == 1 and failed[0] in ("a", "a-again")
    assert sorted(store.datasets()["sha256"]) == ["aaa", "bbb"]
    incidents = store.incidents()
    assert len(incidents) == 9000
    assert incidents["incident_id"].is_unique
    assert incidents.groupby("source_file").size().to_dict() == {"aaa.csv": 5000, "bbb.csv": 4000}
    assert len(store.quarantine()) == 2


def test_removing_a_dataset_deletes_its_rows_in_one_transaction(store):
    """The catalogue row, its incidents and its quarantine go together, or not at all."""
    first, second = store.add_datasets([_dataset("aaa", 30), _dataset("bbb", 20)])

    def counts():
        return [_query(store, f"SELECT dataset_id, count(*) FROM {store.schema}.{t}"
                       " GROUP BY dataset_id ORDER BY dataset_id") for t in
                ("incidents", "quarantine")]

    before = counts()
    assert before == [[(first, 30), (second, 20)], [(first, 1), (second, 1)]]
    # a failure part-way through the cascade (a trigger refusing quarantine deletes) undoes it
    with psycopg.connect(store.url, autocommit=True) as con:
        con.execute(f"SET search_path TO {store.schema}")
        con.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN RAISE EXCEPTION 'refused'; END $$")
        con.execute("CREATE TRIGGER refuse BEFORE DELETE ON quarantine FOR EACH ROW"
                    " EXECUTE FUNCTION refuse()")
    with pytest.raises(psycopg.errors.RaiseException, match="refused"):
        store.remove_dataset(first)
    assert counts() == before and store.has_dataset("aaa")
    with psycopg.connect(store.url, autocommit=True) as con:
        con.execute(f"DROP TRIGGER refuse ON {store.schema}.quarantine")
    assert store.remove_dataset(first)["sha256"] == "aaa"
    assert counts() == [[(second, 20)], [(second, 1)]]


def test_partial_edit_keeps_other_fields_and_geometry_srid(store):
    area = store.save_focus_area("Barton", "n", box(383000, 218000, 383500, 218400), ["E1"],
                                 {"period": "2025-03"})
    moved = store.update_focus_area(area.id, geometry=box(0, 0, 10, 10))
    assert (moved.name, moved.notes, moved.lsoa_codes, moved.params) == (
        "Barton", "n", ["E1"], {"period": "2025-03"})
    assert moved.created_at == area.created_at and moved.etag != area.etag
    row = _query(store, f"SELECT ST_SRID(geom), ST_Area(geom) FROM {store.schema}.focus_areas")
    assert row == [(27700, 100.0)]


@pytest.mark.slow
def test_sample_round_trip_equals_the_embedded_store(store, pack, sample_files, tmp_path):
    """Same files through both backends: identical incidents, dtypes, quarantine, catalogue."""
    files = sample_files[:2]
    embedded = SQLiteStore(tmp_path)
    first = ingest_files(store, pack, files)
    assert first == ingest_files(embedded, pack, files)
    pd.testing.assert_frame_equal(store.incidents(), embedded.incidents())
    pd.testing.assert_frame_equal(store.quarantine(), embedded.quarantine())
    columns = ["sha256", "name", "source", "n_in", "n_accepted", "n_quarantined", "by_reason"]
    pd.testing.assert_frame_equal(store.datasets()[columns], embedded.datasets()[columns])
    again = ingest_files(store, pack, files)  # keyed by file hash: a no-op
    assert again["skipped"] == [f.name for f in files] and again["in"] == 0
    assert len(store.incidents()) == first["accepted"]


def test_unreachable_database_is_one_clear_error_without_the_password():
    message = r"cannot connect to the PostGIS store at 127.0.0.1:1/x"
    with pytest.raises(BadInput, match=message) as e:
        PostGISStore("postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2", "gloucester")
    assert "hunter2" not in str(e.value)


def test_remove_dataset_takes_its_incidents_and_quarantine(store):
    """The PostGIS store removes a dataset like the embedded one: rows cascade, 404 after."""
    from geo_ssgp.errors import NotFound

    store.add_datasets([_dataset("aaa", 30), _dataset("bbb", 20)])
    first = int(store.datasets()["id"].iloc[0])
    removed = store.remove_dataset(first)
    assert (removed["sha256"], removed["n_accepted"]) == ("aaa", 30)
    assert store.datasets()["sha256"].tolist() == ["bbb"]
    assert len(store.incidents()) == 20 and len(store.quarantine()) == 1
    with pytest.raises(NotFound, match=f"no dataset {first}"):
        store.remove_dataset(first)
