from pathlib import Path

import pytest

from geo_ssgp.config import DEFAULT_DATA_DIR, get_settings, parse_tokens
from geo_ssgp.errors import PackError
from geo_ssgp.pack import imd, load_layer, load_pack, population


def test_default_data_is_the_shared_sample(monkeypatch):
    monkeypatch.delenv("GEO_SSGP_DATA", raising=False)
    settings = get_settings()
    assert settings.data_dir == DEFAULT_DATA_DIR.resolve()
    assert (settings.data_dir / "README.md").is_file()


def test_data_folder_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GEO_SSGP_DATA", str(tmp_path))
    assert get_settings().data_dir == tmp_path.resolve()
    # an explicit argument wins over the environment
    assert get_settings(data_dir=DEFAULT_DATA_DIR).data_dir == DEFAULT_DATA_DIR.resolve()


def test_gloucester_pack_layers(pack):
    assert pack.name == "gloucester"
    assert pack.primary_lsoa == "lsoa21"
    assert len(pack.sample_files()) == 9
    counts = {k: len(load_layer(pack, k)) for k in ("lsoa21", "lsoa11", "ward", "district")}
    assert counts == {"lsoa21": 82, "lsoa11": 78, "ward": 18, "district": 6}
    assert load_layer(pack, "lsoa21").crs.to_epsg() == 27700


def test_second_pack_by_manifest_only():
    pack = load_pack(get_settings(pack="gloucestershire"))
    assert pack.primary_lsoa == "lsoa11"
    assert not pack.has("layers", "ward")
    assert len(load_layer(pack, "lsoa11")) == 373
    assert len(pack.district_codes) == 6


def test_missing_file_names_file_and_manifest(tmp_path):
    manifest = tmp_path / "broken.toml"
    text = Path("boundaries/gloucester.toml").read_text()
    manifest.write_text(text.replace("gloucester_wards.geojson", "no_such_wards.geojson"))
    with pytest.raises(PackError) as err:
        load_pack(get_settings(pack=str(manifest)))
    message = str(err.value)
    assert "no_such_wards.geojson" in message
    assert str(manifest) in message
    assert "[layers.ward]" in message


def test_missing_data_folder(tmp_path):
    with pytest.raises(PackError, match="does not exist"):
        load_pack(get_settings(data_dir=tmp_path / "nowhere"))


def test_unknown_pack_name():
    with pytest.raises(PackError, match="manifest not found"):
        load_pack(get_settings(pack="atlantis"))


def test_population_and_imd_tables(pack):
    pop21 = population(pack, "lsoa21")
    lsoa21 = load_layer(pack, "lsoa21")
    assert pop21.loc[lsoa21["code"]].sum() == 132_407
    assert pop21.sum() == 645_095
    table = imd(pack)
    assert len(table) == 373
    assert table["imd_decile"].between(1, 10).all()


def test_tokens():
    assert parse_tokens("a:analyst, b:viewer") == {"a": "analyst", "b": "viewer"}
    with pytest.raises(ValueError, match="role"):
        parse_tokens("a:admin")
