"""The CLI contract on the real sample: ingest, geocode, agreement, areas, hotspots, evaluate."""

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from geo_ssgp.cli import app
from geo_ssgp.config import get_settings
from geo_ssgp.errors import BadInput
from geo_ssgp.store import open_store

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
    # police.uk's Gloucestershire files: 14,333 of the 43,590 are inside Gloucester
    assert "accepted but outside the area: 29,257" in ingested


def test_reingest_is_idempotent(ingested, store_dir, sample_files):
    result = runner.invoke(app, ["ingest", str(sample_files[0]), "--store", str(store_dir)])
    assert result.exit_code == 0
    assert "in 0 = accepted 0" not in result.output
    assert "nothing new: 1 file(s) already stored, skipped" in result.output
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
    assert "lsoa21 agreement (polygons): 14,117 of 14,331 = 98.51%" in result.output
    # the map-point memory: each month learns from earlier months only
    assert "lsoa21 agreement (with map points): 14,285 of 14,331 = 99.68%" in result.output


def test_agreement_command_per_district_on_the_county_pack():
    result = runner.invoke(app, ["agreement", "--pack", "gloucestershire"])
    assert result.exit_code == 0, result.output
    assert "(polygons): 42,181 of 43,394 = 97.20%" in result.output
    assert "(with map points): 43,108 of 43,394 = 99.34%" in result.output
    cheltenham = next(line for line in result.output.splitlines() if "Cheltenham" in line)
    assert "94.08%" in cheltenham and "98.83%" in cheltenham


