"""The app factory's start-up: the first analyst page is prepared before "ready", in the
background, so health answers at once and the first page is served from the cache."""

from __future__ import annotations

import logging
import threading

import pytest
from fastapi.testclient import TestClient

from geo_ssgp.api import app as app_module
from geo_ssgp.api import create_app
from geo_ssgp.config import get_settings

ANALYST = {"Authorization": "Bearer dev-analyst"}
VIEWER = {"Authorization": "Bearer dev-viewer"}


@pytest.mark.slow
def test_warm_start_serves_the_first_page_from_the_cache(tmp_path, caplog):
    settings = get_settings(store_dir=tmp_path / "store")
    app = create_app(settings, load_sample=True, warm=True)
    svc = app.state.geo
    with caplog.at_level(logging.INFO, logger="geo_ssgp"), TestClient(app) as client:
        assert app.state.ready.wait(600), "warming did not finish"
        assert any("geo-ssgp ready: the first analyst page is cached" in r.getMessage()
                   for r in caplog.records)
        computed = set(svc.cache._data)
        misses = svc.cache.misses
        for headers in (ANALYST, VIEWER):
            # What the analyst page asks for when it opens (analyst.js: first to last month).
            months = client.get("/api/meta", headers=headers).json()["months"]
            query = f"from={months[0]}&to={months[-1]}"
            assert client.get("/", headers=headers).status_code == 200
            doc = client.get(f"/map/analyst?{query}", headers=headers)
            assert doc.status_code == 200 and "window.geoSsgp.streets(" in doc.text
            assert client.get(f"/api/hotspots/accuracy?{query}", headers=headers).is_success
            layer = client.get(f"/api/hotspots?{query}&method=grid-count", headers=headers)
            assert layer.status_code == 200
        assert client.get("/map/streets.json", headers=ANALYST).status_code == 200
        # Nothing was computed: every answer came from the cache.
        assert set(svc.cache._data) == computed
        assert svc.cache.misses == misses


def test_start_up_does_not_wait_for_warming(tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(app_module, "warm_first_page", lambda service: release.wait(60) and 0.0)
    app = create_app(get_settings(store_dir=tmp_path / "store"), load_sample=True, warm=True)
    with TestClient(app) as client:
        assert client.get("/api/health").status_code == 200
        assert not app.state.ready.is_set()  # still warming: health did not wait for it
        release.set()
        assert app.state.ready.wait(60)


def test_without_warm_nothing_runs_at_start_up(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(app_module, "warm_first_page", calls.append)
    app = create_app(get_settings(store_dir=tmp_path / "store"), load_sample=True)
    with TestClient(app) as client:
        assert client.get("/api/health").status_code == 200
    assert calls == [] and not app.state.ready.is_set()


def test_serve_logs_the_ready_line_through_uvicorn():
    config = app_module.log_config()
    assert config["loggers"]["geo_ssgp"] == {
        "handlers": ["default"], "level": "INFO", "propagate": False
    }
    assert config["handlers"]["default"]["stream"] == "ext://sys.stderr"
