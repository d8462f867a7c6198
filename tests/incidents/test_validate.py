"""Validation: quarantine reasons and details, dates, crime types, original rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geo_ssgp.incidents import read_incidents
from geo_ssgp.schema import CRIME_TYPES


def test_local_log_reasons(local, reasons_of):
    assert local.files[0]["source"] == "local"
    assert reasons_of(local) == {
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
        "duplicates": 0,
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


def test_local_log_details(local, details_of):
    d = details_of(local)
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


def test_local_log_accepted(local, gl1_1ad, to_bng):
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
    x, y = to_bng.transform(-2.2437, 51.8651)
    assert (inc.geometry.x[0], inc.geometry.y[0]) == (pytest.approx(x), pytest.approx(y))
    assert np.hypot(x - gl1_1ad[0], y - gl1_1ad[1]) < 6  # same place as GL1 1AD
    assert (inc.geometry.x[1], inc.geometry.y[1]) == gl1_1ad
    assert (inc.geometry.x[2], inc.geometry.y[2]) == gl1_1ad
    # identical rows without an ID are both kept, with distinct generated IDs
    sha = local.files[0]["sha256"][:12]
    assert inc["incident_id"].tolist() == [
        "L01",
        "L02",
        "L03",
        f"local:{sha}:14",
        f"local:{sha}:15",
    ]


def test_dates(tmp_path, write, reasons_of, details_of):
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
    res = read_incidents(write(tmp_path / "dates.csv", "date,type,lon,lat\n" + body))
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
    assert reasons_of(res) == {7: "bad_date", 8: "bad_date", 9: "bad_date"}
    assert details_of(res)[8] == "date is blank"


def test_crime_types(tmp_path, write, reasons_of):
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
    res = read_incidents(write(tmp_path / "types.csv", "date,type,lon,lat\n" + body))
    assert res.incidents["crime_type"].tolist() == list(pairs.values())
    assert reasons_of(res) == {len(pairs): "unknown_crime_type"}


def test_quarantine_original_of_each_source(tmp_path, write):
    f = write(tmp_path / "o.csv", "ref,date,type,lon,lat\nZ1,nope,ASB,-2.2,51.8\n")
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


def test_months_outside_the_plausible_window_are_quarantined(tmp_path, write, reasons_of,
                                                             details_of):
    from geo_ssgp.incidents.validate import plausible_months

    first, last = plausible_months()
    assert str(first) == "2010-01" and last > np.datetime64("2025-09", "M")
    body = "".join(f"{d},ASB,-2.2437,51.8651\n" for d in
                   ["1900-01-15", "2099-01", "2009-12-31", "2010-01-01", "2025-09-30"])
    res = read_incidents(write(tmp_path / "window.csv", "date,type,lon,lat\n" + body))
    assert reasons_of(res) == {0: "implausible_month", 1: "implausible_month",
                               2: "implausible_month"}
    assert details_of(res)[0].startswith("month 1900-01 is outside the plausible window 2010-01")
    assert res.incidents["month"].dt.strftime("%Y-%m").tolist() == ["2010-01", "2025-09"]


def test_local_logs_keep_date_and_time(tmp_path):
    """15/06/2025 22:40 stays 2025-06-15 22:40 (not 2025-06-01); police.uk months get NaT."""
    import pandas as pd

    log = tmp_path / "log.csv"
    log.write_text(
        "ref,date,time,type,lon,lat\n"
        "A1,15/06/2025,22:40,ASB,-2.24,51.86\n"
        "A2,2025-06-14 01:15,,ASB,-2.24,51.86\n"
        "A3,2025-06-16,,Burglary,-2.24,51.86\n"
        "A4,2025-06,,Burglary,-2.24,51.86\n"
        "A5,2025-06-17,25:99,Burglary,-2.24,51.86\n"
    )
    got = read_incidents([log]).incidents.set_index("incident_id")
    assert got.loc["A1", "occurred_at"] == pd.Timestamp("2025-06-15 22:40")
    assert got.loc["A1", "month"] == pd.Timestamp("2025-06-01")
    assert got.loc["A2", "occurred_at"] == pd.Timestamp("2025-06-14 01:15")
    assert got.loc["A3", "occurred_at"] == pd.Timestamp("2025-06-16")
    assert pd.isna(got.loc["A4", "occurred_at"])
    assert got["time_known"].tolist() == [True, True, False, False, False]  # 25:99 is no time


def test_over_long_text_fields_are_quarantined(tmp_path, write, reasons_of, details_of):
    """A 1 MB location string or a 200k-character id is quarantined as ``field_too_long``
    (the ``max_field_chars`` setting, 1,000 by default); the other rows are accepted."""
    from geo_ssgp.config import default_settings

    limit = default_settings().max_field_chars
    assert limit == 1000
    rows = [
        ("R1", "x" * 1_000_000),
        ("R" * 200_000, "Church Road"),
        ("R3", "y" * limit),
        ("R4", "Church Road"),
    ]
    body = "".join(f"{i},2025-08-03,ASB,-2.22124,51.88177,{loc}\n" for i, loc in rows)
    res = read_incidents(write(tmp_path / "long.csv", "ref,date,type,lon,lat,location\n" + body))
    assert reasons_of(res) == {0: "field_too_long", 1: "field_too_long"}
    assert details_of(res)[0] == (
        "location_text is 1,000,000 characters, more than the 1,000 allowed"
    )
    assert details_of(res)[1] == "rec_id is 200,000 characters, more than the 1,000 allowed"
    assert res.incidents["location_text"].str.len().tolist() == [limit, len("Church Road")]
