"""Map builds in worker processes (:mod:`geo_ssgp.api.workers`), end to end.

Questions answered: is a map built in another process and served from the server's cache?
Do typed errors of a build reach the client with their status? Does a killed worker give a
clear "still computing" answer while the server keeps answering, and does the next request
build again? Do the workers see a new store version at once? Does shutdown stop them?
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from fastapi.testclient import TestClient

from geo_ssgp.api import create_app
from geo_ssgp.api.auth import User
from geo_ssgp.config import get_settings
from geo_ssgp.errors import StillComputing
from geo_ssgp.filters import Filters

pytestmark = pytest.mark.slow  # each worker opens the pack and the store itself

ANALYST = {"Authorization": "Bearer dev-analyst"}
VIEWER = {"Authorization": "Bearer dev-viewer"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app with one map worker process, on the sample."""
    settings = get_settings(store_dir=tmp_path_factory.mktemp("workers-store"), map_workers=1)
    return create_app(settings, load_sample=True)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:  # the lifespan starts the worker and stops it at the end
        yield c


def _wait_for_workers(svc, n: int = 1, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(pids := svc.workers.pids()) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return pids


def test_a_map_is_built_in_a_worker_and_served_from_the_server_cache(app, client):
    svc = app.state.geo
    r = client.get("/map/analyst?from=2025-09&to=2025-09", headers=ANALYST)
    assert r.status_code == 200 and r.text.startswith("<!DOCTYPE html>")
    assert "leaflet" in r.text.lower()
    pids = svc.workers.pids()
    assert len(pids) == 1 and os.getpid() not in pids
    kinds = {key[1] for key in svc.cache._data}
    assert "analyst-map" in kinds
    # the layers, statistics and filtered incidents of the build stayed in the worker
    assert not kinds & {"hotspots", "areas", "filtered"}
    again = client.get("/map/analyst?from=2025-09&to=2025-09", headers=ANALYST)
    assert again.text == r.text  # the server's cache, not a second build


def test_hotspot_geojson_from_a_worker_equals_the_in_process_build(app, client):
    r = client.get("/api/hotspots?from=2025-09&to=2025-09&method=kde", headers=VIEWER)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["parameters"]["method"] == "kde"
    assert body["features"] and body["features"][0]["properties"]["rank"] == 1
    here = app.state.geo.hotspot_json_bytes("kde", Filters.of("2025-09", "2025-09"), User("viewer"))
    assert r.content == here  # same bytes, access rules (viewer: suppression) included


def test_a_typed_error_in_a_worker_keeps_its_status_and_message(client):
    r = client.get("/api/emerging?from=2025-09&to=2025-09", headers=ANALYST)
    assert r.status_code == 422
    (detail,) = r.json()["detail"]  # the error table's 422 shape, as in the server process
    assert detail["msg"] == "emerging hotspots need at least 3 time steps, got 1"


def test_a_killed_worker_gives_still_computing_and_the_server_keeps_answering(app, client):
    svc = app.state.geo
    (pid,) = _wait_for_workers(svc)
    outcome: dict = {}

    def ask() -> None:
        try:
            svc.analyst_map(Filters.of("2025-07", "2025-07"), User("analyst"))
        except StillComputing as exc:
            outcome["error"] = str(exc)

    waiter = threading.Thread(target=ask)
    waiter.start()
    deadline = time.monotonic() + 30
    while not svc._building and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    waiter.join(60)
    assert outcome["error"].startswith("the map build was interrupted (a worker stopped")
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    r = client.get("/map/analyst?from=2025-07&to=2025-07", headers=ANALYST)
    assert r.status_code == 200 and "leaflet" in r.text.lower()
    assert svc.workers.pids() and pid not in svc.workers.pids()  # a new worker built it


def test_a_build_longer_than_the_limit_answers_still_computing_and_fills_the_cache(
    app, client
):
    svc = app.state.geo
    svc.settings.__dict__["layer_timeout_s"] = 0.01  # (settings are frozen; test-only change)
    try:
        r = client.get("/map/analyst?from=2025-06&to=2025-06", headers=ANALYST)
        assert r.status_code == 202 and "Still computing" in r.text
        assert client.get("/api/health").status_code == 200
    finally:
        svc.settings.__dict__["layer_timeout_s"] = 600
    for future in list(svc._building.values()):
        future.result(timeout=600)
    hits = svc.cache.hits
    r = client.get("/map/analyst?from=2025-06&to=2025-06", headers=ANALYST)
    assert r.status_code == 200 and svc.cache.hits == hits + 1


def test_workers_see_a_new_store_version_at_once(app, client):
    svc = app.state.geo
    before = svc.workers.submit(svc.version(), "health", User("analyst")).result(600)
    log = "ref,date,type,lon,lat\nW1,2025-08-03 21:40,Begging,-2.2437,51.8651\n"
    files = {"file": ("workers.csv", log, "text/csv")}
    r = client.post("/api/uploads", headers=ANALYST, files=files)
    assert r.status_code == 200, r.text
    after = svc.workers.submit(svc.version(), "health", User("analyst")).result(600)
    assert after["datasets"] == before["datasets"] + 1 == len(svc.version())


def test_closing_the_service_stops_its_workers(tmp_path):
    settings = get_settings(store_dir=tmp_path / "store", map_workers=1)
    svc = create_app(settings, load_sample=False).state.geo
    assert svc.start_workers().result(600)["status"] == "ok"
    (pid,) = svc.workers.pids()
    svc.close()
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid) and svc.workers.pids() == []


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
