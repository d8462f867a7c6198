"""Incident IDs: duplicate source IDs per source and call; generated IDs stay apart."""

from __future__ import annotations

import json

from geo_ssgp.incidents import concat_results, read_incidents
from geo_ssgp.incidents.dedupe import count_once


def test_duplicate_ids_across_files_and_only_valid_rows(tmp_path, write):
    a = write(
        tmp_path / "a.csv",
        "ref,date,type,lon,lat\n"
        "X1,2025-13-01,ASB,-2.2437,51.8651\n"  # bad date: not the kept copy
        "X1,2025-01-02,ASB,-2.2437,51.8651\n"
        "X2,2025-01-02,ASB,-2.2437,51.8651\n",
    )
    b = write(
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


def test_same_id_in_different_sources_is_not_a_duplicate(tmp_path, write, reasons_of):
    local = write(tmp_path / "l.csv", "id,date,type,lon,lat\n86954010,2025-01-02,ASB,-2.2,51.8\n")
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
    assert reasons_of(res) == {1: "no_location"}


# --------------------------------------------------------------------------------------------
# one incident, counted once across files and sources (count_once)

STREET_CSV = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
    ",2025-03,Glos,Glos,-2.2437,51.8651,On or near X Street,,,Anti-social behaviour,,\n"
    ",2025-03,Glos,Glos,-2.2437,51.8651,On or near X Street,,,Anti-social behaviour,,\n"
    "abc123,2025-03,Glos,Glos,-2.2500,51.8600,On or near Y Road,,,Burglary,,\n"
)


def test_api_csv_export_is_public_police_uk_data(tmp_path, write):
    f = write(
        tmp_path / "radius.csv",
        "category,month,latitude,longitude,fetched_town\n"
        "anti-social-behaviour,2025-03,51.8651,-2.2437,Gloucester\n",
    )
    res = read_incidents(f)
    assert res.files[0]["source"] == "police-uk-api"
    assert not res.incidents["restricted"].any() and res.incidents["snap_point"].all()
    assert res.incidents["crime_type"].tolist() == ["Anti-social behaviour"]


def test_rows_without_ids_match_as_multisets_and_the_street_csv_is_kept(tmp_path, write):
    street = write(tmp_path / "street.csv", STREET_CSV)
    radius = write(
        tmp_path / "radius.csv",
        "category,month,latitude,longitude\n"
        + "anti-social-behaviour,2025-03,51.8651,-2.2437\n" * 3  # one more than the street CSV
        + "burglary,2025-03,51.8600,-2.2500\n"  # same point, month, type as abc123
        + "burglary,2025-04,51.8600,-2.2500\n",  # another month: a new incident
    )
    res = count_once(read_incidents([radius, street]))  # the street CSV wins, whatever the order
    by_file = {f["name"]: f for f in res.files}
    assert by_file["street.csv"]["n_accepted"] == 3 and by_file["street.csv"]["n_duplicates"] == 0
    assert by_file["radius.csv"]["n_duplicates"] == 3
    assert by_file["radius.csv"]["duplicate_of"] == {"street.csv": 3}
    assert by_file["radius.csv"]["n_accepted"] == 2
    assert res.balance() == {
        "in": 8,
        "accepted": 5,
        "quarantined": 0,
        "duplicates": 3,
        "by_reason": {"duplicate_incident": 3},
    }
    dup = res.quarantine[res.quarantine["reason"] == "duplicate_incident"]
    assert set(dup["detail"]) == {"same incident as one in street.csv"}
    assert json.loads(dup["original"].iloc[0])["month"] == "2025-03"


def test_crime_ids_match_across_sources_and_held_rows_count(tmp_path, write):
    street = read_incidents(write(tmp_path / "street.csv", STREET_CSV))
    again = write(tmp_path / "again.csv", STREET_CSV.replace("-2.2500", "-2.2510"))  # moved point
    res = count_once(read_incidents(again), held=street.incidents)
    assert res.files[0]["n_duplicates"] == 3  # two by multiset, abc123 by its ID
    assert res.incidents.empty
    nothing = count_once(read_incidents(again))
    assert nothing.files[0].get("n_duplicates", 0) == 0  # identical rows of one file stay apart
    assert len(nothing.incidents) == 3
