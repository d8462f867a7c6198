"""Fixtures of the API tests: one app per test module on its own temporary store."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from geo_ssgp.api import create_app
from geo_ssgp.config import get_settings


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app on the Gloucester sample (ingested into a fresh store)."""
    settings = get_settings(store_dir=tmp_path_factory.mktemp("api-store"))
    return create_app(settings, load_sample=True)


@pytest.fixture(scope="module")
def client(app):
    """A TestClient of :func:`app`."""
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def svc(app):
    """The app's Service."""
    return app.state.geo
