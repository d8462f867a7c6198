"""Shared fixtures: the real Gloucester sample through the default area pack."""

from __future__ import annotations

import pytest

from geo_ssgp.config import get_settings
from geo_ssgp.pack import load_pack


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    """Settings on the default sample with a throwaway store folder."""
    return get_settings(store_dir=tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="session")
def pack(settings):
    """The Gloucester area pack on the shared sample data."""
    return load_pack(settings)


@pytest.fixture(scope="session")
def sample_files(pack):
    """The nine police.uk street CSVs, 2025-01..2025-09."""
    files = pack.sample_files()
    assert len(files) == 9
    return files
