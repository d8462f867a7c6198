"""Area packs: manifests, layers, tables, and errors that name the file and manifest."""

from pathlib import Path

import pytest

from geo_ssgp.config import get_settings
from geo_ssgp.errors import PackError
from geo_ssgp.pack import imd, load_layer, load_pack, population


def test_gloucester_pack_layers(pack):
    assert pack.name == "gloucester"
    assert pack.primary_lsoa == "lsoa21"
    assert len(pack.sample_files()) == 9
    counts = {k: len(load_layer(pack, k)) for k in ("lsoa21", "lsoa11", "ward", "district")}
    assert counts == {"lsoa21": 82, "lsoa11": 78, "ward": 18, "district": 6}
    assert load_layer(pack, "lsoa21").crs.to_epsg() == 27700


def test_second_pack_by_manifest_only(county_pack):
    assert county_pack.name == "gloucestershire"
    assert county_pack.primary_lsoa == "lsoa21"  # county LSOA 2021 polygons, not a lookup
    assert not county_pack.has("layers", "ward")
    assert len(load_layer(county_pack, "lsoa11")) == 373
    assert len(load_layer(county_pack, "lsoa21")) == 393
    assert len(county_pack.district_codes) == 6


def test_missing_file_names_file_and_manifest(tmp_path):
    manifest = tmp_path / "broken.toml"
    text = (get_settings().packs_dir / "gloucester.toml").read_text()
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


def test_manifest_path_is_the_packs_folder_by_name(pack):
    assert Path(pack.manifest).name == "gloucester.toml"
    assert Path(pack.manifest).parent == get_settings().packs_dir


def test_population_and_imd_tables(pack):
    pop21 = population(pack, "lsoa21")
    lsoa21 = load_layer(pack, "lsoa21")
    assert pop21.loc[lsoa21["code"]].sum() == 132_407
    assert pop21.sum() == 645_095
    table = imd(pack)
    assert len(table) == 373
    assert table["imd_decile"].between(1, 10).all()


def test_streets_layer_from_the_manifest(pack):
    from geo_ssgp.pack import has_streets, load_streets

    assert has_streets(pack)
    streets = load_streets(pack)
    assert len(streets) == 1722
    assert streets.crs.to_epsg() == 27700
    assert list(streets.columns) == ["name", "road_class", "ref", "geometry"]
    assert abs(streets.length.sum() / 1000 - 866.1) < 0.5
    assert {"Widden Street", "Northgate Street", "Kingsholm Road"} <= set(streets["name"].dropna())
    assert "A38" in set(streets["ref"].dropna())


def test_pack_without_streets_says_so():
    from geo_ssgp.errors import PackError
    from geo_ssgp.pack import has_streets, load_streets

    county = load_pack(get_settings(pack="gloucestershire"))
    assert not has_streets(county)
    with pytest.raises(PackError, match=r"has no \[streets\] layer"):
        load_streets(county)
