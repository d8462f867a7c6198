"""Incident files as bytes, text and tables, before any source format is applied.

This module owns file access and the checks that make a whole file unreadable: expanding
folders, reading bytes, sniffing Excel/JSON/CSV content, refusing binary and legacy ``.xls``
files, decoding UTF-8, parsing JSON, refusing CSV with another delimiter than a comma, and
reading CSV (with pyarrow) and ``.xlsx`` (with openpyxl) into tables of text. Every failure
is an :class:`~geo_ssgp.errors.IngestError` that names the file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from geo_ssgp.errors import IngestError
from geo_ssgp.incidents.staging import RowsOf

#: File name endings read when a folder is given.
FOLDER_SUFFIXES = frozenset({".csv", ".json", ".geojson", ".xlsx"})

_BOM = b"\xef\xbb\xbf"

#: Only white space (what ``bytes.strip`` removes), to find blank files without copying them.
_BLANK = re.compile(rb"\s*")

#: Characters of a text read to find its header line (doubled while the header is longer),
#: so that a header is found without splitting or copying the whole file.
_HEAD_CHARS = 1 << 16


def expand_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Turn a path, a folder or several of them into a list of files.

    Parameters
    ----------
    paths : path or iterable of paths
        A folder stands for its files ending in :data:`FOLDER_SUFFIXES`, in name order.

    Returns
    -------
    list of Path
    """
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    out: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            out.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in FOLDER_SUFFIXES))
        else:
            out.append(item)
    return out


def read_bytes(path: Path) -> bytes:
    """The file's bytes.

    Raises
    ------
    IngestError
        If the file is missing, unreadable or empty (white space only).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise IngestError(f"{path.name}: file not found ({path})") from exc
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc
    if _BLANK.fullmatch(data):
        raise IngestError(f"{path.name}: file is empty")
    return _utf16_to_utf8(path.name, data)


def _utf16_to_utf8(name: str, data: bytes) -> bytes:
    """UTF-8 bytes of a UTF-16 text file with a byte-order mark (Excel's "Unicode text")."""
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data
    try:
        return data.decode("utf-16").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{name}: starts like UTF-16 text but does not decode as it") from exc


def sniff(path: Path, data: bytes) -> str:
    """Classify a file's bytes as ``"excel"``, ``"json"`` or ``"csv"`` (text).

    Raises
    ------
    IngestError
        For a legacy ``.xls`` workbook or binary content.
    """
    if data.startswith(b"PK\x03\x04"):
        return "excel"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            f"{path.name}: legacy Excel .xls workbooks are not supported; save it as .xlsx or CSV"
        )
    if b"\x00" in data and max(data[0:40:2].count(0), data[1:40:2].count(0)) >= 15:
        raise IngestError(
            f"{path.name}: looks like UTF-16 text without a byte-order mark; "
            "save it as CSV UTF-8"
        )
    if b"\x00" in data:
        raise IngestError(
            f"{path.name}: binary content (NUL bytes); expected a CSV, JSON or .xlsx file"
        )
    head = data.lstrip(_BOM + b" \t\r\n")[:1]
    if path.suffix.lower() in {".json", ".geojson"} or head in (b"{", b"["):
        return "json"
    return "csv"


def decode(name: str, data: bytes) -> str:
    """UTF-8 text of a file (a byte-order mark is dropped).

    Raises
    ------
    IngestError
        Naming the first byte that is not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as CSV UTF-8"
        ) from exc


def parse_json(name: str, text: str) -> Any:
    """The JSON document in ``text``.

    Raises
    ------
    IngestError
        With the parser's message, line and column.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"{name}: invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc


def csv_header(name: str, text: str) -> list[str]:
    """Header fields of a comma-separated file, stripped.

    Raises
    ------
    IngestError
        If the first line has more semicolons, tabs or pipes than commas, or cannot be
        parsed as CSV. Lines may end in a line feed, CR LF or a lone carriage return (as
        pyarrow reads the body).
    """
    text = text.lstrip("\r\n")
    line = _first_line(text)
    commas = line.count(",")
    for delim, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
        if line.count(delim) > commas:
            raise IngestError(
                f"{name}: looks {label}-separated ({delim!r}); expected comma-separated CSV"
            )
    try:
        header = _first_record(text)
    except csv.Error as exc:
        raise IngestError(f"{name}: not a readable CSV header: {exc}") from exc
    return [h.strip() for h in header]


