"""Spreadsheet-safe CSV (:mod:`geo_ssgp.tables`): formula cells neutralised, numbers kept."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_ssgp import focus
from geo_ssgp.tables import neutralise, to_csv

PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-1+2",
            "\tTAB", "\rCR"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_cells_are_prefixed_with_a_quote(payload):
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", ["-2.2437", "+44", "1e-3", "Westgate Street", 5, -3.5, None])
def test_numbers_and_plain_text_are_unchanged(value):
    assert neutralise(value) == value


def test_to_csv_neutralises_cells_and_headers_but_keeps_names():
    frame = pd.DataFrame({"location": ["=1+1", "ok"], "longitude": ["-2.1", "-2.2"], "=x": [1, 2]})
    text = to_csv(frame, lineterminator="\n")
    assert text.splitlines() == ["location,longitude,'=x", "'=1+1,-2.1,1", "ok,-2.2,2"]


def test_focus_export_csv_is_spreadsheet_safe():
    summary = {"lsoas": [{"code": "E01", "name": "=HYPERLINK(\"x\")", "ward_nm": "@w",
                          "share_in_selection": 1.0, "incidents": 3, "population": 10,
                          "rate_per_1000": 300.0, "imd_decile": 2}]}
    row = focus.export_csv(summary).splitlines()[1]
    assert row.startswith("E01,\"'=HYPERLINK(\"\"x\"\")\",'@w,")
