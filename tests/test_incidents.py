"""Ingest stage: police.uk CSV / API JSON / GeoJSON and local logs -> Incidents + quarantine."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest

from geo_ssgp.incidents import (
    IngestError,
    IngestResult,
    concat_results,
    detect_source,
    normalise_postcode,
    parse_columns,
    read_incidents,
    read_raw,
)
from geo_ssgp.schema import CRIME_TYPES, INCIDENT_COLUMNS, QUARANTINE_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"

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

GL1_1AD = (383316.0, 218534.0)  # Code-Point Open grid reference
TO_BNG = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
TO_WGS = pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


# ---------------------------------------------------------------------------------------
# Real data, read once per session


@pytest.fixture(scope="session")
def street(sample_files, pack):
    return read_incidents(sample_files, pack=pack)


@pytest.fixture(scope="session")
def street_raw(sample_files):
    """The nine CSVs as pandas reads them, independently of the ingest code."""
    return [pd.read_csv(f, dtype=str, keep_default_na=False) for f in sample_files]


@pytest.fixture(scope="session")
def api_files(pack):
    files = sorted((pack.data_dir / "incidents" / "police-uk-api").glob("*/*.json"))
    assert len(files) == 10
    return files


@pytest.fixture(scope="session")
def api(api_files):
    return read_incidents(api_files)


@pytest.fixture(scope="session")
def geojson_file(pack):
    return pack.data_dir / "incidents" / "other" / "gloucester_2022-09_violence.json"


def test_street_balance(street):
    assert street.n_in == 44665
    assert street.balance() == {
        "in": 44665,
        "accepted": 43590,
        "quarantined": 1075,
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
    assert api.balance() == {"in": 4698, "accepted": 4698, "quarantined": 0, "by_reason": {}}
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
    assert res.balance() == {"in": 730, "accepted": 730, "quarantined": 0, "by_reason": {}}
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


def test_detect_source(sample_files, api_files, geojson_file, tmp_path):
    assert detect_source(sample_files[0]) == "police-uk"
    assert detect_source(api_files[0]) == "police-uk-api"
    assert detect_source(geojson_file) == "police-uk-geojson"
    assert detect_source(FIXTURES / "local_log.csv") == "local"
    xlsx = tmp_path / "log.xlsx"
    pd.DataFrame({"date": ["2025-01-01"], "type": ["ASB"], "postcode": ["GL1 1AD"]}).to_excel(
        xlsx, index=False
    )
    assert detect_source(xlsx) == "local"


def test_mixed_sources_in_one_call(sample_files, api_files, geojson_file):
    res = read_incidents([api_files[0], geojson_file, sample_files[0]])
    assert [f["source"] for f in res.files] == ["police-uk-api", "police-uk-geojson", "police-uk"]
    assert res.balance()["in"] == 486 + 730 + 4485
    assert res.incidents["source"].tolist()[:1] == ["police-uk-api"]
    assert res.incidents["source"].iloc[-1] == "police-uk"


# ---------------------------------------------------------------------------------------
# Local logs (constructed)


def _reasons(res: IngestResult) -> dict[int, str]:
    return dict(zip(res.quarantine["source_row"], res.quarantine["reason"], strict=True))


def _details(res: IngestResult) -> dict[int, str]:
    return dict(zip(res.quarantine["source_row"], res.quarantine["detail"], strict=True))


@pytest.fixture(scope="session")
def local(pack):
    return read_incidents(FIXTURES / "local_log.csv", pack=pack)


def test_local_log_reasons(local):
    assert local.files[0]["source"] == "local"
    assert _reasons(local) == {
        3: "unknown_postcode",
        4: "bad_postcode",
        5: "swapped_lat_lon",
        6: "wrong_crs",
        7: "wrong_crs",
        8: "impossible_coordinates",
        9: "bad_coordinates",
        10: "bad_date",
        11: "unknown_crime_type",
        12: "duplicate_id",
        13: "no_location",
        16: "impossible_coordinates",
    }
    assert local.balance() == {
        "in": 17,
        "accepted": 5,
        "quarantined": 12,
        "by_reason": {
            "no_location": 1,
            "bad_coordinates": 1,
            "impossible_coordinates": 2,
            "swapped_lat_lon": 1,
            "wrong_crs": 2,
            "unknown_postcode": 1,
            "bad_postcode": 1,
            "bad_date": 1,
            "unknown_crime_type": 1,
            "duplicate_id": 1,
        },
    }


def test_local_log_details(local):
    d = _details(local)
    assert d[3] == "'SW1A 1AA' is not in the area pack's postcode file"
    assert d[4] == "'XYZ' is not a UK postcode"
    assert d[5] == (
        "latitude and longitude appear swapped: longitude 51.8651 looks like a UK latitude "
        "and latitude -2.2437 like a UK longitude"
    )
    assert d[6] == (
        "longitude 383316, latitude 218534 look like British National Grid easting/northing "
        "metres (EPSG:27700), not WGS84 degrees"
    )
    assert d[7] == (
        "easting -2.2437, northing 51.8651 look like WGS84 longitude/latitude degrees "
        "(EPSG:4326), not British National Grid metres"
    )
    assert "(0, 0)" in d[8]
    assert d[9] == "longitude/latitude do not parse as numbers: longitude abc, latitude 51.8"
    assert d[10].startswith("date '31/02/2025' does not parse")
    assert d[11] == "crime type 'Jaywalking' is not a police.uk category or known synonym"
    assert d[12] == "record ID 'L01' repeats row 0 of local_log.csv"
    assert d[13].startswith("row has no coordinates") and "Somewhere" in d[13]
    assert "outside the UK" in d[16]
    original = json.loads(local.quarantine.set_index("source_row").loc[4, "original"])
    assert original["Post Code"] == "XYZ" and original["Ref"] == "L05"


def test_local_log_accepted(local):
    inc = local.incidents
    assert inc["source_row"].tolist() == [0, 1, 2, 14, 15]
    assert inc["restricted"].all() and not inc["snap_point"].any()
    assert inc["crime_type"].tolist() == [
        "Anti-social behaviour",
        "Anti-social behaviour",
        "Other theft",
        "Anti-social behaviour",
        "Anti-social behaviour",
    ]
    assert inc["month"].dt.strftime("%Y-%m").tolist() == [
        "2025-01",
        "2025-02",
        "2025-03",
        "2025-04",
        "2025-04",
    ]
    assert inc["location_text"].tolist()[:2] == ["Westgate Street", "Kings Square"]
    assert inc["outcome"].tolist()[:2] == ["Open", "Closed"]
    # lon/lat transformed to BNG; grid refs taken as they are; postcode via Code-Point
    x, y = TO_BNG.transform(-2.2437, 51.8651)
    assert (inc.geometry.x[0], inc.geometry.y[0]) == (pytest.approx(x), pytest.approx(y))
    assert np.hypot(x - GL1_1AD[0], y - GL1_1AD[1]) < 6  # same place as GL1 1AD
    assert (inc.geometry.x[1], inc.geometry.y[1]) == GL1_1AD
    assert (inc.geometry.x[2], inc.geometry.y[2]) == GL1_1AD
    # identical rows without an ID are both kept, with distinct generated IDs
    sha = local.files[0]["sha256"][:12]
    assert inc["incident_id"].tolist() == [
        "L01",
        "L02",
        "L03",
        f"local:{sha}:14",
        f"local:{sha}:15",
    ]


def test_normalise_postcode():
    values = pd.Series(["gl11ad", " GL1  1AD ", "GL1 1AD", "XYZ", "", None, "sw1a1aa", "GL1"])
    assert normalise_postcode(values).tolist() == [
        "GL1 1AD",
        "GL1 1AD",
        "GL1 1AD",
        "",
        "",
        "",
        "SW1A 1AA",
        "",
    ]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_postcode_lookup_uses_every_pack_file(tmp_path, pack):
    # GL1 1DA is only in the Code-Point 2014 file of the pack
    f = _write(tmp_path / "pc.csv", "date,type,postcode\n2025-01-02,ASB,gl1 1da\n")
    res = read_incidents(f, pack=pack)
    assert (res.incidents.geometry.x[0], res.incidents.geometry.y[0]) == (383773.0, 218403.0)


def test_postcode_rows_need_a_pack(tmp_path):
    f = _write(tmp_path / "pc.csv", "date,type,postcode\n2025-01-02,ASB,GL1 1AD\n")
    with pytest.raises(ValueError, match="1 rows are located by postcode only"):
        read_incidents(f)
    # rows located otherwise do not need the pack
    g = _write(
        tmp_path / "pc2.csv", "date,type,lon,lat,postcode\n2025-01-02,ASB,-2.2437,51.8651,GL1 1AD\n"
    )
    assert len(read_incidents(g).incidents) == 1


def test_first_usable_location_wins(tmp_path, pack):
    f = _write(
        tmp_path / "tiers.csv",
        "id,date,type,lon,lat,easting,northing,postcode\n"
        "a,2025-01-02,ASB,51.8651,-2.2437,,,GL1 1AD\n"  # swapped lon/lat -> postcode
        "b,2025-01-02,ASB,-2.2437,51.8651,,,nonsense\n"  # lon/lat fine, bad postcode unused
        "c,2025-01-02,ASB,,,390000,220000,GL1 1AD\n"  # grid ref before postcode
        "d,2025-01-02,ASB,51.8651,-2.2437,,,\n",  # nothing usable: first reason
    )
    res = read_incidents(f, pack=pack)
    xy = dict(
        zip(
            res.incidents["incident_id"],
            zip(res.incidents.geometry.x, res.incidents.geometry.y, strict=True),
            strict=True,
        )
    )
    assert xy["a"] == GL1_1AD
    assert xy["b"] == (
        pytest.approx(TO_BNG.transform(-2.2437, 51.8651)[0]),
        pytest.approx(TO_BNG.transform(-2.2437, 51.8651)[1]),
    )
    assert xy["c"] == (390000.0, 220000.0)
    assert _reasons(res) == {3: "swapped_lat_lon"}


def test_coordinate_ranges(tmp_path):
    f = _write(
        tmp_path / "ranges.csv",
        "date,type,lon,lat,easting,northing\n"
        "2025-01-02,ASB,200,95,,\n"
        "2025-01-02,ASB,,,800000,100000\n"
        "2025-01-02,ASB,,,0,0\n"
        "2025-01-02,ASB,,,-100,5000\n"
        "2025-01-02,ASB,,,51.86,-2.24\n"
        "2025-01-02,ASB,,,12.5,\n"
        "2025-01-02,ASB,inf,51.8,,\n"
        "2025-01-02,ASB,1.7,60.5,,\n",  # Shetland-ish: inside the UK extent
    )
    res = read_incidents(f)
    assert _reasons(res) == {
        0: "impossible_coordinates",
        1: "impossible_coordinates",
        2: "impossible_coordinates",
        3: "impossible_coordinates",
        4: "wrong_crs",
        5: "bad_coordinates",
        6: "bad_coordinates",
    }
    d = _details(res)
    assert "outside the WGS84 range" in d[0]
    assert "outside the British National Grid extent" in d[1]
    assert "(0, 0)" in d[2]
    assert "look like WGS84 latitude/longitude degrees" in d[4]
    assert d[5] == "northing is blank (easting 12.5)"
    assert len(res.incidents) == 1


def test_dates(tmp_path):
    dates = [
        "2025-01-15",
        "15/02/2025",
        "2025-03",
        "2025-04-30T10:15:00",
        "1/5/2025",
        "2025-06-01 23:59",
        "07-07-2025",
        "2025-13-01",
        "",
        "yesterday",
        "2025/08/31",
    ]
    body = "".join(f"{d},ASB,-2.2437,51.8651\n" for d in dates)
    res = read_incidents(_write(tmp_path / "dates.csv", "date,type,lon,lat\n" + body))
    assert res.incidents["month"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-01-01",
        "2025-02-01",
        "2025-03-01",
        "2025-04-01",
        "2025-05-01",
        "2025-06-01",
        "2025-07-01",
        "2025-08-01",
    ]
    assert _reasons(res) == {7: "bad_date", 8: "bad_date", 9: "bad_date"}
    assert _details(res)[8] == "date is blank"


def test_crime_types(tmp_path):
    pairs = {
        "ASB": "Anti-social behaviour",
        "anti social behaviour": "Anti-social behaviour",
        "Youth ASB": "Anti-social behaviour",
        "Street Drinking": "Anti-social behaviour",
        "begging": "Anti-social behaviour",
        "arson": "Criminal damage and arson",
        "Criminal Damage": "Criminal damage and arson",
        "criminal-damage-arson": "Criminal damage and arson",
        "violence": "Violence and sexual offences",
        "Assault": "Violence and sexual offences",
        "violent-crime": "Violence and sexual offences",
        "knife crime": "Possession of weapons",
        "weapon": "Possession of weapons",
        "theft": "Other theft",
        "SHOPLIFTING": "Shoplifting",
        "theft-from-the-person": "Theft from the person",
    }
    pairs.update({t.upper(): t for t in CRIME_TYPES})
    body = "".join(f"2025-01-02,{k},-2.2437,51.8651\n" for k in pairs)
    body += "2025-01-02,fly tipping,-2.2437,51.8651\n"
    res = read_incidents(_write(tmp_path / "types.csv", "date,type,lon,lat\n" + body))
    assert res.incidents["crime_type"].tolist() == list(pairs.values())
    assert _reasons(res) == {len(pairs): "unknown_crime_type"}


def test_duplicate_ids_across_files_and_only_valid_rows(tmp_path):
    a = _write(
        tmp_path / "a.csv",
        "ref,date,type,lon,lat\n"
        "X1,2025-13-01,ASB,-2.2437,51.8651\n"  # bad date: not the kept copy
        "X1,2025-01-02,ASB,-2.2437,51.8651\n"
        "X2,2025-01-02,ASB,-2.2437,51.8651\n",
    )
    b = _write(
        tmp_path / "b.csv",
        "ref,date,type,lon,lat\nX2,2025-01-03,ASB,-2.2437,51.8651\nX3,2025-01-03,ASB,-2.2437,51.8651\n",
    )
    res = read_incidents([a, b])
    assert res.incidents["incident_id"].tolist() == ["X1", "X2", "X3"]
    q = res.quarantine
    assert q[["source_file", "source_row", "reason"]].values.tolist() == [
        ["a.csv", 0, "bad_date"],
        ["b.csv", 0, "duplicate_id"],
    ]
    assert q["detail"].iloc[1] == "record ID 'X2' repeats row 2 of a.csv"
    assert [f["n_quarantined"] for f in res.files] == [1, 1]
    # separate calls do not see each other's IDs
    assert len(concat_results([read_incidents(a), read_incidents(b)]).incidents) == 4


def test_same_id_in_different_sources_is_not_a_duplicate(tmp_path):
    local = _write(tmp_path / "l.csv", "id,date,type,lon,lat\n86954010,2025-01-02,ASB,-2.2,51.8\n")
    api = tmp_path / "api.json"
    api.write_text(
        json.dumps(
            [
                {
                    "category": "burglary",
                    "id": 86954010,
                    "month": "2025-01",
                    "location": {"latitude": "51.8", "longitude": "-2.2", "street": None},
                    "outcome_status": {"category": "Under investigation", "date": None},
                },
                {"category": "drugs", "id": 2, "month": "2025-01", "location": None},
            ]
        )
    )
    res = read_incidents([local, api])
    assert res.incidents["incident_id"].tolist() == ["86954010", "86954010"]
    assert res.incidents["outcome"].tolist() == ["", "Under investigation"]
    assert res.incidents["location_text"].tolist() == ["", ""]
    assert _reasons(res) == {1: "no_location"}


def test_column_mapping(tmp_path):
    f = _write(
        tmp_path / "odd.csv",
        "Case,When,What,Grid E,Grid N,Where\nC1,2025-02-03,Burglary,383316,218534,Kings Walk\n",
    )
    with pytest.raises(IngestError, match="odd.csv: missing required columns: date, type"):
        read_incidents(f)
    res = read_incidents(
        f, columns="id=Case,date=When,type=What,easting=Grid E,northing=Grid N,location=Where"
    )
    row = res.incidents.iloc[0]
    assert row["incident_id"] == "C1" and row["crime_type"] == "Burglary"
    assert row["location_text"] == "Kings Walk"
    assert (row.geometry.x, row.geometry.y) == GL1_1AD
    # a dict works too, names match case-insensitively; the rest is detected
    res2 = read_incidents(
        f, columns={"date": "when", "type": "WHAT", "easting": "grid e", "northing": "Grid N"}
    )
    assert res2.incidents["incident_id"].tolist() == ["C1"]
    with pytest.raises(
        IngestError, match=r"column 'Nope' named by the column mapping \(date=Nope\)"
    ):
        read_incidents(f, columns="date=Nope,type=What")


def test_column_autodetection(tmp_path):
    f = _write(
        tmp_path / "auto.csv",
        "Incident_Ref,Reported Date,Incident Type,Eastings,Northings,Address,Result\n"
        "R1,02/03/2025,Criminal damage,383316,218534,Kings Walk,No further action\n",
    )
    row = read_incidents(f).incidents.iloc[0]
    assert row["incident_id"] == "R1"
    assert row["month"] == pd.Timestamp("2025-03-01")
    assert row["crime_type"] == "Criminal damage and arson"
    assert row["location_text"] == "Kings Walk" and row["outcome"] == "No further action"
    assert (row.geometry.x, row.geometry.y) == GL1_1AD


def test_parse_columns():
    assert parse_columns(
        "lon=X, lat=Y,date=D,type=T,id=I,postcode=P,easting=E,northing=N,location=L,outcome=O"
    ) == {
        "lon": "X",
        "lat": "Y",
        "date": "D",
        "type": "T",
        "id": "I",
        "postcode": "P",
        "easting": "E",
        "northing": "N",
        "location": "L",
        "outcome": "O",
    }
    with pytest.raises(ValueError, match="unknown key 'colour'"):
        parse_columns("colour=C")
    with pytest.raises(ValueError, match="expected key=Column"):
        parse_columns("lon")
    with pytest.raises(ValueError, match="given twice"):
        parse_columns("lon=A,lon=B")


def test_excel_input(tmp_path, pack):
    xlsx = tmp_path / "log.xlsx"
    pd.DataFrame(
        {
            "Reference": ["E1", "E2", "E3"],
            "Incident Date": [dt.datetime(2025, 5, 17, 22, 30), dt.datetime(2025, 6, 1), None],
            "Category": ["Youth ASB", "knife crime", "theft"],
            "Postcode": ["gl1 1ad", None, "GL1 1AD"],
            "Longitude": [None, -2.2437, None],
            "Latitude": [None, 51.8651, None],
        }
    ).to_excel(xlsx, index=False)
    res = read_incidents(xlsx, pack=pack)
    assert res.files[0]["source"] == "local"
    inc = res.incidents
    assert inc["incident_id"].tolist() == ["E1", "E2"]
    assert inc["month"].dt.strftime("%Y-%m-%d").tolist() == ["2025-05-01", "2025-06-01"]
    assert inc["crime_type"].tolist() == ["Anti-social behaviour", "Possession of weapons"]
    assert (inc.geometry.x[0], inc.geometry.y[0]) == GL1_1AD
    assert _reasons(res) == {2: "bad_date"}


def test_geojson_edge_cases(tmp_path):
    feature = {
        "type": "Feature",
        "properties": {"Crime ID": "g1", "Month": "2022-09", "Crime type": "Drugs"},
        "geometry": {"type": "Point", "coordinates": [-2.2437, 51.8651]},
    }
    line = dict(feature, geometry={"type": "LineString", "coordinates": [[0, 0], [1, 1]]})
    line["properties"] = dict(feature["properties"], **{"Crime ID": "g2"})
    empty = dict(
        feature, geometry=None, properties=dict(feature["properties"], **{"Crime ID": "g3"})
    )
    path = tmp_path / "g.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature, line, empty]}))
    res = read_incidents(path)
    assert res.incidents["incident_id"].tolist() == ["g1"]
    assert _reasons(res) == {1: "bad_coordinates", 2: "no_location"}
    assert "LineString" in _details(res)[1]


# ---------------------------------------------------------------------------------------
# Files that cannot be read


def test_binary_file(tmp_path):
    f = tmp_path / "photo.csv"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(IngestError, match=r"^photo.csv: binary content \(NUL bytes\)"):
        read_incidents(f)


def test_not_utf8(tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes("date,type,postcode\n2025-01-02,ASB,GL1 1AD £\n".encode("latin-1"))
    with pytest.raises(IngestError, match=r"^latin.csv: not UTF-8 text \(byte 0xa3 at offset 42\)"):
        read_incidents(f)


def test_semicolon_delimited():
    with pytest.raises(
        IngestError, match=r"^semicolon.csv: looks semicolon-separated \(';'\); expected comma"
    ):
        read_incidents(FIXTURES / "semicolon.csv")


def test_tab_delimited(tmp_path):
    f = _write(tmp_path / "tabs.csv", "date\ttype\tlon\tlat\n2025-01-02\tASB\t-2.2\t51.8\n")
    with pytest.raises(IngestError, match=r"^tabs.csv: looks tab-separated"):
        read_incidents(f)


def test_missing_columns():
    with pytest.raises(
        IngestError, match=r"^missing_columns.csv: missing required columns: Longitude, Latitude$"
    ):
        read_incidents(FIXTURES / "missing_columns.csv")


def test_local_missing_location(tmp_path):
    f = _write(tmp_path / "noloc.csv", "date,type,lon\n2025-01-02,ASB,-2.2\n")
    with pytest.raises(IngestError, match=r"^noloc.csv: missing required columns: lat$"):
        read_incidents(f)
    g = _write(tmp_path / "noloc2.csv", "date,type,where\n2025-01-02,ASB,here\n")
    with pytest.raises(IngestError, match=r"missing required columns: location \(lon\+lat"):
        read_incidents(g)


def test_broken_json():
    with pytest.raises(IngestError, match=r"^broken.json: invalid JSON: .* at line \d+ column \d+"):
        read_incidents(FIXTURES / "broken.json")


def test_unknown_json(tmp_path):
    f = _write(tmp_path / "other.json", json.dumps({"crimes": []}))
    with pytest.raises(IngestError, match="other.json: unknown JSON format"):
        read_incidents(f)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(IngestError, match="empty.csv: file is empty"):
        read_incidents(_write(tmp_path / "empty.csv", "\n"))
    with pytest.raises(IngestError, match="nowhere.csv: file not found"):
        read_incidents(tmp_path / "nowhere.csv")


def test_forced_source_mismatch(sample_files, geojson_file):
    with pytest.raises(IngestError, match="expected police-uk-api JSON, found CSV"):
        read_incidents(sample_files[0], source="police-uk-api")
    with pytest.raises(IngestError, match="expected a police-uk-api file, found police-uk-geojson"):
        read_incidents(geojson_file, source="police-uk-api")
    with pytest.raises(ValueError, match="unknown source 'csv'"):
        read_incidents(sample_files[0], source="csv")
    # a police.uk CSV can be read as a local log: same rows, now restricted
    res = read_incidents(sample_files[0], source="local")
    assert res.balance() == {
        "in": 4485,
        "accepted": 4399,
        "quarantined": 86,
        "by_reason": {"no_location": 86},
    }
    assert res.incidents["restricted"].all() and set(res.incidents["source"]) == {"local"}
    assert res.incidents["outcome"].iloc[0] == "Investigation complete; no suspect identified"


def test_one_bad_file_fails_the_call(sample_files, tmp_path):
    calls = []
    with pytest.raises(IngestError, match="^semicolon.csv"):
        read_incidents([sample_files[0], FIXTURES / "semicolon.csv"], progress=calls.append)
    assert calls == [1]


def test_progress_and_folders(tmp_path):
    for i in range(3):
        _write(tmp_path / f"m{i}.csv", f"date,type,lon,lat\n2025-0{i + 1}-02,ASB,-2.2,51.8\n")
    _write(tmp_path / "notes.txt", "ignored")
    calls = []
    res = read_incidents(tmp_path, progress=calls.append)
    assert calls == [1, 1, 1]
    assert [f["name"] for f in res.files] == ["m0.csv", "m1.csv", "m2.csv"]


def test_header_only_and_empty_results(tmp_path):
    res = read_incidents(_write(tmp_path / "h.csv", "date,type,lon,lat\n"))
    assert res.balance() == {"in": 0, "accepted": 0, "quarantined": 0, "by_reason": {}}
    assert list(res.incidents.columns) == INCIDENT_COLUMNS
    empty = read_incidents([])
    assert empty.n_in == 0 and list(empty.incidents.columns) == INCIDENT_COLUMNS
    assert list(empty.quarantine.columns) == QUARANTINE_COLUMNS
    assert concat_results([]).n_in == 0


def test_concat_and_balance_guard(local, api):
    both = IngestResult.concat([local, api])
    assert both.balance() == {
        "in": 17 + 4698,
        "accepted": 5 + 4698,
        "quarantined": 12,
        "by_reason": local.balance()["by_reason"],
    }
    assert [f["name"] for f in both.files][:2] == ["local_log.csv", "AA3_all_crime_2020-09.json"]
    assert both.incidents.crs.to_epsg() == 27700
    broken = IngestResult(local.incidents, local.quarantine, n_in=18, files=local.files)
    with pytest.raises(AssertionError, match="balance"):
        broken.balance()


def test_csv_quoting_bom_crlf_and_duplicate_headers(tmp_path):
    f = tmp_path / "quoted.csv"
    f.write_bytes(
        b"\xef\xbb\xbfid,date,type,lon,lat,location,location\r\n"
        b'Q1,2025-01-02,ASB,-2.2437,51.8651,"Kings Square, Gloucester","second"\r\n'
        b'Q2,2025-01-02, asb ,-2.2437,51.8651,"Line one\r\nline two",x\r\n'
        b"\r\n"
    )
    res = read_incidents(f)
    inc = res.incidents
    assert inc["incident_id"].tolist() == ["Q1", "Q2"]
    assert inc["location_text"].tolist() == ["Kings Square, Gloucester", "Line one\r\nline two"]
    assert inc["crime_type"].tolist() == ["Anti-social behaviour"] * 2


def test_ragged_csv(tmp_path):
    f = _write(tmp_path / "ragged.csv", "date,type,lon,lat\n2025-01-02,ASB,-2.2,51.8,extra\n")
    with pytest.raises(IngestError, match=r"^ragged.csv: not a readable CSV: .*columns"):
        read_incidents(f)


def test_quarantine_original_of_each_source(tmp_path):
    f = _write(tmp_path / "o.csv", "ref,date,type,lon,lat\nZ1,nope,ASB,-2.2,51.8\n")
    api = tmp_path / "o.json"
    record = {"category": "drugs", "id": 5, "month": "bad", "location": None}
    api.write_text(json.dumps([record]))
    res = read_incidents([f, api])
    originals = [json.loads(o) for o in res.quarantine["original"]]
    assert originals == [
        {"ref": "Z1", "date": "nope", "type": "ASB", "lon": "-2.2", "lat": "51.8"},
        record,
    ]
    assert res.quarantine["reason"].tolist() == ["bad_date", "no_location"]


def test_read_raw(sample_files, api_files, tmp_path):
    raw = read_raw([sample_files[0], api_files[0]])
    assert len(raw) == 4485 + 486
    assert raw[["source_file", "source_row"]].iloc[4485].tolist() == [api_files[0].name, 0]
    assert raw["Crime ID"].iloc[0].startswith("c9416d63")
    assert raw.loc[4485, "location.street.name"] == "On or near Midwinter Avenue"
    assert raw["source_row"].iloc[:4485].tolist() == list(range(4485))
    # rows line up with the ingest result by (source_file, source_row)
    res = read_incidents(sample_files[0])
    keyed = raw.set_index(["source_file", "source_row"])
    q = res.quarantine.iloc[0]
    assert keyed.loc[(q["source_file"], q["source_row"]), "Location"] == "No Location"
    assert read_raw([]).columns.tolist() == ["source_file", "source_row"]


def test_geojson_in_british_national_grid(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"Month": "2022-09", "Crime type": "Robbery"},
                "geometry": {"type": "Point", "coordinates": [383316, 218534]},
            }
        ],
    }
    path = tmp_path / "bng.geojson"
    path.write_text(json.dumps(doc))
    inc = read_incidents(path).incidents
    assert (inc.geometry.x[0], inc.geometry.y[0]) == GL1_1AD
    assert inc["incident_id"].iloc[0].startswith("police-uk-geojson:")
