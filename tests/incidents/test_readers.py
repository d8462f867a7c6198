"""Source formats: detection, column mapping, police.uk CSV/API/GeoJSON, local CSV/Excel."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from geo_ssgp.incidents import (
    IngestError,
    detect_source,
    parse_columns,
    read_incidents,
    read_raw,
)


def test_detect_source(sample_files, api_files, geojson_file, tmp_path, ingest_fixtures):
    assert detect_source(sample_files[0]) == "police-uk"
    assert detect_source(api_files[0]) == "police-uk-api"
    assert detect_source(geojson_file) == "police-uk-geojson"
    assert detect_source(ingest_fixtures / "local_log.csv") == "local"
    xlsx = tmp_path / "log.xlsx"
    pd.DataFrame({"date": ["2025-01-01"], "type": ["ASB"], "postcode": ["GL1 1AD"]}).to_excel(
        xlsx, index=False
    )
    assert detect_source(xlsx) == "local"


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
        "duplicates": 0,
        "by_reason": {"no_location": 86},
    }
    assert res.incidents["restricted"].all() and set(res.incidents["source"]) == {"local"}
    assert res.incidents["outcome"].iloc[0] == "Investigation complete; no suspect identified"


def test_missing_columns(ingest_fixtures):
    with pytest.raises(
        IngestError, match=r"^missing_columns.csv: missing required columns: Longitude, Latitude$"
    ):
        read_incidents(ingest_fixtures / "missing_columns.csv")


def test_local_missing_location(tmp_path, write):
    f = write(tmp_path / "noloc.csv", "date,type,lon\n2025-01-02,ASB,-2.2\n")
    with pytest.raises(IngestError, match=r"^noloc.csv: missing required columns: lat$"):
        read_incidents(f)
    g = write(tmp_path / "noloc2.csv", "date,type,where\n2025-01-02,ASB,here\n")
    with pytest.raises(IngestError, match=r"missing required columns: location \(lon\+lat"):
        read_incidents(g)


def test_unknown_json(tmp_path, write):
    f = write(tmp_path / "other.json", json.dumps({"crimes": []}))
    with pytest.raises(IngestError, match="other.json: unknown JSON format"):
        read_incidents(f)


def test_column_mapping(tmp_path, write, gl1_1ad):
    f = write(
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
    assert (row.geometry.x, row.geometry.y) == gl1_1ad
    # a dict works too, names match case-insensitively; the rest is detected
    res2 = read_incidents(
        f, columns={"date": "when", "type": "WHAT", "easting": "grid e", "northing": "Grid N"}
    )
    assert res2.incidents["incident_id"].tolist() == ["C1"]
    with pytest.raises(
        IngestError, match=r"column 'Nope' named by the column mapping \(date=Nope\)"
    ):
        read_incidents(f, columns="date=Nope,type=What")


def test_column_autodetection(tmp_path, write, gl1_1ad):
    f = write(
        tmp_path / "auto.csv",
        "Incident_Ref,Reported Date,Incident Type,Eastings,Northings,Address,Result\n"
        "R1,02/03/2025,Criminal damage,383316,218534,Kings Walk,No further action\n",
    )
    row = read_incidents(f).incidents.iloc[0]
    assert row["incident_id"] == "R1"
    assert row["month"] == pd.Timestamp("2025-03-01")
    assert row["crime_type"] == "Criminal damage and arson"
    assert row["location_text"] == "Kings Walk" and row["outcome"] == "No further action"
    assert (row.geometry.x, row.geometry.y) == gl1_1ad


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


def test_excel_input(tmp_path, pack, reasons_of, gl1_1ad):
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
    assert (inc.geometry.x[0], inc.geometry.y[0]) == gl1_1ad
    assert reasons_of(res) == {2: "bad_date"}


def test_geojson_edge_cases(tmp_path, reasons_of, details_of):
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
    assert reasons_of(res) == {1: "bad_coordinates", 2: "no_location"}
    assert "LineString" in details_of(res)[1]


def test_geojson_in_british_national_grid(tmp_path, gl1_1ad):
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
    assert (inc.geometry.x[0], inc.geometry.y[0]) == gl1_1ad
    assert inc["incident_id"].iloc[0].startswith("police-uk-geojson:")


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
