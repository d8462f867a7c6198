"""Incident filter, per-area statistics and the district summary."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box, shape

from geo_ssgp.areas import WORKDAY_FLAG_RATIO, area_stats, district_summary, workday_population
from geo_ssgp.config import get_settings
from geo_ssgp.filters import filter_incidents, month_start, resolve_crime_types
from geo_ssgp.geocode import geocode, lsoa_agreement
from geo_ssgp.pack import (
    load_layer,
    load_pack,
    lsoa11_parents,
    lsoa_districts,
    lsoa_wards,
    population,
    workday_table,
)
from geo_ssgp.schema import CRIME_GROUPS

X0, Y0 = 380_000.0, 215_000.0


def _sq(x1, y1, x2, y2):
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def _layer(path, rows):
    gpd.GeoDataFrame(
        {"CD": [r[0] for r in rows], "NM": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:27700",
    ).to_file(path, driver="GPKG")


def build_stats_pack(tmp_path):
    """Districts Alpha [0,300]x[0,200] and Beta [300,600]x[0,200] (BNG metres from X0, Y0).

    LSOA 2011: E01000001 [0,150], E01000002 [150,300] (full height). LSOA 2021: E01000001
    unchanged; E01000002 split into E01000004 (y < 100) and E01000005 (y > 100).
    Wards: West [0,160], East [160,300], so E01000004 lies mostly (140/150) in East.
    """
    _layer(
        tmp_path / "lsoa11.gpkg",
        [
            ("E01000001", "Alpha 001A", _sq(0, 0, 150, 200)),
            ("E01000002", "Alpha 001B", _sq(150, 0, 300, 200)),
        ],
    )
    _layer(
        tmp_path / "lsoa21.gpkg",
        [
            ("E01000001", "Alpha 001A", _sq(0, 0, 150, 200)),
            ("E01000004", "Alpha 001C", _sq(150, 0, 300, 100)),
            ("E01000005", "Alpha 001D", _sq(150, 100, 300, 200)),
        ],
    )
    _layer(
        tmp_path / "ward.gpkg",
        [("E05000001", "West", _sq(0, 0, 160, 200)), ("E05000002", "East", _sq(160, 0, 300, 200))],
    )
    _layer(
        tmp_path / "district.gpkg",
        [("E07000001", "Alpha", _sq(0, 0, 300, 200)), ("E07000002", "Beta", _sq(300, 0, 600, 200))],
    )
    pd.DataFrame(
        {
            "L11": ["E01000001", "E01000002", "E01000002"],
            "L21": ["E01000001", "E01000004", "E01000005"],
            "SHARE21": [1.0, 1.0, 1.0],
        }
    ).to_csv(tmp_path / "l11_l21.csv", index=False)
    pd.DataFrame(
        {
            "code": ["E01000001", "E01000001", "E01000004", "E01000005", "E01000009"],
            "lsoa21_name": ["Alpha 001A", "Alpha 001A", "Alpha 001C", "Alpha 001D", "Beta 001A"],
            "age": ["young", "old", "all", "all", "all"],
            "people": ["600.0", "400.0", "500.0", "500.0", "2000.0"],
        }
    ).to_csv(tmp_path / "pop21.csv", index=False)
    pd.DataFrame(
        {
            "code": ["E01000001", "E01000002", "E01000009"],
            "total": ["900", "1,100", "1,900"],
            "lad": ["E07000001", "E07000001", "E07000002"],
        }
    ).to_csv(tmp_path / "pop11.csv", index=False)
    pd.DataFrame(
        {
            "code": ["E01000001", "E01000002", "E01000009"],
            "lad": ["E07000001", "E07000001", "E07000002"],
            "rank": ["100", "20,000", "500"],
            "decile": ["1", "7", "1"],
            "crime": ["2", "5", "1"],
        }
    ).to_csv(tmp_path / "imd.csv", index=False)
    layers = "\n".join(
        f'[layers.{k}]\nfile = "{k}.gpkg"\ncode = "CD"\nname = "NM"'
        for k in ("lsoa21", "lsoa11", "ward", "district")
    )
    manifest = tmp_path / "stats.toml"
    manifest.write_text(
        f"""[pack]
