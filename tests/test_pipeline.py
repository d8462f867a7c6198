"""Pipeline: the street CSVs and the police.uk radius export in one store count once."""

from __future__ import annotations

import pytest

from geo_ssgp.pipeline import analysed_incidents, ingest_files
from geo_ssgp.store import open_store


@pytest.mark.slow
def test_street_csvs_and_radius_export_count_each_incident_once(
    settings, pack, sample_files, tmp_path
):
    radius = sorted((pack.data_dir / "incidents" / "police-uk-api-radius").glob("*.csv"))
    assert len(radius) == 1
    store = open_store(settings.model_copy(update={"store_dir": tmp_path}), pack.name)
    summary = ingest_files(store, pack, [*radius, *sample_files])
    assert summary["in"] == summary["accepted"] + summary["quarantined"] + summary["duplicates"]
    by_name = {f["name"]: f for f in summary["files"]}
    export = by_name[radius[0].name]
    assert export["source"] == "police-uk-api"
    assert export["n_duplicates"] == summary["duplicates"] > 8_000
    assert set(export["duplicate_of"]) <= {f.name for f in sample_files}
    ok = analysed_incidents(store)
    months = ok[ok["month"] >= "2025-01-01"]
    # street CSVs alone: 14,333 incidents inside Gloucester in 2025-01..09
    assert 14_333 <= len(months) <= 14_333 * 1.01
    assert not store.incidents()["restricted"].any()  # public police.uk data, in any format
    again = ingest_files(store, pack, radius)  # stored already: skipped, nothing counted twice
    assert again["skipped"] == [radius[0].name] and len(analysed_incidents(store)) == len(ok)
