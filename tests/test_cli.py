"""The CLI contract on the real sample: ingest, geocode, agreement, areas, hotspots, evaluate."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from geo_ssgp.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-store")


@pytest.fixture(scope="module")
def ingested(store_dir, sample_files):
    args = ["ingest", *map(str, sample_files), "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_for_every_command():
    for command in ("ingest", "geocode", "agreement", "areas", "hotspots", "evaluate", "serve"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_ingest_prints_balance(ingested):
    assert "in 44,665 = accepted 43,590 + quarantined 1,075" in ingested
    assert "quarantined no_location: 1,075" in ingested


def test_reingest_is_idempotent(ingested, store_dir, sample_files):
    result = runner.invoke(app, ["ingest", str(sample_files[0]), "--store", str(store_dir)])
    assert result.exit_code == 0
    assert "in 0 = accepted 0 + quarantined 0" in result.output
    assert "already stored" in result.output


def test_malformed_file_stores_nothing(tmp_path, store_dir, ingested):
    bad = tmp_path / "semicolons.csv"
    bad.write_text("id;lon;lat\n1;-2.2;51.8\n")
    result = runner.invoke(app, ["ingest", str(bad), "--store", str(store_dir)])
    assert result.exit_code == 1
    assert "semicolons.csv" in result.output
    assert "Nothing was stored" in result.output


def test_agreement_command():
    result = runner.invoke(app, ["agreement"])
    assert result.exit_code == 0, result.output
    share = float(result.output.split("= ")[-1].strip().rstrip("%")) / 100
    assert share >= 0.984


def test_areas_command(ingested, store_dir, tmp_path):
    out = tmp_path / "lsoa.csv"
    args = ["areas", "--from", "2025-01", "--to", "2025-09", "--out", str(out),
            "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 82
    assert table["count"].sum() == 14_333
    assert "132,407" in result.output and "645,095" in result.output
    asb = tmp_path / "ward_asb.csv"
    args = ["areas", "--level", "ward", "--crime-type", "Anti-social behaviour",
            "--out", str(asb), "--store", str(store_dir)]
    assert runner.invoke(app, args).exit_code == 0
    wards = pd.read_csv(asb)
    assert len(wards) == 18
    assert wards["count"].sum() == 2_727


def test_hotspots_command_from_files(tmp_path, sample_files):
    out = tmp_path / "h.geojson"
    glob = str(sample_files[0].parent / "2025-0[1-3]-*.csv")
    args = ["hotspots", "--method", "kde", "--incidents", glob, "--bandwidth", "200",
            "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["parameters"]["method"] == "kde"
    assert doc["parameters"]["bandwidth_m"] == 200
    assert doc["parameters"]["period"] == {"from": "2025-01", "to": "2025-03"}
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert -2.4 < lon < -2.1 and 51.7 < lat < 51.95
    assert all(f["properties"]["label"] for f in doc["features"])


def test_hotspots_unknown_method(tmp_path, ingested, store_dir):
    args = ["hotspots", "--method", "magic", "--out", str(tmp_path / "x.geojson"),
            "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "unknown hotspot method" in result.output


def test_evaluate_json(ingested, store_dir):
    args = ["evaluate", "--train-from", "2025-01", "--train-to", "2025-06",
            "--test-from", "2025-07", "--test-to", "2025-07", "--methods", "default,kde",
            "--cell-size", "50", "--folds", "2", "--json", "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"default", "kde", "naive-previous"}  # names as requested
    assert report["default"]["method"] == "grid-count"
    for method in report.values():
        assert set(method["coverage"]) == {"0.01", "0.03", "0.05"}
        assert {"pai", "pai_sd", "pei", "pei_sd", "rri", "hit_rate"} <= set(
            method["coverage"]["0.05"]
        )
        assert [f["test"] for f in method["folds"]] == [["2025-07"] * 2, ["2025-08"] * 2]
    assert report["default"]["coverage"]["0.01"]["pai"] > 40


def test_evaluate_rejects_folds_beyond_the_data_and_fine_cells(ingested, store_dir):
    base = ["evaluate", "--train-from", "2025-01", "--train-to", "2025-06",
            "--test-from", "2025-07", "--test-to", "2025-09", "--methods", "default",
            "--store", str(store_dir)]
    result = runner.invoke(app, [*base, "--folds", "2"])
    assert result.exit_code == 2
    assert "at most 1 fold(s) fit" in result.output
    result = runner.invoke(app, [*base, "--cell-size", "20"])
    assert result.exit_code == 2
    assert "at least 50 m" in result.output


def test_geocode_writes_every_row_in_input_order(tmp_path, sample_files):
    out = tmp_path / "g.csv"
    result = runner.invoke(app, ["geocode", str(sample_files[0]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    raw = pd.read_csv(sample_files[0], dtype=str, keep_default_na=False)
    assert len(table) == len(raw) == 4_485
    assert list(table.columns[:12]) == list(raw.columns)
    assert (table["Location"] == raw["Location"]).all()
    added = ["status", "lsoa21cd", "lsoa21nm", "lsoa11cd", "ward_cd", "ward_nm", "lad_cd",
             "edge_distance_m", "longitude", "latitude"]
    assert added == list(table.columns[12:])
    counts = table["status"].value_counts()
    assert counts["no_location"] == 86
    gloucester = table[table["LSOA name"].str.startswith("Gloucester ")]
    assert (gloucester["status"] == "ok").mean() > 0.99
    agree = (gloucester["lsoa21cd"] == gloucester["LSOA code"]).mean()
    assert agree > 0.98


def test_geocode_local_log_by_postcode_and_grid(tmp_path):
    log = tmp_path / "asb.csv"
    log.write_text(
        "ref,date,type,postcode,easting,northing\n"
        "A1,2025-03-04,Begging,gl1 1ad,,\n"
        "A2,04/03/2025,ASB,,383846,218105\n"
        "A3,2025-03-05,ASB,ZZ9 9ZZ,,\n"
    )
    out = tmp_path / "g.csv"
    result = runner.invoke(app, ["geocode", str(log), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table["ref"]) == ["A1", "A2", "A3"]
    assert list(table["status"]) == ["ok", "ok", "unknown_postcode"]
    assert table.loc[0, "lsoa21cd"] == "E01032937"  # GL1 1AD (Code-Point derived LSOA)
    assert table.loc[1, "ward_nm"] == "Barton and Tredworth"
