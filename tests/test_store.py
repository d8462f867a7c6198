"""The store interface, run against both backends: embedded SQLite + GeoParquet and PostGIS."""

import os
import threading
import uuid

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo_ssgp.errors import AlreadyStored, IngestError, NotFound, StaleWrite
from geo_ssgp.store import MAX_ID, SQLiteStore


@pytest.fixture(params=["sqlite", "postgis"])
def new_store(request, tmp_path):
    """A factory of empty stores of one backend; calls with the same key share a store."""
    made = {}

    def make(key: str = "main"):
        if key not in made:
            if request.param == "sqlite":
                made[key] = SQLiteStore(tmp_path / key)
            else:
                from geo_ssgp.store_postgis import PostGISStore

                url = request.getfixturevalue("postgis_url")
                made[key] = PostGISStore(url, f"t_{uuid.uuid4().hex[:12]}")
        return made[key]

    return make


def _dataset(sha: str, n: int = 3):
    incidents = gpd.GeoDataFrame(
        {"incident_id": [f"{sha}-{i}" for i in range(n)], "source_file": "f.csv",
         "status": "ok"},
        geometry=[Point(383000 + i, 218000) for i in range(n)],
        crs="EPSG:27700",
    )
    quarantine = pd.DataFrame(
        {"source": ["local"], "source_file": ["f.csv"], "source_row": [n],
         "reason": ["no_location"], "detail": ["x"], "original": ["{}"]}
    )
    info = {"sha256": sha, "name": f"{sha}.csv", "source": "local", "n_in": n + 1,
            "n_accepted": n, "n_quarantined": 1, "by_reason": {"no_location": 1}}
    return info, incidents, quarantine


def test_datasets_round_trip(new_store):
    store = new_store()
    ids = store.add_datasets([_dataset("aaa"), _dataset("bbb", 2)])
    assert ids == [1, 2]
    assert store.has_dataset("aaa") and not store.has_dataset("ccc")
    incidents = store.incidents()
    assert len(incidents) == 5
    assert incidents.crs.to_epsg() == 27700
    assert list(incidents["incident_id"][:3]) == ["aaa-0", "aaa-1", "aaa-2"]
    assert len(store.quarantine()) == 2
    catalogue = store.datasets()
    assert list(catalogue["n_in"]) == [4, 3]


def test_datasets_record_whether_their_records_are_public(new_store):
    store = new_store()
    local, marked, police = _dataset("aaa"), _dataset("bbb"), _dataset("ccc")
    marked[0]["public"] = True
    police[0]["source"] = "police-uk"
    store.add_datasets([local, marked, police])
    catalogue = store.datasets()
    assert catalogue["public"].tolist() == [False, True, True]  # police.uk: always public
    assert catalogue["public"].dtype == bool
    assert store.remove_dataset(2)["public"] in (True, 1)


def test_an_old_sqlite_catalogue_gets_the_public_column(tmp_path):
    import sqlite3

    SQLiteStore(tmp_path).add_datasets([_dataset("aaa")])
    with sqlite3.connect(tmp_path / "catalogue.sqlite") as con:  # as made before the column
        con.execute("ALTER TABLE datasets DROP COLUMN public")
        con.execute("UPDATE datasets SET source = 'police-uk'")
    store = SQLiteStore(tmp_path)
    store.add_datasets([_dataset("bbb")])
    assert store.datasets()["public"].tolist() == [True, False]


def test_columns_outside_the_schema_keep_values_and_dtypes(new_store):
    store = new_store()
    info, incidents, quarantine = _dataset("aaa", 2)
    incidents["subcategory"] = ["", "shoplifting"]
    incidents["occurred_at"] = pd.to_datetime([None, "2025-03-01 10:30"])
    store.add_datasets([(info, incidents, quarantine)])
    pd.testing.assert_frame_equal(store.incidents(), incidents)


