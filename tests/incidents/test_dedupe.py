"""Incident IDs: duplicate source IDs per source and call; generated IDs stay apart."""

from __future__ import annotations

import json

from geo_ssgp.incidents import concat_results, read_incidents


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
