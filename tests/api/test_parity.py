"""The CLI and the API resolve crime types, months and methods with the same rules."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from geo_ssgp.cli import app as cli_app

ANALYST = {"Authorization": "Bearer dev-analyst"}
runner = CliRunner()


def _cli_layer(tmp_path, sample_files, *options: str) -> dict:
    out = tmp_path / "layer.geojson"
    args = ["hotspots", "--out", str(out), "--from", "2025-07", "--to", "2025-09", *options]
    for f in sample_files:
        args += ["--incidents", str(f)]
    result = runner.invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def _api_layer(client, query: str) -> dict:
    r = client.get(f"/api/hotspots?from=2025-07&to=2025-09&{query}", headers=ANALYST)
    assert r.status_code == 200, r.text
    return r.json()


def _summary(doc: dict) -> tuple:
    props = [f["properties"] for f in doc["features"]]
    return (
        doc["method"],
        doc["parameters"]["filters"]["crime_types"],
        doc["parameters"]["n_incidents"],
        [(p["rank"], p["n_incidents"]) for p in props[:10]],
    )


@pytest.mark.parametrize(
    ("cli_options", "api_query", "method"),
    [
        (["--crime-type", "ASB"], "crime_type=asb&method=default", "grid-count"),
        (["--crime-type", "asb", "--method", "default"], "crime_type=ASB", "grid-count"),
        (["--crime-type", "Violence", "--method", "KDE"], "crime_type=violence&method=kde", "kde"),
    ],
)
def test_cli_and_api_give_the_same_layer(
    client, tmp_path, sample_files, cli_options, api_query, method
):
    cli = _summary(_cli_layer(tmp_path, sample_files, *cli_options))
    api = _summary(_api_layer(client, api_query))
    assert cli == api
    assert cli[0] == method
    assert cli[2] > 100


@pytest.mark.parametrize(
    ("cli_options", "api_query", "message"),
    [
        (["--crime-type", "juggling"], "crime_type=juggling", "unknown crime type 'juggling'"),
        (["--method", "magic"], "method=magic", "unknown hotspot method 'magic'"),
        (["--from", "2025-13"], "from=2025-13", "'2025-13' is not a month"),
    ],
)
def test_cli_and_api_refuse_the_same_input_with_the_same_message(
    client, tmp_path, cli_options, api_query, message
):
    result = runner.invoke(
        cli_app, ["hotspots", "--out", str(tmp_path / "x.geojson"), *cli_options]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    r = client.get(f"/api/hotspots?{api_query}", headers=ANALYST)
    assert r.status_code == 422 and message in r.text