def test_failed_write_leaves_store_unchanged(new_store):
    store = new_store()
    store.add_datasets([_dataset("aaa")])
    files = getattr(store, "data_dir", None)
    before = sorted(p.name for p in files.iterdir()) if files else None
    # the second dataset repeats a stored hash: the UNIQUE constraint fails mid-transaction
    with pytest.raises(AlreadyStored, match="already stored"):
        store.add_datasets([_dataset("ddd"), _dataset("aaa")])
    if files:
        assert sorted(p.name for p in files.iterdir()) == before
    assert list(store.datasets()["sha256"]) == ["aaa"]
    assert len(store.incidents()) == 3
    assert len(store.quarantine()) == 1
    assert not store.has_dataset("ddd")


def test_focus_area_crud(new_store):
    store = new_store()
    area = store.save_focus_area("Widden pilot", "notes", box(0, 0, 10, 10), ["E01022300"], {})
    assert area.id == 1 and area.lsoa_codes == ["E01022300"]
    updated = store.update_focus_area(area.id, notes="new", lsoa_codes=["E1", "E2"])
    assert updated.notes == "new" and updated.lsoa_codes == ["E1", "E2"]
    assert updated.geometry.equals(box(0, 0, 10, 10))
    assert [a.name for a in store.list_focus_areas()] == ["Widden pilot"]
    store.delete_focus_area(area.id)
    with pytest.raises(KeyError):
        store.get_focus_area(area.id)
    with pytest.raises(KeyError):
        store.delete_focus_area(area.id)


def test_focus_area_rejects_bad_input_without_writing(new_store):
    store = new_store()
    with pytest.raises(ValueError, match="name"):
        store.save_focus_area("  ", "", box(0, 0, 1, 1), [], {})
    with pytest.raises(ValueError, match="outline"):
        store.save_focus_area("x", "", Point(0, 0).buffer(0).difference(box(-1, -1, 1, 1)), [], {})
    assert store.list_focus_areas() == []
    area = store.save_focus_area("ok", "", box(0, 0, 1, 1), [], {})
    with pytest.raises(ValueError):
        store.update_focus_area(area.id, name="")
    assert store.get_focus_area(area.id).name == "ok"


# --------------------------------------------------------------------------------------------
# hardening: ids, concurrent writers, dataset removal, crash leftovers


@pytest.mark.parametrize("bad", [0, -1, MAX_ID + 1, 10**20])
def test_ids_outside_64_bits_are_not_found(new_store, bad):
    store = new_store()
    for call in (store.get_focus_area, store.delete_focus_area, store.remove_dataset):
        with pytest.raises(NotFound):
            call(bad)
    with pytest.raises(NotFound):
        store.update_focus_area(bad, name="x")


