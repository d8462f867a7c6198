"""An installed wheel carries the web assets and pack manifests, and settings find them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from geo_ssgp import config

ROOT = Path(__file__).resolve().parents[1]


def test_settings_find_installed_assets_without_a_checkout(monkeypatch, tmp_path):
    prefix = tmp_path / "prefix"
    (prefix / "share" / "geo_ssgp" / "web" / "templates").mkdir(parents=True)
    (prefix / "share" / "geo_ssgp" / "boundaries").mkdir(parents=True)
    monkeypatch.setattr(config, "_SOURCE_ROOT", tmp_path / "no-checkout")
    monkeypatch.setattr(sys, "prefix", str(prefix))
    settings = config.get_settings()
    assert settings.web_dir == prefix / "share" / "geo_ssgp" / "web"
    assert settings.templates_dir.is_dir()
    assert settings.packs_dir == prefix / "share" / "geo_ssgp" / "boundaries"


def test_settings_use_the_checkout_and_the_environment(monkeypatch, tmp_path):
    assert config.get_settings().web_dir == ROOT / "web"
    monkeypatch.setenv("GEO_SSGP_WEB_DIR", str(tmp_path))
    assert config.get_settings().static_dir == tmp_path / "static"


@pytest.mark.slow
def test_wheel_contains_templates_static_files_and_manifests(tmp_path):
    had_build = (ROOT / "build").exists()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    if not had_build:
        shutil.rmtree(ROOT / "build", ignore_errors=True)
    wheel = next(tmp_path.glob("geo_ssgp-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    share = "geo_ssgp-0.1.0.data/data/share/geo_ssgp/"
    for required in (
        "boundaries/gloucester.toml",
        "web/templates/analyst.html",
        "web/static/app/app.css",
        "web/static/app/analyst.js",
    ):
        assert share + required in names, required
    assert not any(n.startswith("web/") for n in names)
    assert "geo_ssgp/migrations/postgis/0001_initial.sql" in names  # the PostGIS schema
