"""The store interface, run against both backends: embedded SQLite + GeoParquet and PostGIS."""

import uuid

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo_ssgp.store import SQLiteStore


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


def test_failed_write_leaves_store_unchanged(new_store):
    store = new_store()
    store.add_datasets([_dataset("aaa")])
    files = getattr(store, "data_dir", None)
    before = sorted(p.name for p in files.iterdir()) if files else None
    # the second dataset repeats a stored hash: the UNIQUE constraint fails mid-transaction
    with pytest.raises(Exception, match="(?i)unique"):
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
