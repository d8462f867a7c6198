"""Ingest on the real sample: nine police.uk street CSVs, ten API JSON files, one GeoJSON."""

from __future__ import annotations

import json

import pandas as pd
import pyproj
import pytest

from geo_ssgp.incidents import read_incidents
from geo_ssgp.schema import INCIDENT_COLUMNS, QUARANTINE_COLUMNS

# Force-wide rows per month and rows without a location (police.uk "No Location").
MONTH_ROWS = [4485, 4234, 5186, 4803, 5377, 5355, 5292, 5199, 4734]

NO_LOCATION = [86, 100, 107, 134, 141, 143, 142, 96, 126]

# Gloucester rows by crime type, 2025-01..09 (incidents/PROVENANCE.md, "Total" row).
GLOUCESTER_TYPES = {
    "Anti-social behaviour": 2726,
    "Bicycle theft": 200,
    "Burglary": 417,
    "Criminal damage and arson": 832,
    "Drugs": 386,
    "Other crime": 307,
    "Other theft": 751,
    "Possession of weapons": 137,
    "Public order": 1222,
    "Robbery": 175,
    "Shoplifting": 1298,
    "Theft from the person": 76,
    "Vehicle crime": 440,
    "Violence and sexual offences": 5364,
}

GLOUCESTER_MONTHS = [1455, 1345, 1633, 1448, 1740, 1737, 1658, 1789, 1526]

FORCE_TYPES = {
    "Violence and sexual offences": 16256,
    "Anti-social behaviour": 9751,
    "Shoplifting": 3250,
    "Public order": 3134,
    "Criminal damage and arson": 2816,
    "Other theft": 2610,
    "Vehicle crime": 1763,
    "Burglary": 1612,
    "Other crime": 1200,
    "Drugs": 924,
    "Bicycle theft": 468,
    "Robbery": 369,
    "Possession of weapons": 349,
    "Theft from the person": 163,
}

API_TYPES = {
    "Anti-social behaviour": 1830,
    "Bicycle theft": 67,
    "Burglary": 180,
    "Criminal damage and arson": 365,
    "Drugs": 92,
    "Other crime": 55,
    "Other theft": 208,
    "Possession of weapons": 16,
    "Public order": 257,
    "Robbery": 35,
    "Shoplifting": 168,
    "Theft from the person": 9,
    "Vehicle crime": 243,
    "Violence and sexual offences": 1173,
}

API_FILE_ROWS = [486, 459, 486, 442, 486, 408, 465, 476, 469, 521]

TO_WGS = pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


@pytest.fixture(scope="session")
def street(sample_files, pack):
    return read_incidents(sample_files, pack=pack)


@pytest.fixture(scope="session")
def street_raw(sample_files):
    """The nine CSVs as pandas reads them, independently of the ingest code."""
    return [pd.read_csv(f, dtype=str, keep_default_na=False) for f in sample_files]


def test_street_balance(street):
    assert street.n_in == 44665
    assert street.balance() == {
        "in": 44665,
        "accepted": 43590,
        "quarantined": 1075,
        "duplicates": 0,
        "by_reason": {"no_location": 1075},
    }


def test_street_schema(street):
    inc = street.incidents
    assert list(inc.columns) == INCIDENT_COLUMNS
    assert inc.crs.to_epsg() == 27700
    assert list(street.quarantine.columns) == QUARANTINE_COLUMNS
    assert set(inc["source"]) == {"police-uk"}
    assert not inc["restricted"].any() and inc["snap_point"].all()
    assert inc["incident_id"].is_unique
    assert (inc.geom_type == "Point").all()
    assert pd.api.types.is_datetime64_any_dtype(inc["month"])
    assert inc.index.tolist() == list(range(43590))


def test_street_per_file(street, sample_files):
    files = street.files
    assert [f["name"] for f in files] == [p.name for p in sample_files]
    assert [f["n_in"] for f in files] == MONTH_ROWS
    assert [f["n_quarantined"] for f in files] == NO_LOCATION
    assert [f["n_accepted"] for f in files] == [
        a - b for a, b in zip(MONTH_ROWS, NO_LOCATION, strict=True)
    ]
    assert {f["source"] for f in files} == {"police-uk"}
    assert files[0]["sha256"] == "772fdae802459ab1c4c1ad67b8786beedc8058387e5f032dfd133ad4711deefa"
    assert files[8]["sha256"] == "9ccae323f997f455c5d107eaa09755ef0b448e94fcc1d4dbc888d2676a614aee"
    # per-file balance from the tables themselves
    acc = street.incidents["source_file"].value_counts()
    quar = street.quarantine["source_file"].value_counts()
    for f in files:
        assert acc[f["name"]] + quar[f["name"]] == f["n_in"]


