"""Fixtures of the ingest tests: real sample files read once, fixture files and helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyproj
import pytest

from geo_ssgp.incidents import IngestResult, read_incidents


@pytest.fixture(scope="session")
def ingest_fixtures() -> Path:
    """Folder of the hand-made ingest fixture files."""
    return Path(__file__).parents[1] / "fixtures" / "ingest"


@pytest.fixture(scope="session")
def api_files(pack):
    """The ten police.uk API JSON files of the sample."""
    files = sorted((pack.data_dir / "incidents" / "police-uk-api").glob("*/*.json"))
    assert len(files) == 10
    return files


@pytest.fixture(scope="session")
def api(api_files):
    return read_incidents(api_files)


@pytest.fixture(scope="session")
def geojson_file(pack):
    return pack.data_dir / "incidents" / "other" / "gloucester_2022-09_violence.json"


@pytest.fixture(scope="session")
def local(pack, ingest_fixtures):
    """The constructed local log: one row per quarantine reason, five accepted rows."""
    return read_incidents(ingest_fixtures / "local_log.csv", pack=pack)


@pytest.fixture(scope="session")
def gl1_1ad() -> tuple[float, float]:
    """Code-Point Open grid reference of postcode GL1 1AD."""
    return (383316.0, 218534.0)


@pytest.fixture(scope="session")
def to_bng() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@pytest.fixture(scope="session")
def write() -> Callable[[Path, str], Path]:
    """Write UTF-8 text to a path and return the path."""

    def write_text(path: Path, text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        return path

    return write_text


@pytest.fixture(scope="session")
def reasons_of() -> Callable[[IngestResult], dict[int, str]]:
    """Quarantine reason by source row."""
    return lambda res: dict(
        zip(res.quarantine["source_row"], res.quarantine["reason"], strict=True)
    )


@pytest.fixture(scope="session")
def details_of() -> Callable[[IngestResult], dict[int, str]]:
    """Quarantine detail by source row."""
    return lambda res: dict(
        zip(res.quarantine["source_row"], res.quarantine["detail"], strict=True)
    )
