"""IngestResult: empty results, concatenation and the balance guard."""

from __future__ import annotations

import pytest

from geo_ssgp.incidents import IngestResult, concat_results, read_incidents
from geo_ssgp.schema import INCIDENT_COLUMNS, QUARANTINE_COLUMNS


def test_header_only_and_empty_results(tmp_path, write):
    res = read_incidents(write(tmp_path / "h.csv", "date,type,lon,lat\n"))
    assert res.balance() == {
        "in": 0, "accepted": 0, "quarantined": 0,
        "duplicates": 0, "by_reason": {},
    }
    assert list(res.incidents.columns) == INCIDENT_COLUMNS
    empty = read_incidents([])
    assert empty.n_in == 0 and list(empty.incidents.columns) == INCIDENT_COLUMNS
    assert list(empty.quarantine.columns) == QUARANTINE_COLUMNS
    assert concat_results([]).n_in == 0


def test_concat_and_balance_guard(local, api):
    both = concat_results([local, api])
    assert both.balance() == {
        "in": 17 + 4698,
        "accepted": 5 + 4698,
        "quarantined": 12,
        "duplicates": 0,
        "by_reason": local.balance()["by_reason"],
    }
    assert [f["name"] for f in both.files][:2] == ["local_log.csv", "AA3_all_crime_2020-09.json"]
    assert both.incidents.crs.to_epsg() == 27700
    broken = IngestResult(local.incidents, local.quarantine, n_in=18, files=local.files)
    with pytest.raises(AssertionError, match="balance"):
        broken.balance()