def test_street_order_and_ids(street, street_raw, sample_files):
    inc = street.incidents
    # file order, then row order
    order = inc["source_file"].map({p.name: i for i, p in enumerate(sample_files)})
    assert order.is_monotonic_increasing
    assert (inc.groupby("source_file")["source_row"].diff().dropna() > 0).all()
    first = street_raw[0]
    row0 = inc.iloc[0]
    assert row0["incident_id"] == first.loc[0, "Crime ID"]
    assert row0["source_lsoa"] == "W01000547" and row0["source_lsoa_name"] == "Ceredigion 009G"
    assert row0["outcome"] == "Investigation complete; no suspect identified"
    assert row0["location_text"] == "On or near Parking Area"
    lon, lat = TO_WGS.transform(row0.geometry.x, row0.geometry.y)
    assert lon == pytest.approx(-4.638586, abs=1e-7) and lat == pytest.approx(52.135661, abs=1e-7)
    # ASB rows have no Crime ID: generated, deterministic IDs
    row1 = inc.iloc[1]
    assert row1["crime_type"] == "Anti-social behaviour" and row1["outcome"] == ""
    sha = street.files[0]["sha256"]
    assert row1["incident_id"] == f"police-uk:{sha[:12]}:1"
    asb = inc["crime_type"] == "Anti-social behaviour"
    expected = (
        "police-uk:"
        + inc["source_file"].map({f["name"]: f["sha256"][:12] for f in street.files})
        + ":"
        + inc["source_row"].astype(str)
    )
    assert (inc.loc[asb, "incident_id"] == expected[asb]).all()
    crimes = pd.concat(street_raw)
    located = crimes[(crimes["Crime ID"] != "") & (crimes["Longitude"] != "")]
    assert sorted(inc.loc[~asb, "incident_id"]) == sorted(located["Crime ID"])


def test_street_quarantine_is_the_no_location_rows(street, street_raw):
    q = street.quarantine
    assert (q["reason"] == "no_location").all()
    assert q["detail"].str.contains("No Location").all()
    originals = [json.loads(o) for o in q["original"]]
    assert all(o["Location"] == "No Location" and o["Longitude"] == "" for o in originals)
    assert set(originals[0]) == set(street_raw[0].columns)
    # they are the last rows of each file
    for f in street.files:
        rows = q.loc[q["source_file"] == f["name"], "source_row"]
        assert rows.tolist() == list(range(f["n_accepted"], f["n_in"]))


def test_street_identical_rows_are_all_kept(street, street_raw):
    raw_dups = sum(int(df.duplicated().sum()) for df in street_raw)
    assert raw_dups == 2758
    inc = street.incidents
    # every column but the generated ID and the row number (source IDs stay in the key)
    source_id = inc["incident_id"].where(~inc["incident_id"].str.startswith("police-uk:"), "")
    key = inc.drop(columns=["incident_id", "source_row", "geometry"]).assign(
        source_id=source_id, x=inc.geometry.x, y=inc.geometry.y
    )
    kept = int(key.duplicated().sum())
    q = street.quarantine
    quarantined = int(q.duplicated(["source_file", "original"]).sum())
    assert kept == 2746 and quarantined == 12
    assert kept + quarantined == raw_dups
    dup_rows = inc[key.duplicated(keep=False)]
    assert set(dup_rows["crime_type"]) == {"Anti-social behaviour"}
    assert "duplicate_id" not in set(q["reason"])


def test_street_months(street):
    inc = street.incidents
    months = inc["month"].value_counts().sort_index()
    assert [str(m.date()) for m in months.index] == [f"2025-{m:02d}-01" for m in range(1, 10)]
    assert months.tolist() == [a - b for a, b in zip(MONTH_ROWS, NO_LOCATION, strict=True)]
    stamp = inc["source_file"].str[:7] + "-01"
    assert (inc["month"].dt.strftime("%Y-%m-%d") == stamp).all()