name = "stats"
district_codes = ["E07000001"]
county_name = "Testshire"
county_district_codes = ["E07000001", "E07000002"]
{layers}
[lookups.lsoa11_lsoa21]
file = "l11_l21.csv"
lsoa11 = "L11"
lsoa21 = "L21"
share_of_lsoa21 = "SHARE21"
[tables.population21]
file = "pop21.csv"
code = "code"
value = "people"
label = "Census 2021 usual residents"
[tables.population11]
file = "pop11.csv"
code = "code"
value = "total"
lad = "lad"
label = "mid-2015"
[tables.imd]
file = "imd.csv"
code = "code"
lad = "lad"
rank = "rank"
decile = "decile"
crime_decile = "crime"
""",
        encoding="utf-8",
    )
    return load_pack(get_settings(data_dir=tmp_path, pack=str(manifest)))


# (x, y, month, crime type, source, restricted)
EVENTS = [
    (50, 50, "2025-01", "Anti-social behaviour", "police-uk", False),
    (50, 60, "2025-02", "Burglary", "police-uk", False),
    (60, 50, "2025-03", "Burglary", "police-uk", False),
    (70, 70, "2025-02", "Robbery", "local", True),
    (200, 50, "2025-01", "Violence and sexual offences", "police-uk", False),
    (155, 50, "2025-02", "Anti-social behaviour", "police-uk", False),
    (450, 100, "2025-01", "Burglary", "police-uk", False),
    (450, 100, "2025-02", "Anti-social behaviour", "police-uk", False),
    (460, 100, "2025-03", "Drugs", "police-uk", False),
    (470, 100, "2025-04", "Anti-social behaviour", "police-uk", False),
    (5000, 5000, "2025-01", "Burglary", "police-uk", False),
]


def _incidents():
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"i{k}" for k in range(len(EVENTS))],
            "source": [e[4] for e in EVENTS],
            "month": pd.to_datetime([e[2] for e in EVENTS]),
            "crime_type": [e[3] for e in EVENTS],
            "restricted": [e[5] for e in EVENTS],
        },
        geometry=[Point(X0 + e[0], Y0 + e[1]) for e in EVENTS],
        crs="EPSG:27700",
        index=pd.RangeIndex(100, 100 + len(EVENTS)),
    )


@pytest.fixture(scope="module")
def stats_pack(tmp_path_factory):
    return build_stats_pack(tmp_path_factory.mktemp("stats"))


@pytest.fixture(scope="module")
def small(stats_pack):
    return geocode(_incidents(), stats_pack)


# ---------------------------------------------------------------------------------------
# filter_incidents


def test_filter_months_inclusive():
    inc = _incidents()
    out = filter_incidents(inc, start="2025-02", end="2025-03")
    assert sorted(out["month"].dt.strftime("%Y-%m").unique()) == ["2025-02", "2025-03"]
    assert len(out) == 6
    assert len(filter_incidents(inc, start=pd.Timestamp("2025-02-17"))) == 7
    assert len(filter_incidents(inc, end="2025-01")) == 4
    assert len(filter_incidents(inc, start="2025-04", end="2025-04")) == 1
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.index.tolist() == [101, 102, 103, 105, 107, 108]


def test_filter_types_sources_restricted():
    inc = _incidents()
    assert len(filter_incidents(inc, crime_types="asb")) == 4
    assert len(filter_incidents(inc, crime_types="Burglary")) == 4
    assert len(filter_incidents(inc, crime_types=["burglary", "drugs"])) == 5
    assert len(filter_incidents(inc, crime_types="violent-crime")) == 1
    assert len(filter_incidents(inc, crime_types="crime")) == 7
    assert len(filter_incidents(inc, crime_types=[])) == 0
    assert len(filter_incidents(inc, sources="local")) == 1
    assert len(filter_incidents(inc, sources=["police-uk", "local"])) == 11
    assert len(filter_incidents(inc, restricted=False)) == 10
    assert filter_incidents(inc, restricted=True)["crime_type"].tolist() == ["Robbery"]
    both = filter_incidents(inc, start="2025-02", crime_types="crime", restricted=False)
    assert both["incident_id"].tolist() == ["i1", "i2", "i8"]


def test_filter_errors_and_attrs():
    inc = _incidents()
    inc.attrs["note"] = "kept"
    assert filter_incidents(inc, start="2025-01").attrs["note"] == "kept"
    with pytest.raises(ValueError, match="unknown crime type"):
        filter_incidents(inc, crime_types=["Burglary", "Arson"])
    with pytest.raises(ValueError, match="after end"):
        filter_incidents(inc, start="2025-03", end="2025-01")
    with pytest.raises(ValueError, match="not a month"):
        filter_incidents(inc, start="March")
    with pytest.raises(ValueError, match="not a month"):
        filter_incidents(inc, end="2025-13")
    assert filter_incidents(inc) is not inc and len(filter_incidents(inc)) == len(inc)


def test_resolve_crime_types_and_month_start():
    assert resolve_crime_types(["violence", "asb"]) == [
        "Anti-social behaviour",
        "Possession of weapons",
        "Robbery",
        "Violence and sexual offences",
    ]
    assert len(resolve_crime_types("crime")) == len(CRIME_GROUPS["crime"]) == 13
    assert month_start("2025-07-19") == pd.Timestamp("2025-07-01")
    assert month_start(pd.Timestamp("2025-07-31 23:00")) == pd.Timestamp("2025-07-01")


# ---------------------------------------------------------------------------------------
# Constructed area statistics


def test_constructed_lsoa21_stats(small, stats_pack):
    s = area_stats(small, stats_pack, level="lsoa21").set_index("code")
    assert s.index.tolist() == ["E01000001", "E01000004", "E01000005"]
    assert s["count"].tolist() == [4, 2, 0]
    assert s["population"].tolist() == [1000, 500, 500]
    assert s["rate_per_1000"].tolist() == [4.0, 4.0, 0.0]
    assert s["lsoa11cd"].tolist() == ["E01000001", "E01000002", "E01000002"]
    assert s["imd_rank"].tolist() == [100, 20000, 20000]  # split parts inherit
    assert s["imd_decile"].tolist() == [1, 7, 7]
    assert s["imd_crime_decile"].tolist() == [2, 5, 5]
    assert s["share_of_district"].tolist() == pytest.approx([4 / 6, 2 / 6, 0.0])
    assert s["ward_cd"].tolist() == ["E05000001", "E05000002", "E05000002"]
    assert s["lad_cd"].tolist() == ["E07000001"] * 3
    assert s["area_m2"].tolist() == pytest.approx([30_000, 15_000, 15_000])
    assert (s["lsoa_vintage"] == "2021").all()
    assert s.crs == "EPSG:27700"
    meta = s.attrs["area_stats"]
    assert (meta["level"], meta["lsoa_vintage"], meta["n_incidents"]) == ("lsoa21", "2021", 6)


def test_constructed_lsoa11_stats(small, stats_pack):
    s = area_stats(small, stats_pack, level="lsoa11").set_index("code")
    assert s["count"].tolist() == [4, 2]
    assert s["population"].tolist() == [900, 1100]
    assert s["rate_per_1000"].tolist() == pytest.approx([4 / 900 * 1000, 2 / 1100 * 1000])
    assert s["imd_rank"].tolist() == [100, 20000]
    assert (s["lsoa_vintage"] == "2011").all()
    assert s.attrs["area_stats"]["population"] == "mid-2015"


def test_constructed_ward_stats(small, stats_pack):
    s = area_stats(small, stats_pack, level="ward").set_index("code")
    # counted by the ward polygon: (155, 50) is in West although its LSOA is mostly East
    assert s["count"].tolist() == [5, 1]
    assert s["population"].tolist() == [1000, 1000]
    assert s["imd_rank"].tolist() == [100.0, 20000.0]
    assert s["n_lsoa"].tolist() == [1, 2]
    assert s["n_lsoa11_imd_decile1"].tolist() == [1, 0]
    assert s["rate_per_1000"].tolist() == [5.0, 1.0]
    assert "imd_decile" not in s.columns


def test_constructed_filters(small, stats_pack):
    s = area_stats(small, stats_pack, "lsoa21", start="2025-02").set_index("code")
    assert s["count"].tolist() == [3, 1, 0]
    asb = area_stats(small, stats_pack, "lsoa21", crime_types="asb").set_index("code")
    assert asb["count"].tolist() == [1, 1, 0]
    assert asb.attrs["area_stats"]["crime_types"] == ["Anti-social behaviour"]
    with pytest.raises(ValueError, match="level"):
        area_stats(small, stats_pack, level="msoa")


def test_constructed_geography_links(stats_pack):
    wards = lsoa_wards(stats_pack, "lsoa21")
    assert wards.loc["E01000004", "ward_share"] == pytest.approx(140 / 150)
    parents = lsoa11_parents(stats_pack)
    assert parents.loc["E01000005", "lsoa11cd"] == "E01000002"
    districts = lsoa_districts(stats_pack, "lsoa21")
    assert districts.to_dict() == {
        "E01000001": "E07000001",
        "E01000004": "E07000001",
        "E01000005": "E07000001",
        "E01000009": "E07000002",
    }


def test_constructed_district_summary(small, stats_pack):
    summary = district_summary(small, stats_pack)
    assert summary["months"] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert summary["period"] == "2025-01 to 2025-04" and summary["n_months"] == 4
    alpha, county = summary["rows"]
    assert alpha["area"] == "Alpha" and county["area"] == "Testshire"
    assert (alpha["population"], alpha["crime_count"], alpha["asb_count"]) == (2000, 4, 2)
    assert (alpha["crime_per_1000"], alpha["asb_per_1000"], alpha["all_per_1000"]) == (
        2.0,
        1.0,
        3.0,
    )
    assert (alpha["lsoa11_count"], alpha["lsoa11_imd_decile1"]) == (2, 1)
    assert (county["population"], county["crime_count"], county["asb_count"]) == (4000, 6, 4)
    assert county["all_per_1000"] == 2.5
    assert (county["lsoa11_count"], county["lsoa11_imd_decile1"]) == (3, 2)
    part = district_summary(small, stats_pack, start="2025-02", end="2025-03")
    assert part["months"] == ["2025-02", "2025-03"]
    alpha, county = part["rows"]
    assert (alpha["crime_count"], alpha["asb_count"]) == (3, 1)
    assert (county["crime_count"], county["asb_count"]) == (4, 2)


# ---------------------------------------------------------------------------------------
# Real sample (Gloucester pack, 2025-01..09)


@pytest.fixture(scope="module")
def raw(sample_csv_rows):
    """The raw police.uk CSVs (rows with a location), read independently, with district."""
    district = sample_csv_rows["LSOA name"].str.extract(r"^(.+) \d{3}[A-Z]$", expand=False)
    return sample_csv_rows.assign(district=district)


@pytest.fixture(scope="module")
def census(pack):
    df = pd.read_csv(
        pack.data_dir / "areas/population_lsoa21_census2021_agegroups_gloucestershire.csv"
    )
    df["district"] = df["lsoa21_name"].str.extract(r"^(.+) \d{3}[A-Z]$", expand=False)
    return df


def test_real_lsoa21_stats(sample_geocoded, pack, raw, census):
    s = area_stats(sample_geocoded, pack, "lsoa21", start="2025-01", end="2025-09")
    features = json.loads((pack.data_dir / "boundaries/gloucester_lsoa2021.geojson").read_text())
    codes = sorted(f["properties"]["LSOA21CD"] for f in features["features"])
    assert len(s) == 82 and s["code"].tolist() == codes
    ok = int((sample_geocoded["status"] == "ok").sum())
    assert s["count"].sum() == ok == 14_333
    # against police.uk's own LSOA codes: each disagreement moves one count between two
    # LSOAs, so the L1 difference is bounded by twice the disagreements (+ rows that only
    # we place in Gloucester), and stays within the 98.4% agreement tolerance
    glos = raw[raw["district"] == "Gloucester"]
    theirs = glos["LSOA code"].value_counts().reindex(s["code"], fill_value=0).to_numpy()
    assert theirs.sum() == 14_331
    l1 = int(np.abs(s["count"].to_numpy() - theirs).sum())
    report = lsoa_agreement(sample_geocoded, "lsoa21")
    assert l1 <= 2 * (report.n_compared - report.n_agree) + (ok - 14_331)
    assert l1 / (2 * 14_331) <= 1 - 0.984
    assert np.corrcoef(s["count"], theirs)[0, 1] > 0.99
    pop = census.groupby("lsoa21_code")["usual_residents"].sum().reindex(s["code"]).to_numpy()
    assert s["population"].sum() == 132_407
    assert np.allclose(s["rate_per_1000"], s["count"] / pop * 1000, rtol=1e-12)
    assert np.allclose(s["share_of_district"], s["count"] / ok)
    assert (s["lsoa_vintage"] == "2021").all()


def test_real_lsoa21_imd_inheritance(sample_geocoded, pack):
    s = area_stats(sample_geocoded, pack, "lsoa21").set_index("code")
    imd = pd.read_csv(pack.data_dir / "areas/imd2019_domains_gloucestershire.csv")
    rank = imd.set_index("LSOA code (2011)")[
        "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"
    ]
    look = pd.read_csv(pack.data_dir / "boundaries/gloucester_lsoa11_to_lsoa21_lookup.csv")
    assert (look["CHGIND"] == "S").sum() == 8
    for row in look.itertuples():
        assert s.loc[row.LSOA21CD, "imd_rank"] == rank[row.LSOA11CD]
        assert s.loc[row.LSOA21CD, "lsoa11cd"] == row.LSOA11CD
        if row.CHGIND == "U":
            assert row.LSOA11CD == row.LSOA21CD


def test_real_lsoa11_and_ward_levels(sample_geocoded, pack):
    s11 = area_stats(sample_geocoded, pack, "lsoa11")
    assert len(s11) == 78 and s11["count"].sum() == 14_333
    mid2015 = pd.read_csv(
        pack.data_dir / "areas/population_lsoa_mid2015_iod2019_gloucestershire.csv",
        thousands=",",
    )
    mid2015 = mid2015[mid2015["Local Authority District code (2019)"] == "E07000081"]
    assert (
        s11["population"].sum() == mid2015["Total population: mid 2015 (excluding prisoners)"].sum()
    )
    assert (s11["lsoa_vintage"] == "2011").all()

    wards = area_stats(sample_geocoded, pack, "ward").set_index("code")
    assert len(wards) == 18
    assert wards["population"].sum() == 132_407
    assert wards["n_lsoa"].sum() == 82
    ok = sample_geocoded[sample_geocoded["status"] == "ok"]
    assert wards["count"].to_dict() == ok["ward_cd"].value_counts().reindex(wards.index).to_dict()
    assert wards["n_lsoa11_imd_decile1"].sum() == 9
    assert wards["imd_rank"].between(1, 32_844).all()
    # area-majority ward vs the ONS best-fit lookup: they differ for E01022285 only
    ons = pd.read_csv(pack.data_dir / "boundaries/gloucester_lsoa21_ward24_lad24_lookup.csv")
    ours = lsoa_wards(pack, "lsoa21")["ward_cd"]
    differ = ons[ons["WD24CD"].to_numpy() != ours.reindex(ons["LSOA21CD"]).to_numpy()]
    assert differ["LSOA21CD"].tolist() == ["E01022285"]


def test_real_district_summary(sample_geocoded, pack, raw, census):
    summary = district_summary(sample_geocoded, pack)
    assert summary["months"] == [f"2025-{m:02d}" for m in range(1, 10)]
    glos, county = summary["rows"]
    # hand-computed: populations from the Census CSV by LSOA name prefix
    pop_glos = int(census.loc[census["district"] == "Gloucester", "usual_residents"].sum())
    pop_county = int(census["usual_residents"].sum())
    assert (
        (glos["population"], county["population"])
        == (pop_glos, pop_county)
        == (
            132_407,
            645_095,
        )
    )
    asb = raw["Crime type"] == "Anti-social behaviour"
    # county: rows whose LSOA name is in one of the six districts
    in_county = raw["district"].isin(
        ["Cheltenham", "Cotswold", "Forest of Dean", "Gloucester", "Stroud", "Tewkesbury"]
    )
    crime_c, asb_c = int((in_county & ~asb).sum()), int((in_county & asb).sum())
    assert (county["crime_count"], county["asb_count"]) == (crime_c, asb_c)
    assert county["crime_per_1000"] == pytest.approx(crime_c / pop_county * 1000, rel=1e-12)
    assert county["asb_per_1000"] == pytest.approx(asb_c / pop_county * 1000, rel=1e-12)
    assert county["all_per_1000"] == pytest.approx((crime_c + asb_c) / pop_county * 1000)
    # Gloucester: counted by the district polygon. By LSOA name there are 14,331 rows; two
    # Stroud-labelled points lie inside the Gloucester polygon (checked here in lon/lat
    # against the raw GeoJSON), so the polygon count is 14,333.
    lads = json.loads((pack.data_dir / "boundaries/gloucestershire_lads.geojson").read_text())
    outline = next(
        shape(f["geometry"]) for f in lads["features"] if f["properties"]["LAD21CD"] == "E07000081"
    )
    lon, lat = raw["Longitude"].astype(float), raw["Latitude"].astype(float)
    inside = pd.Series(shapely.intersects_xy(outline, lon, lat), index=raw.index)
    assert (raw["district"] == "Gloucester").sum() == 14_331
    assert inside.sum() == 14_333
    assert (inside & (raw["district"] != "Gloucester")).sum() == 2
    crime_g, asb_g = int((inside & ~asb).sum()), int((inside & asb).sum())
    assert (glos["crime_count"], glos["asb_count"]) == (crime_g, asb_g)
    assert glos["crime_per_1000"] == pytest.approx(crime_g / pop_glos * 1000, rel=1e-12)
    assert glos["asb_per_1000"] == pytest.approx(asb_g / pop_glos * 1000, rel=1e-12)
    assert glos["all_count"] == 14_333
    # IMD decile 1 LSOAs, from the IMD CSV
    imd = pd.read_csv(pack.data_dir / "areas/imd2019_domains_gloucestershire.csv")
    decile = imd[
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    ]
    lad = imd["Local Authority District code (2019)"]
    assert glos["lsoa11_imd_decile1"] == int(((lad == "E07000081") & (decile == 1)).sum()) == 9
    assert county["lsoa11_imd_decile1"] == int((decile == 1).sum())
    assert glos["lsoa11_count"] == 78 and county["lsoa11_count"] == 373


def test_real_filters_in_stats(sample_geocoded, pack, raw):
    s = area_stats(
        sample_geocoded, pack, "lsoa21", start="2025-03", end="2025-05", crime_types="asb"
    )
    ok = sample_geocoded[(sample_geocoded["status"] == "ok")]
    months = ok["month"].dt.strftime("%Y-%m")
    expected = (ok["crime_type"] == "Anti-social behaviour") & months.between("2025-03", "2025-05")
    assert s["count"].sum() == expected.sum()
    # police.uk's Gloucester ASB rows for the same months, by LSOA name (within two rows)
    glos = raw[(raw["district"] == "Gloucester") & (raw["Crime type"] == "Anti-social behaviour")]
    theirs = glos["Month"].between("2025-03", "2025-05").sum()
    assert theirs == 314 + 282 + 324
    assert abs(int(s["count"].sum()) - int(theirs)) <= 2


def test_real_lsoa_districts(pack):
    d21 = lsoa_districts(pack, "lsoa21")
    assert len(d21) == 393 and d21.notna().all()
    assert (d21 == "E07000081").sum() == 82
    d11 = lsoa_districts(pack, "lsoa11")
    assert len(d11) == 373 and (d11 == "E07000081").sum() == 78


def test_county_pack_lsoa11_stats_and_missing_layers(county_pack, county_geocoded, small):
    county, out = county_pack, county_geocoded
    s21 = area_stats(out, county, "lsoa21")
    assert len(s21) == 393 and s21["count"].sum() == 43_394
    with pytest.raises(ValueError, match="no ward polygon layer"):
        area_stats(small, county, "ward")
    s = area_stats(out, county, "lsoa11")
    assert len(s) == 373 and s["count"].sum() == 43_394
    assert s["ward_cd"].notna().all()  # from the ONS best-fit LSOA 2011 -> ward lookup
    assert s.groupby("lad_cd").size().to_dict() == {
        "E07000078": 75,
        "E07000079": 51,
        "E07000080": 50,
        "E07000081": 78,
        "E07000082": 69,
        "E07000083": 50,
    }
    assert np.allclose(s.groupby("lad_cd")["share_of_district"].sum(), 1.0)
    summary = district_summary(out, county)
    assert [r["area"] for r in summary["rows"]][-1] == "Gloucestershire"
    assert len(summary["rows"]) == 7
    assert sum(r["population"] for r in summary["rows"][:6]) == 645_095


# --------------------------------------------------------------------------------------------
# denominators that fit: workday population, km², km of street, annualised rates


def test_real_denominators_flag_the_city_centre(sample_geocoded, pack):
    s = area_stats(sample_geocoded, pack, "lsoa21").set_index("name")
    assert (s["n_months"] == 9).all()
    assert np.allclose(s["rate_per_1000_year"], s["rate_per_1000"] * 12 / 9, equal_nan=True)
    centre = s.loc["Gloucester 004F"]
    assert centre["count"] == 2691 and centre["population"] == 1505
    assert centre["rate_per_1000_year"] == pytest.approx(2691 / 1505 * 1000 * 12 / 9)
    # the workday population is about 2.6 times the residents: flagged, ranked on workday
    assert centre["workday_ratio"] > WORKDAY_FLAG_RATIO and centre["residents_poor_denominator"]
    assert centre["rate_basis"] == "workday"
    assert centre["sound_rate_per_1000_year"] == centre["per_1000_workday_year"]
    assert centre["per_street_km_year"] == pytest.approx(2691 / centre["street_km"] * 12 / 9)
    assert centre["per_km2_year"] == pytest.approx(2691 / centre["area_km2"] * 12 / 9)
    quiet = s[~s["residents_poor_denominator"]]
    assert (quiet["sound_rate_per_1000_year"] == quiet["rate_per_1000_year"]).all()
    assert 5 <= s["residents_poor_denominator"].sum() <= 15
    # the apportioned LSOAs add up to Gloucester's 15 MSOAs (Census 2021 derived workday)
    assert s["workday_population"].sum() == pytest.approx(132_424)
    assert s["imd2015_decile"].notna().all() and centre["imd2015_decile"] == 1
    denominators = area_stats(sample_geocoded, pack, "lsoa21").attrs["area_stats"]["denominators"]
    assert "postcode units" in denominators["per_1000_workday_year"]


def test_workday_rule_keeps_msoa_totals(pack):
    lsoas = load_layer(pack, "lsoa21")
    residents = population(pack, "lsoa21").reindex(lsoas["code"]).astype(float)
    work = workday_population(pack, lsoas, residents)
    msoa = lsoas["name"].str[:-1]
    table = workday_table(pack).set_index("msoa_name")["workday"]
    sums = work.groupby(msoa.to_numpy()).sum()
    assert np.allclose(sums.to_numpy(), table.reindex(sums.index).to_numpy())


def test_real_district_summary_annualised_and_both_imds(sample_geocoded, pack):
    glos, county = district_summary(sample_geocoded, pack)["rows"]
    assert glos["crime_per_1000_year"] == pytest.approx(116.9, abs=0.05)
    assert county["crime_per_1000_year"] == pytest.approx(69.7, abs=0.05)
    # the 2018 review's "19 LSOAs": Gloucester's most deprived 20% on IMD 2015
    assert (glos["lsoa11_imd2015_20pct"], glos["lsoa11_imd2015_10pct"]) == (19, 10)
    assert (glos["lsoa11_imd2019_20pct"], glos["lsoa11_imd2019_10pct"]) == (21, 9)



def test_area_stats_for_filters_equals_area_stats_on_the_selected_records(pack, sample_ok):
    from geo_ssgp.areas import area_stats_for
    from geo_ssgp.filters import Filters

    local = sample_ok.head(50).assign(source="local", restricted=True)
    both = pd.concat([sample_ok, local], ignore_index=True)
    both = gpd.GeoDataFrame(both, geometry="geometry", crs=sample_ok.crs)
    filters = Filters.of("2025-07", "2025-09", "asb", restricted=False)
    got = area_stats_for(both, pack, filters)
    want = area_stats(
        sample_ok, pack, level="lsoa21", start="2025-07", end="2025-09",
        crime_types=["Anti-social behaviour"],
    )
    assert got["count"].tolist() == want["count"].tolist()
    assert int(got["count"].sum()) > 100
    with_local = area_stats_for(both, pack, Filters.of(restricted=True))
    assert int(with_local["count"].sum()) == len(local)
