"""Shared fixtures: the real Gloucester sample through the default area pack.

The nine police.uk CSVs are read and geocoded **once per session** (per xdist worker) by
:func:`geo_ssgp.pipeline.read_and_geocode`; every module that needs the real sample takes
``sample_result``, ``sample_geocoded`` or ``sample_ok`` instead of reading it again
(``county_geocoded`` is the same incidents on the Gloucestershire pack, and
``sample_csv_rows`` the raw CSV rows read independently with pandas, for reference).

The session frames are shared and **read-only**: derive from them (filter, ``.copy()``,
``.assign(...)``, cheap under pandas copy-on-write) and never change them in place. Each
one is checked at the end of the session, so a test that modifies one fails loudly
instead of silently changing what later tests see.

Markers: ``browser`` tests are also ``slow`` (see :func:`pytest_collection_modifyitems`),
so ``pytest -m "not slow"`` is the fast subset.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from geo_ssgp.config import get_settings
from geo_ssgp.geocode import geocode
from geo_ssgp.pack import load_pack
from geo_ssgp.pipeline import read_and_geocode

# The tests use the public development tokens (dev-analyst, dev-pcso, dev-viewer).
os.environ.setdefault("GEO_SSGP_DEV", "1")
# Maps are always built to the end in tests, however loaded the machine: the "still computing"
# answer is tested on its own with a short limit (tests/api/test_hardening.py).
os.environ.setdefault("GEO_SSGP_LAYER_TIMEOUT_S", "600")
# Maps are built in threads of the test process (tests patch Service methods); the worker
# processes the server uses by default are tested on their own (tests/api/test_workers.py).
os.environ.setdefault("GEO_SSGP_MAP_WORKERS", "0")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests are slow by definition: mark them ``slow`` too, wherever they live."""
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


def _unchanged(*frames: pd.DataFrame):
    """Snapshots of shared frames, and a check that they still hold the same values."""
    snapshots = [frame.copy(deep=False) for frame in frames]  # copy-on-write keeps them

    def check(name: str) -> None:
        for frame, snap in zip(frames, snapshots, strict=True):
            changed = list(frame.columns) != list(snap.columns) or not frame.equals(snap)
            if changed:
                pytest.fail(f"a test modified the shared session fixture {name!r} in place")

    return check


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    """Settings on the default sample with a throwaway store folder."""
    return get_settings(store_dir=tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="session")
def pack(settings):
    """The Gloucester area pack on the shared sample data."""
    return load_pack(settings)


@pytest.fixture(scope="session")
def county_pack(settings):
    """The Gloucestershire pack (LSOA 2011 polygons, lookups for wards and LSOA 2021)."""
    return load_pack(settings.model_copy(update={"pack": "gloucestershire"}))


@pytest.fixture(scope="session")
def sample_files(pack):
    """The nine police.uk street CSVs, 2025-01..2025-09."""
    files = pack.sample_files()
    assert len(files) == 9
    return files


@pytest.fixture(scope="session")
def sample_csv_rows(sample_files):
    """The raw police.uk CSV rows that have a location, read independently with pandas.

    All columns as text (``keep_default_na=False``); 43,590 rows. The reference the
    package's readers and geocoder are checked against (read-only).
    """
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in sample_files]
    raw = pd.concat(frames, ignore_index=True)
    raw = raw[raw["Longitude"] != ""].reset_index(drop=True)
    check = _unchanged(raw)
    yield raw
    check("sample_csv_rows")


@pytest.fixture(scope="session")
def _sample(pack, sample_files):
    """``(IngestResult, geocoded incidents)`` of the sample, read and geocoded once."""
    result, geocoded = read_and_geocode(sample_files, pack)
    check = _unchanged(result.incidents, result.quarantine, geocoded)
    yield result, geocoded
    check("sample_result / sample_geocoded")


@pytest.fixture(scope="session")
def sample_result(_sample):
    """:class:`~geo_ssgp.incidents.IngestResult` of the nine CSVs (read-only).

    ``read_incidents(sample_files, pack=pack)``: 44,665 rows in, 43,590 accepted,
    1,075 quarantined (no location).
    """
    return _sample[0]


@pytest.fixture(scope="session")
def sample_geocoded(_sample):
    """Every accepted sample incident geocoded on the Gloucester pack (read-only).

    ``geocode(sample_result.incidents, pack)``: 43,590 rows, same index and order, with
    ``status`` ``ok`` (14,333 inside Gloucester) or ``outside_area``.
    """
    return _sample[1]


@pytest.fixture(scope="session")
def sample_ok(sample_geocoded):
    """The incidents the analyses use: geocoded rows with status ``ok``, index 0..n-1."""
    ok = sample_geocoded[sample_geocoded["status"] == "ok"].reset_index(drop=True)
    check = _unchanged(ok)
    yield ok
    check("sample_ok")


@pytest.fixture(scope="session")
def county_geocoded(sample_result, county_pack):
    """The sample's accepted incidents geocoded on the Gloucestershire pack (read-only)."""
    out = geocode(sample_result.incidents, county_pack)
    check = _unchanged(out)
    yield out
    check("county_geocoded")


def _same_geojson(a, b, rtol: float = 1e-9, path: str = "") -> None:
    """Assert two GeoJSON documents equal: every key, string, coordinate and class the same,
    measures (floats) to ``rtol`` (summed in another order, they can differ in the last bit).
    """
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys differ"
        for key in a:
            _same_geojson(a[key], b[key], rtol, f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_geojson(x, y, rtol, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and "coordinates" not in path:
        assert abs(a - b) <= rtol * max(abs(a), abs(b)), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.fixture(scope="session")
def same_geojson():
    """``same_geojson(a, b)``: two GeoJSON documents are the same layer (floats to 1e-9)."""
    return _same_geojson


# PostGIS: a throwaway PostgreSQL cluster for the store tests ---------------------------------


def _pg_bindir() -> Path | None:
    """Folder of Debian's PostgreSQL server binaries (newest version), if installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgis_url():
    """URL of a throwaway PostgreSQL + PostGIS cluster, stopped and deleted after the session.

    ``initdb`` in a temporary folder, started with ``pg_ctl`` on a free local port (as the
    ``postgres`` user when running as root, since PostgreSQL refuses to run as root), trust
    authentication on 127.0.0.1 only. Skips only when Debian's ``postgresql`` or
    ``postgresql-*-postgis-3`` packages are absent (``make test`` installs them).
    """
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (make postgres-deps)")
    version = bindir.parent.name
    if not Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
        pytest.skip(f"PostGIS for PostgreSQL {version} not installed (make postgres-deps)")
    root = Path(tempfile.mkdtemp(prefix="geo_ssgp_pg_"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
        "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
        "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