def test_street_gloucester_crime_types(street):
    inc = street.incidents
    glos = inc[inc["source_lsoa_name"].str.startswith("Gloucester ")]
    assert len(glos) == 14331
    assert glos["crime_type"].value_counts().to_dict() == GLOUCESTER_TYPES
    assert glos["month"].value_counts().sort_index().tolist() == GLOUCESTER_MONTHS
    lon, lat = TO_WGS.transform(glos.geometry.x.to_numpy(), glos.geometry.y.to_numpy())
    assert lon.min() == pytest.approx(-2.2983, abs=1e-4)
    assert lon.max() == pytest.approx(-2.1802, abs=1e-4)
    assert lat.min() == pytest.approx(51.8104, abs=1e-4)
    assert lat.max() == pytest.approx(51.8839, abs=1e-4)


def test_street_force_crime_types(street):
    accepted = street.incidents["crime_type"].value_counts()
    quarantined = pd.Series(
        [json.loads(o)["Crime type"] for o in street.quarantine["original"]]
    ).value_counts()
    total = accepted.add(quarantined, fill_value=0).astype(int)
    assert total.to_dict() == FORCE_TYPES


def test_api_json(api, api_files):
    assert api.balance() == {
        "in": 4698, "accepted": 4698, "quarantined": 0,
        "duplicates": 0, "by_reason": {},
    }
    inc = api.incidents
    assert list(inc.columns) == INCIDENT_COLUMNS
    assert [f["n_in"] for f in api.files] == API_FILE_ROWS
    assert {f["source"] for f in api.files} == {"police-uk-api"}
    assert inc["crime_type"].value_counts().to_dict() == API_TYPES
    assert (inc["source_lsoa"] == "").all() and (inc["source_lsoa_name"] == "").all()
    assert inc["snap_point"].all() and not inc["restricted"].any()
    months = inc["month"].value_counts().sort_index()
    assert months.tolist() == API_FILE_ROWS
    assert str(months.index[0].date()) == "2020-09-01"
    assert str(months.index[-1].date()) == "2021-06-01"
    # outcome text: "category (yyyy-mm)", "" for ASB
    assert (inc.loc[inc["crime_type"] == "Anti-social behaviour", "outcome"] == "").all()
    assert (inc["outcome"] == "").sum() == 1830
    assert inc["outcome"].str.startswith("Under investigation (").sum() == 1553
    assert (
        inc["outcome"].str.startswith("Investigation complete; no suspect identified (").sum()
        == 642
    )
    rec = inc[(inc["source_file"] == "AA3_all_crime_2020-10.json") & (inc["source_row"] == 180)]
    rec = rec.iloc[0]
    assert rec["incident_id"] == "87734029"
    assert rec["crime_type"] == "Bicycle theft"
    assert rec["outcome"] == "Investigation complete; no suspect identified (2020-10)"
    assert rec["location_text"] == "On or near Edinburgh Place"
    assert inc.iloc[0]["incident_id"] == "86954010"
    lon, lat = TO_WGS.transform(inc.iloc[0].geometry.x, inc.iloc[0].geometry.y)
    assert (lon, lat) == (pytest.approx(-2.085401, abs=1e-7), pytest.approx(51.909841, abs=1e-7))


def test_api_station_records(api):
    station = api.incidents[api.incidents["location_text"] == "Cheltenham Spa (station)"]
    assert len(station) == 13


def test_geojson(geojson_file):
    res = read_incidents(geojson_file)
    assert res.balance() == {
        "in": 730, "accepted": 730, "quarantined": 0,
        "duplicates": 0, "by_reason": {},
    }
    inc = res.incidents
    assert res.files[0]["source"] == "police-uk-geojson"
    assert set(inc["crime_type"]) == {"Violence and sexual offences"}
    assert set(inc["month"].dt.strftime("%Y-%m-%d")) == {"2022-09-01"}
    assert inc["source_lsoa_name"].str.startswith("Gloucester ").all()
    assert inc["source_lsoa_name"].nunique() == 72
    assert (inc["source_lsoa"] == "").all() and (inc["outcome"] == "").all()
    assert inc.loc[0, "source_lsoa_name"] == "Gloucester 001A"
    assert inc.loc[0, "location_text"] == "On or near Beaumont Road"
    assert inc["incident_id"].is_unique and inc["incident_id"].str.len().eq(64).all()
    assert len({(p.x, p.y) for p in inc.geometry}) == 336


def test_mixed_sources_in_one_call(sample_files, api_files, geojson_file):
    res = read_incidents([api_files[0], geojson_file, sample_files[0]])
    assert [f["source"] for f in res.files] == ["police-uk-api", "police-uk-geojson", "police-uk"]
    assert res.balance()["in"] == 486 + 730 + 4485
    assert res.incidents["source"].tolist()[:1] == ["police-uk-api"]
    assert res.incidents["source"].iloc[-1] == "police-uk"