def test_areas_command(ingested, store_dir, tmp_path):
    out = tmp_path / "lsoa.csv"
    args = [
        "areas",
        "--from",
        "2025-01",
        "--to",
        "2025-09",
        "--out",
        str(out),
        "--store",
        str(store_dir),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 82
    assert table["count"].sum() == 14_333
    assert "132,407" in result.output and "645,095" in result.output
    asb = tmp_path / "ward_asb.csv"
    args = [
        "areas",
        "--level",
        "ward",
        "--crime-type",
        "Anti-social behaviour",
        "--out",
        str(asb),
        "--store",
        str(store_dir),
    ]
    assert runner.invoke(app, args).exit_code == 0
    wards = pd.read_csv(asb)
    assert len(wards) == 18
    assert wards["count"].sum() == 2_727


def test_hotspots_command_from_files(tmp_path, sample_files):
    out = tmp_path / "h.geojson"
    glob = str(sample_files[0].parent / "2025-0[1-3]-*.csv")
    args = [
        "hotspots",
        "--method",
        "kde",
        "--incidents",
        glob,
        "--bandwidth",
        "200",
        "--out",
        str(out),
    ]
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
    args = [
        "hotspots",
        "--method",
        "magic",
        "--out",
        str(tmp_path / "x.geojson"),
        "--store",
        str(store_dir),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "unknown hotspot method" in result.output


def test_evaluate_json(ingested, store_dir):
    args = [
        "evaluate",
        "--train-from",
        "2025-01",
        "--train-to",
        "2025-06",
        "--test-from",
        "2025-07",
        "--test-to",
        "2025-09",
        "--methods",
        "default,kde",
        "--json",
        "--store",
        str(store_dir),
    ]


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


@pytest.mark.slow
def test_evaluate_json_on_an_empty_store_keeps_stdout_json(tmp_path):
    # the sample is loaded first; that note and its balance go to stderr
    args = ["evaluate", "--train-from", "2025-01", "--train-to", "2025-06",
            "--test-from", "2025-07", "--test-to", "2025-09", "--methods", "default",
            "--cell-size", "50", "--json", "--store", str(tmp_path / "empty")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "The store is empty: loading the pack's sample incidents." in result.stderr
    assert "in 44,665 = accepted 43,590" in result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"default", "naive-previous"}
    assert report["default"]["coverage"]["0.01"]["pai"] > 50


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
    added = [
        "status",
        "lsoa21cd",
        "lsoa21nm",
        "lsoa11cd",
        "ward_cd",
        "ward_nm",
        "lad_cd",
        "edge_distance_m",
        "longitude",
        "latitude",
    ]
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


def test_ingest_public_marks_a_local_log_public(tmp_path):
    log = tmp_path / "shared.csv"
    log.write_text("ref,date,type,lon,lat\nA1,2025-03-04,Begging,-2.2437,51.8651\n")
    private = tmp_path / "private.csv"
    private.write_text("ref,date,type,lon,lat\nB1,2025-04-05,Begging,-2.2450,51.8655\n")
    store = ["--store", str(tmp_path / "store")]
    result = runner.invoke(app, ["ingest", str(log), "--public", *store])
    assert result.exit_code == 0, result.output
    assert "shared.csv: public (every role sees it)" in result.output
    result = runner.invoke(app, ["ingest", str(private), *store])
    assert "private.csv: restricted to analysts (--public shares it)" in result.output
    listed = runner.invoke(app, ["datasets", "list", *store]).output
    assert "shared.csv  local (public)" in listed and "private.csv  local (restricted)" in listed
    stored = open_store(get_settings(store_dir=tmp_path / "store"), "gloucester").incidents()
    assert dict(zip(stored["incident_id"], stored["restricted"], strict=True)) == {
        "A1": False, "B1": True,
    }  # fmt: skip


def test_ingest_and_publish_on_the_postgis_store(postgis_url, sample_files, tmp_path):
    import psycopg

    store = ["--store", postgis_url, "--pack", "gloucester"]
    result = runner.invoke(app, ["ingest", str(sample_files[0]), *store])
    assert result.exit_code == 0, result.output
    out = tmp_path / "grid.geojson"
    args = [
        "hotspots",
        "--out",
        str(out),
        "--method",
        "grid-count",
        "--publish",
        "grid-jan",
        *store,
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "published as gloucester.layer_grid_jan" in result.output
    n_features = len(json.loads(out.read_text())["features"])
    with psycopg.connect(postgis_url) as con:
        rows = con.execute("SELECT count(*) FROM gloucester.layer_grid_jan").fetchone()[0]
        stored = con.execute("SELECT count(*) FROM gloucester.datasets").fetchone()[0]
    assert rows == n_features > 0 and stored == 1


def test_publish_needs_the_postgis_store(ingested, store_dir, tmp_path):
    args = [
        "hotspots",
        "--out",
        str(tmp_path / "h.geojson"),
        "--publish",
        "x",
        "--store",
        str(store_dir),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--publish needs the PostGIS store" in result.output


def test_datasets_list_and_remove(ingested, store_dir, tmp_path):
    listed = runner.invoke(app, ["datasets", "list", "--store", str(store_dir)])
    assert listed.exit_code == 0 and "dataset(s)" in listed.output
    first = listed.output.split()[0]
    copy = tmp_path / "copy"
    shutil.copytree(store_dir, copy)
    removed = runner.invoke(app, ["datasets", "remove", first, "--store", str(copy)])
    assert removed.exit_code == 0 and f"removed dataset {first}" in removed.output
    again = runner.invoke(app, ["datasets", "remove", first, "--store", str(copy)])
    assert again.exit_code == 2 and f"no dataset {first}" in again.output
    huge = runner.invoke(app, ["datasets", "remove", str(2**63), "--store", str(copy)])
    assert huge.exit_code == 2 and "no dataset" in huge.output


def test_serve_refuses_to_start_without_tokens_outside_development_mode(monkeypatch, tmp_path):
    monkeypatch.delenv("GEO_SSGP_DEV", raising=False)
    monkeypatch.delenv("GEO_SSGP_TOKENS", raising=False)
    result = runner.invoke(app, ["serve", "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "no access tokens configured" in result.output and "--dev" in result.output


def test_geocode_output_is_spreadsheet_safe_and_keeps_column_names(tmp_path):
    src = tmp_path / "log.csv"
    src.write_text(
        "ref,date,type,longitude,latitude,location\n"
        'F1,2025-08-03,ASB,-2.22124,51.88177,"=HYPERLINK(""http://x"",""y"")"\n'
        "F2,2025-08-04,ASB,-2.22124,51.88177,@SUM(1+1)\n"
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["geocode", str(src), "--out", str(out), "--source", "local"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str)
    assert list(table.columns[:6]) == ["ref", "date", "type", "longitude", "latitude", "location"]
    assert "longitude_x" not in table.columns and "longitude_geocoded" in table.columns
    assert list(table["location"]) == ['\'=HYPERLINK("http://x","y")', "'@SUM(1+1)"]
    assert list(table["longitude"]) == ["-2.22124", "-2.22124"]


def test_streets_prints_concentration_and_writes_segments(ingested, store_dir, tmp_path):
    out = tmp_path / "segments.geojson"
    args = ["streets", "--crime-type", "ASB", "--by", "ward", "--out", str(out)]
    result = runner.invoke(app, [*args, "--store", str(store_dir)])
    assert result.exit_code == 0, result.output
    assert "Incidents on street segments" in result.output
    assert "© OpenStreetMap contributors" in result.output
    body = json.loads(out.read_text())
    assert body["parameters"]["filters"]["crime_types"] == ["Anti-social behaviour"]
    assert all(f["properties"]["n_incidents"] >= 1 for f in body["features"])
    bad = runner.invoke(app, ["streets", "--by", "street", "--store", str(store_dir)])
    assert bad.exit_code == 2 and "--by 'street'" in bad.output


RADIUS = "incidents/police-uk-api-radius/gloucester_crime_data_api-radius_2023-01_to_2025-09.csv"


@pytest.mark.slow
def test_emerging_command_on_the_33_month_radius_file(tmp_path, settings):
    """Central Gloucester, 33 months, 100 m cells: the city centre holds the patterns."""
    out, cube = tmp_path / "emerging.geojson", tmp_path / "cube.csv"
    args = ["emerging", "--incidents", str(settings.data_dir / RADIUS), "--out", str(out)]
    result = runner.invoke(app, [*args, "--cube", str(cube), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert len(summary["steps"]) == 33 and summary["warnings"] == []
    counts = summary["category_counts"]
    assert counts["no pattern"] > 0.9 * sum(counts.values())
    assert counts.get("persistent hot spot", 0) >= 1
    doc = json.loads(out.read_text())
    feature = doc["features"][0]["properties"]
    assert len(feature["counts"]) == 33 and len(feature["z"]) == 33
    patterned = [
        f["properties"] for f in doc["features"] if f["properties"]["category"] != "no pattern"
    ]
    assert all("city centre" in p["label"] or "Westgate" in p["label"] for p in patterned)
    table = pd.read_csv(cube)
    assert table["count"].sum() == 28883 and table["step"].nunique() == 33


def test_emerging_command_rejects_a_week_step_for_police_uk(tmp_path, sample_files):
    args = ["emerging", "--incidents", str(sample_files[0]), "--out", str(tmp_path / "e.json")]
    result = runner.invoke(app, [*args, "--step", "week"])
    assert result.exit_code == 2
    assert "police.uk publishes the month only" in result.output


@pytest.mark.slow
def test_change_command_json(tmp_path, sample_files):
    out = tmp_path / "change.geojson"
    args = ["change", "--before", "2025-01:2025-06", "--after", "2025-07:2025-09"]
    files = [a for f in sample_files for a in ("--incidents", str(f))]
    result = runner.invoke(app, [*args, *files, "--unit", "lsoa", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["parameters"]["months"] == {"before": 6, "after": 3}
    assert "compared per month" in summary["parameters"]["note"]
    doc = json.loads(out.read_text())
    assert sum(summary["class_counts"].values()) == len(doc["features"])
    props = doc["features"][0]["properties"]
    assert {"before", "after", "p_value", "p_adjusted", "change_class"} <= set(props)


def test_change_command_rejects_a_bad_period(tmp_path):
    args = ["change", "--before", "2025-13:2025-06", "--after", "2025-07:2025-09"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "c.json")])
    assert result.exit_code == 2 and "not a month" in result.output


# ------------------------------------------------------------------------------------------
# Mistakes: one line naming the problem and the fix, exit code 2, no traceback
# ------------------------------------------------------------------------------------------

TRAIN = ["--train-from", "2025-01", "--train-to", "2025-06"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["areas", "--from", "2025-13"], "'2025-13' is not a month; use YYYY-MM"),
        (["areas", "--from", "2025-09", "--to", "2025-01"], "'from' (2025-09) is after 'to'"),
        (["areas", "--level", "lsoa"], "--level 'lsoa': use one of lsoa21, lsoa11, ward"),
        (["areas", "--out", "{tmp}/missing/x.csv"], "does not exist; create it (mkdir -p"),
        (["areas", "--from", "2030-01", "--to", "2030-02"],
         "no incidents from 2030-01 to 2030-02 (the data holds 2025-01 to 2025-09)"),
        (["areas", "--crime-type", "burglaries"], "unknown crime type"),
        (["evaluate", "--train-from", "2025-13", "--train-to", "2025-06",
          "--test-from", "2025-07", "--test-to", "2025-09"], "'2025-13' is not a month"),
        (["evaluate", *TRAIN, "--test-from", "2025-09", "--test-to", "2025-07"],
         "'from' (2025-09) is after 'to' (2025-07)"),
        (["evaluate", *TRAIN, "--test-from", "2025-07", "--test-to", "2025-09",
          "--coverage", "5"], "give shares between 0 and 1"),
        (["hotspots", "--method", "magic"], "unknown hotspot method"),
        (["hotspots", "--out", "{tmp}/no/h.geojson"], "does not exist"),
        (["geocode", "{tmp}/log.csv", "--out", "{tmp}/g.csv", "--columns", "lon"],
         "expected key=Column"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(map(str, v))[:40],
)
def test_user_errors_are_one_line_with_exit_2(args, message, tmp_path, ingested, store_dir):
    (tmp_path / "log.csv").write_text("a,b\n1,2\n")
    args = [a.format(tmp=tmp_path) for a in args]
    if "--out" not in args and args[0] in ("areas", "hotspots"):
        args += ["--out", str(tmp_path / "out.csv")]
    if args[0] != "geocode":
        args += ["--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_missing_option_is_one_line(ingested, store_dir):
    result = runner.invoke(app, ["areas", "--store", str(store_dir)])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: Missing option '--out'.") and line.endswith("areas --help)")


def test_debug_shows_the_error_itself(ingested, store_dir, tmp_path):
    args = ["--debug", "areas", "--level", "lsoa", "--out", str(tmp_path / "a.csv"),
            "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, BadInput)


def test_empty_period_needs_allow_empty(ingested, store_dir, tmp_path):
    out = tmp_path / "empty.csv"
    args = ["areas", "--from", "2030-01", "--to", "2030-02", "--out", str(out),
            "--store", str(store_dir)]
    assert runner.invoke(app, args).exit_code == 2 and not out.exists()
    result = runner.invoke(app, [*args, "--allow-empty"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["count"].sum() == 0


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("geo-ssgp ")


def test_group_names_any_case_and_readable_district_summary(ingested, store_dir, tmp_path):
    args = ["areas", "--crime-type", "ASB", "--out", str(tmp_path / "a.csv"),
            "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "a.csv")["count"].sum() == 2_727
    assert "Residents (Census 2021)" in result.output and "Gloucestershire" in result.output
    assert "crime_per_1000" not in result.output and "…" not in result.output
    assert max(map(len, result.output.splitlines())) <= 80


def test_hotspots_table_has_headers(ingested, store_dir, tmp_path):
    args = ["hotspots", "--from", "2025-07", "--to", "2025-09", "--out",
            str(tmp_path / "h.geojson"), "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Rank" in result.output and "Incidents" in result.output and "Where" in result.output
    assert max(map(len, result.output.splitlines())) <= 80


def test_evaluate_table_fits_80_columns(ingested, store_dir):
    args = ["evaluate", *TRAIN, "--test-from", "2025-07", "--test-to", "2025-09",
            "--methods", "default,kde", "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(map(len, lines)) <= 80 and "…" not in result.output
    assert "PAI" in result.output and "hit rate" in result.output
    pai = [line for line in lines if line.startswith("│ default") and "0.0100" in line]
    assert len(pai) == 1


def test_geocode_uses_the_column_mapping(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "Ref,When,What,X,Y,Where\n"
        "A1,2025-08-03,Begging,-2.2437,51.8651,Northgate St\n"
        "A2,2025-08-04,Street drinking,-2.2450,51.8655,Eastgate St\n"
    )
    out = tmp_path / "g.csv"
    mapping = "lon=X,lat=Y,date=When,type=What,location=Where,id=Ref"
    result = runner.invoke(app, ["geocode", str(log), "--out", str(out), "--columns", mapping])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str)
    assert list(table["Ref"]) == ["A1", "A2"]
    assert list(table["status"]) == ["ok", "ok"]
    assert set(table["ward_nm"]) == {"Westgate"}


@pytest.mark.slow
def test_evaluate_on_street_segments(ingested, store_dir):
    args = ["evaluate", "--train-from", "2025-01", "--train-to", "2025-06",
            "--test-from", "2025-07", "--test-to", "2025-07", "--methods",
            "default,street-segments", "--coverage", "0.01", "--unit", "street",
            "--json", "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"default", "street-segments", "naive-previous"}
    one = {name: entry["coverage"]["0.01"] for name, entry in report.items()}
    # 1% of the street length: the segments busiest per km last half-year hold ~half
    assert one["street-segments"]["pai"] == pytest.approx(one["naive-previous"]["pai"])
    assert one["street-segments"]["pai"] > 40 > one["default"]["pai"] > 15
    assert all(m["area_share"] <= 0.01 + 1e-9 for m in one.values())
    result = runner.invoke(app, [*args[:-3], "--unit", "lsoa", "--store", str(store_dir)])
    assert result.exit_code == 2 and "unit must be one of" in result.output


NIGHT_LOG = (
    "ref,date,time,type,lon,lat\n"
    "N1,2025-08-01,22:30,ASB,-2.22124,51.88177\n"  # Friday night
    "N2,2025-08-02,01:30,ASB,-2.22124,51.88177\n"  # still Friday night
    "N3,2025-08-02,23:10,Burglary,-2.22124,51.88177\n"  # Saturday night
    "N4,2025-08-04,14:00,ASB,-2.22124,51.88177\n"  # Monday afternoon: out
    "N5,2025-08-01,,ASB,-2.22124,51.88177\n"  # no time: out
)


def test_night_option_on_timeofday_and_streets(tmp_path):
    log = tmp_path / "night.csv"
    log.write_text(NIGHT_LOG)
    grid_csv = tmp_path / "grid.csv"
    args = ["timeofday", "--night", "--incidents", str(log), "--out", str(grid_csv)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "1 incidents have no time" in text
    assert "night-time economy (Fri/Sat nights 20:00-04:00): 3 of 4" in text
    grid = pd.read_csv(grid_csv, index_col="day")
    assert int(grid.to_numpy().sum()) == 3 and grid.loc["Fri", "22"] == 1
    out = tmp_path / "segments.geojson"
    args = ["streets", "--night", "--crime-type", "asb", "--incidents", str(log), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Fri/Sat nights 20:00-04:00: 2 records" in text  # ASB only
    assert "1 records without a time are left out" in text
    segments = json.loads(out.read_text())["features"]
    assert sum(f["properties"]["n_incidents"] for f in segments) == 2


def test_trend_command_for_a_ward_and_an_lsoa(ingested, store_dir):
    args = ["trend", "--ward", "Westgate", "--crime-type", "violence", "--store", str(store_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert text.startswith("Westgate: Possession of weapons, Robbery, Violence and sexual")
    assert "Mann-Kendall p =" in text and "fewer than 10 months" in text
    assert "no knife-crime flag" in text  # the violence group is the knife-crime proxy
    months = [line.split() for line in result.output.splitlines() if line.startswith("  2025-")]
    assert [m for m, _ in months] == [f"2025-{i:02d}" for i in range(1, 10)]
    args = ["trend", "--lsoa", "E01022313", "--store", str(store_dir)]
    lsoa = runner.invoke(app, args)
    assert lsoa.exit_code == 0, lsoa.output
    both = runner.invoke(app, [*args, "--ward", "Westgate"])
    assert both.exit_code == 2 and "at most one of" in both.output


STREET_AWARE = (
    "ref,date,type,lon,lat,location\n"
    "S1,2025-08-01 21:40,Begging,-2.2437,51.8651,Northgate Street\n"  # Fri
    "S2,2025-08-02 23:05,Street drinking,-2.2450,51.8655,Eastgate Street\n"  # Sat
    "S3,2025-08-04 10:00,begging,-2.2440,51.8652,Northgate Street\n"  # Mon
    "S4,2025-08-05 11:00,Street Drinking,-2.2451,51.8656,Eastgate Street\n"  # Tue
    "S5,2025-08-06 12:00,Street drinking,-2.2452,51.8654,Eastgate Street\n"  # Wed
)


def test_subcategory_option_selects_a_local_log_s_own_categories(tmp_path):
    log = tmp_path / "street_aware.csv"
    log.write_text(STREET_AWARE)
    totals = {}
    for name in ("BEGGING", "street drinking"):
        out = tmp_path / f"{name}.csv"
        args = ["timeofday", "--incidents", str(log), "--subcategory", name, "--out", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        totals[name] = int(pd.read_csv(out, index_col=0).to_numpy().sum())
    assert totals == {"BEGGING": 2, "street drinking": 3}
    args = ["hotspots", "--incidents", str(log), "--subcategory", "Loitering"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "h.geojson")])
    assert result.exit_code == 2
    assert "with subcategory Loitering" in result.output


# --engine dask for neighbour-needing layers: districts in parallel, each with its halo ----


@pytest.fixture(scope="module")
def cluster():
    """A small LocalCluster (2 worker processes) the commands reach with --scheduler."""
    from geo_ssgp.dask_engine import dask_client

    with dask_client(workers=2) as client:
        yield client.scheduler.address


def _county(sample_files) -> list[str]:
    files = [a for f in sample_files for a in ("--incidents", str(f))]
    return ["--pack", "gloucestershire", *files]


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, options",
    [
        ("gistar", ["--cell-size", "400"]),
        ("KDE", ["--cell-size", "200", "--bandwidth", "800", "--crime-type", "violence"]),
    ],
)
def test_hotspots_engine_dask_writes_the_in_process_geojson(
    tmp_path, sample_files, cluster, same_geojson, method, options
):
    """Six Gloucestershire districts, each with its halo, in parallel: the same layer."""
    args = ["hotspots", "--method", method, *options, *_county(sample_files)]
    plain, halo = tmp_path / "plain.geojson", tmp_path / "halo.geojson"
    result = runner.invoke(app, [*args, "--out", str(plain)])
    assert result.exit_code == 0, result.output
    dask_result = runner.invoke(
        app, [*args, "--out", str(halo), "--engine", "dask", "--scheduler", cluster]
    )
    assert dask_result.exit_code == 0, dask_result.output
    same_geojson(json.loads(halo.read_text()), json.loads(plain.read_text()))
    assert len(json.loads(plain.read_text())["features"]) > 10
    top = result.output.index("Top hotspots")  # the path above may wrap at the console width
    assert dask_result.output[dask_result.output.index("Top hotspots"):] == result.output[top:]


@pytest.mark.slow
def test_emerging_engine_dask_gives_the_same_places_and_categories(
    tmp_path, sample_files, cluster, same_geojson
):
    args = ["emerging", "--cell-size", "500", *_county(sample_files)]
    plain, halo = tmp_path / "plain.geojson", tmp_path / "halo.geojson"
    assert runner.invoke(app, [*args, "--out", str(plain)]).exit_code == 0
    result = runner.invoke(app, [*args, "--out", str(halo), "--engine", "dask", "--workers", "2"])
    assert result.exit_code == 0, result.output
    doc = json.loads(halo.read_text())
    same_geojson(doc, json.loads(plain.read_text()))
    assert sum(n for k, n in doc["category_counts"].items() if k != "no pattern") > 5


def test_hotspots_engine_dask_refuses_methods_without_a_halo_rule(tmp_path, sample_files):
    args = ["hotspots", "--method", "grid-count", "--incidents", str(sample_files[0]),
            "--out", str(tmp_path / "h.geojson"), "--engine", "dask", "--workers", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "'grid-count' does not run per district on a Dask cluster (only kde, gistar" in (
        result.output
    )
