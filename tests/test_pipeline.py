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


def test_ingest_gives_ambiguous_map_points_their_earlier_police_uk_lsoa(
    settings, pack, sample_files, tmp_path
):
    """The store's ingest uses the map-point memory: month by month or at once, the same."""
    first, second = sample_files[:2]  # 2025-01, 2025-02
    one = open_store(settings.model_copy(update={"store_dir": tmp_path / "one"}), pack.name)
    ingest_files(one, pack, [first])
    ingest_files(one, pack, [second])  # learns from the stored 2025-01
    both = open_store(settings.model_copy(update={"store_dir": tmp_path / "both"}), pack.name)
    ingest_files(both, pack, [first, second])  # learns from the call's earlier month
    a, b = one.incidents(), both.incidents()
    assert a["lsoa21cd"].equals(b["lsoa21cd"]) and a["lsoa_rule"].equals(b["lsoa_rule"])
    ok = a[a["status"] == "ok"]
    rule = ok.groupby(ok["month"].dt.month)["lsoa_rule"].value_counts().unstack(fill_value=0)
    assert rule.loc[1, "map_point"] == 0
    feb = ok[ok["month"] == "2025-02-01"]
    agree = (feb["lsoa21cd"] == feb["source_lsoa"]).mean()
    # polygons alone: 1,318 of 1,345 (98.0%) of 2025-02's Gloucester rows; now 1,334 (99.2%)
    assert len(feb) == 1_345 and (feb["lsoa21cd"] == feb["source_lsoa"]).sum() == 1_334
    assert rule.loc[2, "map_point"] == 99 and agree > 0.99
    recalled = feb[feb["lsoa_rule"] == "map_point"]
    assert (recalled["lsoa21cd"] == recalled["source_lsoa"]).mean() > 0.99