def _first_line(text: str) -> str:
    """The first line of ``text`` (``str.splitlines`` line ends), read from its start only."""
    size = _HEAD_CHARS
    while True:
        head = text[:size]
        first = head.splitlines()[0] if head else ""
        if size >= len(text) or len(first) < len(head):  # a line end follows in ``head``
            return first
        size *= 2


def _first_record(text: str) -> list[str]:
    """The first CSV record of ``text`` (it may span lines), read from its start only."""
    size = _HEAD_CHARS
    while True:
        buffer = io.StringIO(text[:size], newline=None)
        record = next(csv.reader(buffer), [])
        if size >= len(text) or buffer.read(1):  # the record ended before the cut
            return record
        size *= 2


def unique_names(header: list[str]) -> list[str]:
    """Column names made unique the way pandas does (``a``, ``a.1``, ...)."""
    seen: dict[str, int] = {}
    out = []
    for col in header:
        k = seen.get(col, 0)
        seen[col] = k + 1
        out.append(col if k == 0 else f"{col}.{k}")
    return out


def read_csv(name: str, data: bytes, header: list[str]) -> tuple[pd.DataFrame, RowsOf]:
    """Read every column of a CSV file as text (``""`` for empty cells).

    Parameters
    ----------
    name : str
        File name, for messages.
    data : bytes
        The file's bytes (UTF-8, optionally with a byte-order mark).
    header : list of str
        The header from :func:`csv_header`; repeated names get ``.1``, ``.2`` suffixes.

    Returns
    -------
    (pandas.DataFrame, callable)
        The table, and a function giving the original rows (as dicts) by position.

    Raises
    ------
    IngestError
        If pyarrow cannot parse the file (ragged rows, broken quoting).
    """
    names = unique_names(header)
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException as exc:
        raise IngestError(f"{name}: not a readable CSV: {exc}") from exc
    raw = table.to_pandas(types_mapper={pa.string(): pd.StringDtype(na_value=np.nan)}.get)
    return raw, lambda rows: table.take(pa.array(rows, type=pa.int64())).to_pylist()


def read_excel(name: str, data: bytes) -> pd.DataFrame:
    """Read the first sheet of an ``.xlsx`` workbook as text, header in the first row.

    Raises
    ------
    IngestError
        If openpyxl cannot read the workbook, or a cell holds a formula without a saved
        value (see :func:`check_formula_values`).
    """
    check_formula_values(name, data)
    try:
        raw = pd.read_excel(
            io.BytesIO(data), sheet_name=0, dtype=str, na_filter=False, engine="openpyxl"
        )
    except Exception as exc:  # openpyxl raises many types for corrupt workbooks
        raise IngestError(f"{name}: not a readable Excel workbook: {exc}") from exc
    raw.columns = unique_names([str(c).strip() for c in raw.columns])
    return raw


def _formula_cells(data: bytes) -> list[str]:
    """Coordinates of the first sheet's formula cells (``[]`` if unreadable)."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        return [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    except Exception:  # an unreadable workbook is reported by the reader itself
        return []


def check_formula_values(name: str, data: bytes) -> None:
    """Refuse a workbook whose formula cells have no saved (cached) value.

    A workbook written by a program rather than saved by Excel can hold formulas without
    their results; read for values they would come out empty and rows would be quarantined
    or mislocated for no visible reason.

    Raises
    ------
    IngestError
        Naming the first such cell and its formula.
    """
    cells = _formula_cells(data)
    if not cells:
        return
    from openpyxl import load_workbook

    values = load_workbook(io.BytesIO(data), data_only=True).worksheets[0]
    formulas = load_workbook(io.BytesIO(data)).worksheets[0]
    for cell in cells:
        if values[cell].value is None:
            raise IngestError(
                f"{name}: cell {cell} holds a formula ({formulas[cell].value}) with no saved "
                "value; open and save the workbook in Excel, or export it as CSV"
            )


def rows_of(raw: pd.DataFrame) -> RowsOf:
    """A function giving rows of ``raw`` (as dicts) by position."""

    def rows(positions: np.ndarray) -> list[dict]:
        cols = list(raw.columns)
        values = raw.iloc[positions].to_numpy(dtype=object)
        return [dict(zip(cols, vals, strict=True)) for vals in values]

    return rows


def records_of(records: list) -> RowsOf:
    """A function giving items of a JSON list by position."""
    return lambda positions: [records[i] for i in positions]
