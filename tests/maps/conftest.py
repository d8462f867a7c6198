"""Fixtures of the map tests: the vendor folder, the real sample's layers, a browser.

The small known layers and the page-reading helpers are in ``maps_testkit.py`` beside this
file; this folder is put on ``sys.path`` so the test modules can import it.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from maps_testkit import VENDOR_SCRIPT  # noqa: E402

from geo_ssgp import maps  # noqa: E402


def load_vendor_script():
    """``web/vendor_assets.py`` as a module."""
    spec = importlib.util.spec_from_file_location("vendor_assets", VENDOR_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def vendor():
    """The vendor folder, built with web/vendor_assets.py when it is missing or stale."""
    script = load_vendor_script()
    if not script.is_current():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed: cannot build web/static/vendor (make web-assets)")
        subprocess.run([sys.executable, str(VENDOR_SCRIPT)], check=True)
    assert script.is_current()
    return maps.VENDOR_DIR


@pytest.fixture(scope="session")
def vendor_script():
    """``web/vendor_assets.py`` loaded as a module (its ``FILES`` list)."""
    return load_vendor_script()


@pytest.fixture(scope="session")
def real(pack, sample_files):
    """Real Gloucester layers, geocoded incidents, area statistics and three hotspot layers."""
    from geo_ssgp.areas import area_stats
    from geo_ssgp.hotspots import run_method
    from geo_ssgp.pack import load_layer
    from geo_ssgp.pipeline import read_and_geocode

    _, incidents = read_and_geocode(sample_files, pack)
    ok = incidents[incidents["status"] == "ok"]
    layers = {m: run_method(m, incidents, pack) for m in ("grid-count", "kde", "hdbscan")}
    return {
        "incidents": ok,
        "areas": area_stats(incidents, pack, "lsoa21"),
        "wards": load_layer(pack, "ward"),
        "lsoa21": load_layer(pack, "lsoa21"),
        "layers": layers,
    }


@pytest.fixture(scope="session")
def analyst(pack, real, vendor):
    """The analyst map of the real sample and its served page."""
    fmap = maps.build_analyst_map(
        pack,
        real["areas"],
        real["wards"],
        real["layers"],
        "grid-count",
        incidents=real["incidents"],
        surface=real["layers"]["kde"].surface,
    )
    return fmap, maps.render(fmap)


@pytest.fixture(scope="module")
def browser_page():
    """Headless Chromium (skips when Playwright or Chromium is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield browser
        browser.close()