def test_concurrent_edits_of_different_fields_both_land(new_store):
    """Two writers change different fields of one area at once: neither edit is lost."""
    store = new_store()
    lost = 0
    for i in range(20):
        area = store.save_focus_area(f"a{i}", "", box(0, 0, 1, 1), [], {})
        barrier = threading.Barrier(2)

        def edit(field, value, area_id=area.id, barrier=barrier):
            barrier.wait()
            store.update_focus_area(area_id, **{field: value})

        threads = [threading.Thread(target=edit, args=("name", f"new{i}")),
                   threading.Thread(target=edit, args=("notes", f"note{i}"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        final = store.get_focus_area(area.id)
        lost += (final.name, final.notes) != (f"new{i}", f"note{i}")
    assert lost == 0


def test_a_write_based_on_a_stale_read_is_refused(new_store):
    store = new_store()
    area = store.save_focus_area("a", "", box(0, 0, 1, 1), [], {})
    first = store.update_focus_area(area.id, if_match=area.etag, notes="one")
    assert first.etag != area.etag
    with pytest.raises(StaleWrite, match="changed since it was read"):
        store.update_focus_area(area.id, if_match=area.etag, notes="two")
    assert store.get_focus_area(area.id).notes == "one"
    quoted = store.update_focus_area(area.id, if_match=f'"{first.etag}"', name="b")
    assert (quoted.name, quoted.notes) == ("b", "one")


def _race(n: int, call, expected: type[Exception]) -> list:
    """Run ``call`` in ``n`` threads released at once; each outcome or expected error text."""
    barrier, outcomes = threading.Barrier(n), []

    def run():
        barrier.wait()
        try:
            outcomes.append(call())
        except expected as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_concurrent_ingests_of_one_file_store_it_once(new_store):
    store = new_store()
    outcomes = _race(4, lambda: store.add_datasets([_dataset("same")]), AlreadyStored)
    assert sum(isinstance(o, list) for o in outcomes) == 1
    assert all("already stored" in o for o in outcomes if isinstance(o, str))
    assert list(store.datasets()["sha256"]) == ["same"]
    assert len(store.incidents()) == 3 and len(store.quarantine()) == 1
    if hasattr(store, "data_dir"):
        assert sorted(p.name for p in store.data_dir.iterdir()) == [
            "same.parquet", "same.quarantine.parquet"]


def test_remove_dataset_deletes_row_and_files(new_store):
    store = new_store()
    first, second = store.add_datasets([_dataset("aaa"), _dataset("bbb", 2)])
    removed = store.remove_dataset(first)
    assert set(removed) == set(store.datasets().columns)
    assert (removed["id"], removed["sha256"], removed["n_accepted"]) == (first, "aaa", 3)
    assert list(store.datasets()["sha256"]) == ["bbb"]
    assert list(store.incidents()["incident_id"]) == ["bbb-0", "bbb-1"]
    assert len(store.quarantine()) == 1
    if hasattr(store, "data_dir"):
        assert not any(p.name.startswith("aaa") for p in store.data_dir.iterdir())
    with pytest.raises(NotFound, match="no dataset"):
        store.remove_dataset(first)


def test_concurrent_removals_of_one_dataset_remove_it_once(new_store):
    """Four callers remove one dataset at once: one gets its row, the others NotFound."""
    store = new_store()
    first, _ = store.add_datasets([_dataset("aaa"), _dataset("bbb", 2)])
    outcomes = _race(4, lambda: store.remove_dataset(first)["sha256"], NotFound)
    assert sorted(outcomes) == ["aaa"] + [f"no dataset {first}"] * 3
    assert list(store.incidents()["incident_id"]) == ["bbb-0", "bbb-1"]


def test_opening_a_store_removes_crash_leftovers(tmp_path, caplog):
    store = SQLiteStore(tmp_path)
    store.add_datasets([_dataset("aaa")])
    leftovers = [store.data_dir / ".bbb.0123.parquet", store.data_dir / "ccc.parquet"]
    for path in leftovers:
        path.write_bytes(b"PAR")
        os.utime(path, (0, 0))
    fresh = store.data_dir / ".ddd.4567.parquet"  # an ingest still writing: kept
    fresh.write_bytes(b"")
    with caplog.at_level("WARNING", logger="geo_ssgp.store"):
        reopened = SQLiteStore(tmp_path)
    assert sorted(reopened.removed_leftovers) == [".bbb.0123.parquet", "ccc.parquet"]
    assert "removed 2 leftover file(s)" in caplog.text
    assert fresh.exists() and len(reopened.incidents()) == 3


def test_a_header_only_file_is_not_stored(new_store):
    store = new_store()
    info, incidents, quarantine = _dataset("empty", 0)
    info.update(n_in=0, n_quarantined=0)
    with pytest.raises(IngestError, match="empty.csv: the file has no rows"):
        store.add_datasets([(info, incidents, quarantine.iloc[0:0])])
    assert store.datasets().empty and store.incidents().empty
    if hasattr(store, "data_dir"):
        assert list(store.data_dir.iterdir()) == []
