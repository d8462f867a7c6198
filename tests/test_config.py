"""Settings: arguments, then GEO_SSGP_* environment variables, then documented defaults."""

import pytest

from geo_ssgp.config import DEFAULT_DATA_DIR, DEFAULT_TOKENS, get_settings, parse_tokens
from geo_ssgp.errors import BadInput

SETTINGS_ENV = (
    "GEO_SSGP_DATA", "GEO_SSGP_TILES", "GEO_SSGP_TOKENS", "GEO_SSGP_SUPPRESS_BELOW", "GEO_SSGP_DEV"
)


@pytest.fixture
def clean_env(monkeypatch):
    """No GEO_SSGP_* setting from the machine running the tests."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_default_data_is_the_shared_sample(clean_env):
    settings = get_settings()
    assert settings.data_dir == DEFAULT_DATA_DIR.resolve()
    assert (settings.data_dir / "README.md").is_file()


def test_data_folder_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GEO_SSGP_DATA", str(tmp_path))
    assert get_settings().data_dir == tmp_path.resolve()
    # an explicit argument wins over the environment
    assert get_settings(data_dir=DEFAULT_DATA_DIR).data_dir == DEFAULT_DATA_DIR.resolve()


def test_defaults_without_environment(clean_env):
    settings = get_settings()
    assert settings.tiles is None
    assert settings.tokens == {} and settings.dev is False  # no live dev tokens by default
    assert settings.suppress_below == 3


def test_tiles_tokens_and_suppression_from_environment(clean_env):
    clean_env.setenv("GEO_SSGP_TILES", "CartoDB positron")
    clean_env.setenv("GEO_SSGP_TOKENS", "k1:analyst, k2:viewer")
    clean_env.setenv("GEO_SSGP_SUPPRESS_BELOW", "5")
    settings = get_settings()
    assert settings.tiles == "CartoDB positron"
    assert settings.tokens == {"k1": "analyst", "k2": "viewer"}
    assert settings.suppress_below == 5
    clean_env.setenv("GEO_SSGP_TILES", "none")
    assert get_settings().tiles is None
    # an explicit argument wins over the environment
    assert get_settings(suppress_below=7).suppress_below == 7


def test_bad_role_in_environment_is_bad_input(clean_env):
    clean_env.setenv("GEO_SSGP_TOKENS", "k1:analyst,k2:admin")
    with pytest.raises(
        ValueError, match="role must be analyst, pcso or viewer, not 'admin'"
    ) as err:
        get_settings()
    # pydantic wraps the validator's error; the cause is the project's BadInput
    cause = err.value if isinstance(err.value, BadInput) else err.value.errors()[0]["ctx"]["error"]
    assert isinstance(cause, BadInput) and cause.param == "GEO_SSGP_TOKENS"


def test_tokens():
    assert parse_tokens("a:analyst, b:viewer") == {"a": "analyst", "b": "viewer"}
    with pytest.raises(ValueError, match="role"):
        parse_tokens("a:admin")
    with pytest.raises(BadInput) as err:
        parse_tokens("a:admin")
    assert err.value.param == "GEO_SSGP_TOKENS"


def test_development_mode_enables_the_dev_tokens_only_without_configured_ones(clean_env):
    clean_env.setenv("GEO_SSGP_DEV", "1")
    assert get_settings().tokens == parse_tokens(DEFAULT_TOKENS)
    clean_env.setenv("GEO_SSGP_TOKENS", "s3cret:analyst")
    assert get_settings().tokens == {"s3cret": "analyst"}


@pytest.mark.slow
def test_default_map_layers_cost_follows_map_points_not_incidents(settings, pack, sample_ok):
    """Never freeze: the analyst map's default layers work on weighted map points.

    The same incidents replicated ten times sit on the same police.uk map points; a layer
    on weighted map points costs about the same, one on every incident about ten times
    more (HDBSCAN: x107 measured, 0.9 s -> 92 s). A timing ratio, not an absolute time.
    """
    import time

    import pandas as pd

    from geo_ssgp.hotspots import run_method

    assert "hdbscan" not in settings.map_methods
    big = pd.concat([sample_ok] * 10, ignore_index=True)

    def seconds(frame) -> float:
        t0 = time.perf_counter()
        for method in settings.map_methods:
            run_method(method, frame, pack, label=False)
        return time.perf_counter() - t0

    seconds(sample_ok)  # warm caches (region, grids)
    assert seconds(big) < 4 * seconds(sample_ok)
