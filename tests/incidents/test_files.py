"""Whole files: unreadable content fails the call; folders, progress, CSV quoting."""

from __future__ import annotations

import csv
import io

import pytest

from geo_ssgp.incidents import IngestError, read_incidents
from geo_ssgp.incidents.files import csv_header, read_bytes


def test_binary_file(tmp_path):
    f = tmp_path / "photo.csv"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(IngestError, match=r"^photo.csv: binary content \(NUL bytes\)"):
        read_incidents(f)


def test_not_utf8(tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes("date,type,postcode\n2025-01-02,ASB,GL1 1AD £\n".encode("latin-1"))
    with pytest.raises(IngestError, match=r"^latin.csv: not UTF-8 text \(byte 0xa3 at offset 42\)"):
        read_incidents(f)


def test_semicolon_delimited(ingest_fixtures):
    with pytest.raises(
        IngestError, match=r"^semicolon.csv: looks semicolon-separated \(';'\); expected comma"
    ):
        read_incidents(ingest_fixtures / "semicolon.csv")


def test_tab_delimited(tmp_path, write):
    f = write(tmp_path / "tabs.csv", "date\ttype\tlon\tlat\n2025-01-02\tASB\t-2.2\t51.8\n")
    with pytest.raises(IngestError, match=r"^tabs.csv: looks tab-separated"):
        read_incidents(f)


def test_broken_json(ingest_fixtures):
    with pytest.raises(IngestError, match=r"^broken.json: invalid JSON: .* at line \d+ column \d+"):
        read_incidents(ingest_fixtures / "broken.json")


def test_empty_and_missing_files(tmp_path, write):
    with pytest.raises(IngestError, match="empty.csv: file is empty"):
        read_incidents(write(tmp_path / "empty.csv", "\n"))
    with pytest.raises(IngestError, match="nowhere.csv: file not found"):
        read_incidents(tmp_path / "nowhere.csv")


def test_one_bad_file_fails_the_call(sample_files, tmp_path, ingest_fixtures):
    calls = []
    with pytest.raises(IngestError, match="^semicolon.csv"):
        read_incidents([sample_files[0], ingest_fixtures / "semicolon.csv"], progress=calls.append)
    assert calls == [1]


def test_progress_and_folders(tmp_path, write):
    for i in range(3):
        write(tmp_path / f"m{i}.csv", f"date,type,lon,lat\n2025-0{i + 1}-02,ASB,-2.2,51.8\n")
    write(tmp_path / "notes.txt", "ignored")
    calls = []
    res = read_incidents(tmp_path, progress=calls.append)
    assert calls == [1, 1, 1]
    assert [f["name"] for f in res.files] == ["m0.csv", "m1.csv", "m2.csv"]


def test_csv_quoting_bom_crlf_and_duplicate_headers(tmp_path):
    f = tmp_path / "quoted.csv"
    f.write_bytes(
        b"\xef\xbb\xbfid,date,type,lon,lat,location,location\r\n"
        b'Q1,2025-01-02,ASB,-2.2437,51.8651,"Kings Square, Gloucester","second"\r\n'
        b'Q2,2025-01-02, asb ,-2.2437,51.8651,"Line one\r\nline two",x\r\n'
        b"\r\n"
    )
    res = read_incidents(f)
    inc = res.incidents
    assert inc["incident_id"].tolist() == ["Q1", "Q2"]
    assert inc["location_text"].tolist() == ["Kings Square, Gloucester", "Line one\r\nline two"]
    assert inc["crime_type"].tolist() == ["Anti-social behaviour"] * 2


def test_ragged_csv(tmp_path, write):
    f = write(tmp_path / "ragged.csv", "date,type,lon,lat\n2025-01-02,ASB,-2.2,51.8,extra\n")
    with pytest.raises(IngestError, match=r"^ragged.csv: not a readable CSV: .*columns"):
        read_incidents(f)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_read_with_a_bom_and_named_without_one(tmp_path, encoding):
    text = "date,type,lon,lat\n2025-03,ASB,-2.2437,51.8651\n"
    path = tmp_path / "unicode.csv"
    if encoding == "utf-16":  # Python writes a byte-order mark
        path.write_bytes(text.encode(encoding))
        res = read_incidents(path)
        assert len(res.incidents) == 1 and res.incidents["crime_type"].iloc[0] == (
            "Anti-social behaviour")
    else:
        path.write_bytes(text.encode(encoding))
        with pytest.raises(IngestError, match="looks like UTF-16 text without a byte-order mark"):
            read_incidents(path)


def test_xlsx_formula_cells_without_saved_values_are_refused(tmp_path):
    """openpyxl writes formulas without results; read for values they would be blank, so
    the workbook is refused with the cell named, and nothing is read."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["ref", "date", "type", "lon", "lat"])
    sheet.append(["F1", "2025-08-03", "ASB", -2.22124, 51.88177])
    sheet.append(["F2", "2025-08-04", "ASB", "=-2.2+0.01", 51.88177])
    book.save(tmp_path / "formula.xlsx")
    with pytest.raises(IngestError, match=r"formula.xlsx: cell D3 holds a formula \(=-2.2\+0.01\) "
                       "with no saved value; open and save the workbook in Excel"):
        read_incidents(tmp_path / "formula.xlsx")


def test_csv_header_reads_a_lone_carriage_return_as_a_line_end():
    """Found by the schemathesis run: ``0\\r0`` made the csv module raise (a 500)."""
    assert csv_header("f.csv", "a,b\r1,2\r") == ["a", "b"]
    assert csv_header("f.csv", "0\r0") == ["0"]
    with pytest.raises(IngestError, match="not a readable CSV header"):
        csv_header("f.csv", "a," + "x" * 200_000)  # over the csv module's field limit


@pytest.mark.parametrize(
    "text",
    [
        "a," * 40_000 + "b\n1\n",  # a header line longer than the first part read
        "x" * 65_530 + ',"two\nlines",c\r\n1,2,3\n',  # a quoted line end across the cut
        "a,b\r" + "1,2\r" * 40_000,  # lone carriage returns, a long body
    ],
)
def test_csv_header_reads_the_start_only_and_equals_the_whole_parse(text):
    """The header is found from the first part of the text (not a split of the whole file),
    with the same fields as the csv module reading the whole text."""
    expected = next(csv.reader(io.StringIO(text, newline=None)))
    assert csv_header("f.csv", text) == [h.strip() for h in expected]


def test_only_white_space_is_an_empty_file(tmp_path):
    """Blank means the white space ``bytes.strip`` removes; one character more is content."""
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b" \t\r\n\x0b\x0c\n")
    with pytest.raises(IngestError, match="blank.csv: file is empty"):
        read_bytes(blank)
    blank.write_bytes(b"\n\nx\n")
    assert read_bytes(blank) == b"\n\nx\n"
