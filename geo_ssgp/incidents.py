"""Ingest: read incident files of every supported source into one validated Incidents table.

Sources
-------
``police-uk``
    police.uk bulk street CSV (``Crime ID, Month, Reported by, ..., Context``).
``police-uk-api``
    police.uk API JSON: a list of crime records (``category`` slug, ``location``, ``month``).
``police-uk-geojson``
    A GeoJSON FeatureCollection of police.uk points whose properties carry the bulk CSV
    names (``Crime ID``, ``Month``, ``Location``, ``LSOA name``, ``Crime type``).
``local``
    A partnership's own incident log, CSV or Excel (``.xlsx``), located per row by WGS84
    longitude/latitude, British National Grid easting/northing, or a postcode.

A file that cannot be read at all (binary content, not UTF-8, wrong delimiter, missing
required columns, invalid JSON, unknown format) raises :class:`IngestError` and the whole
:func:`read_incidents` call fails with nothing returned. Rows of readable files are either
accepted into ``incidents`` or quarantined with one reason; nothing is dropped.

Quarantine order
----------------
Each row is checked in this order and the first failing check gives its reason:

1. location -- per row, the first *usable* of (longitude, latitude), (easting, northing) and
   postcode is taken. When none is usable the reason is that of the first one present:
   ``bad_coordinates`` (blank half of a pair, not a number), ``wrong_crs`` (declared degrees
   look like grid metres or the other way round), ``swapped_lat_lon``,
   ``impossible_coordinates`` (outside the CRS's range, ``(0, 0)``, outside the UK),
   ``bad_postcode``, ``unknown_postcode``; ``no_location`` when none is present at all;
2. ``bad_date`` -- date or month does not parse;
3. ``unknown_crime_type``;
4. ``duplicate_id`` -- a source record ID that repeats an earlier *otherwise valid* record of
   the same source in the same call (files in the order given, rows in file order); the first
   is kept.

Rows without a source ID are never deduplicated: police.uk publishes anti-social behaviour
without IDs and identical rows are separate incidents at the same snap point. They get a
generated ID ``<source>:<first 12 hex digits of the file's SHA-256>:<row>``.

Coordinates
-----------
WGS84 is accepted inside the UK extent (longitude -9..2.5, latitude 49..61) and British
National Grid inside easting 0..700000, northing 0..1300000. Declared longitude/latitude of
at least 1000 on both axes and inside the grid extent are ``wrong_crs`` (grid metres);
declared easting/northing within +-180/+-90 are ``wrong_crs`` (degrees). A longitude in the
UK latitude range with a latitude in the UK longitude range is ``swapped_lat_lon``. Rows are
quarantined, never silently repaired. Postcodes are looked up offline in the area pack's
Code-Point files (all files of ``[tables.postcodes]``, earlier files first).

Dates
-----
``yyyy-mm-dd`` (optionally with a time), ``dd/mm/yyyy`` (UK day first; ``-`` or ``.`` also
separate), ``yyyy-mm`` and Excel date cells. The month is the first day of the date's month.

Local logs
----------
CSV must be comma-separated UTF-8 (a byte-order mark is fine); Excel workbooks are read
from their first sheet with the header in the first row. Columns come from the ``columns``
mapping or :data:`LOCAL_ALIASES`; crime types from police.uk names (any case), API slugs
and :data:`CRIME_SYNONYMS`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
except ImportError:  # pragma: no cover - pyarrow is a dependency
    pa = pc = pacsv = None

from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.errors import IngestError
from geo_ssgp.pack import AreaPack
from geo_ssgp.schema import (
    API_SLUGS,
    CRIME_TYPES,
    INCIDENT_COLUMNS,
    QUARANTINE_COLUMNS,
    QUARANTINE_REASONS,
    SOURCES,
)

_ARROW_ERRORS: tuple[type[Exception], ...] = (pa.ArrowException,) if pa is not None else ()

#: Supported source formats.

#: Header of the police.uk bulk street CSV.
POLICE_UK_COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
#: Columns a police.uk street CSV cannot do without.
POLICE_UK_REQUIRED = ["Crime ID", "Month", "Longitude", "Latitude", "Location", "Crime type"]
#: Properties a police.uk-derived GeoJSON cannot do without.
GEOJSON_REQUIRED = ["Month", "Crime type"]

#: Column keys of a local log and the header names recognised for each (case-insensitive;
#: spaces and punctuation count as ``_``). The first name found wins.
LOCAL_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "x"),
    "lat": ("lat", "latitude", "y"),
    "easting": ("easting", "eastings", "east", "x_bng"),
    "northing": ("northing", "northings", "north", "y_bng"),
    "postcode": ("postcode", "post_code", "postal_code"),
    "date": ("date", "incident_date", "reported_date", "occurred", "month"),
    "type": ("type", "crime_type", "category", "incident_type"),
    "id": (
        "id",
        "incident_id",
        "ref",
        "reference",
        "case_ref",
        "crime_id",
        "incident_ref",
        "crime_ref",
        "case",
        "case_id",
        "case_number",
        "record_id",
    ),
    "location": ("location", "address", "street", "location_text"),
    "outcome": ("outcome", "status", "result", "last_outcome_category"),
}

#: Local crime-type words -> police.uk category, beyond the police.uk names and API slugs
#: (keys are lower case with ``-``/``_`` read as spaces).
CRIME_SYNONYMS: dict[str, str] = {
    "asb": "Anti-social behaviour",
    "antisocial behaviour": "Anti-social behaviour",
    "anti social behavior": "Anti-social behaviour",
    "antisocial behavior": "Anti-social behaviour",
    "begging": "Anti-social behaviour",
    "street drinking": "Anti-social behaviour",
    "youth asb": "Anti-social behaviour",
    "arson": "Criminal damage and arson",
    "criminal damage": "Criminal damage and arson",
    "violence": "Violence and sexual offences",
    "violent crime": "Violence and sexual offences",
    "assault": "Violence and sexual offences",
    "sexual offences": "Violence and sexual offences",
    "knife crime": "Possession of weapons",
    "weapon": "Possession of weapons",
    "weapons": "Possession of weapons",
    "theft": "Other theft",
    "shop theft": "Shoplifting",
    "bike theft": "Bicycle theft",
    "cycle theft": "Bicycle theft",
    "drug offences": "Drugs",
    "vehicle theft": "Vehicle crime",
}

#: UK extent used to reject impossible WGS84 coordinates (degrees).
UK_LON = (-9.0, 2.5)
UK_LAT = (49.0, 61.0)
#: British National Grid extent (metres).
BNG_EAST = (0.0, 700_000.0)
BNG_NORTH = (0.0, 1_300_000.0)

_POSTCODE_RE = r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)[0-9][A-Z]{2}$"
_ISO_DATE_RE = (
    r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})(?:[-/](?P<d>\d{1,2}))?"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_UK_DATE_RE = (
    r"^(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_DATE_FORMATS = "yyyy-mm-dd, dd/mm/yyyy or yyyy-mm"
#: Declared degrees at least this large on both axes are read as grid metres (``wrong_crs``).
_METRES = 1000.0
_ZERO = "coordinates are (0, 0), a placeholder rather than a location"

# Columns every reader hands to validation (all text; "" when absent).
_STAGE_COLUMNS = [
    "rec_id",
    "date",
    "crime",
    "location_text",
    "outcome",
    "source_lsoa",
    "source_lsoa_name",
    "lon",
    "lat",
    "east",
    "north",
    "postcode",
]


@dataclass
class IngestResult:
    """Output of :func:`read_incidents`.

    Attributes
    ----------
    incidents : geopandas.GeoDataFrame
        Accepted rows, EPSG:27700, exactly :data:`geo_ssgp.schema.INCIDENT_COLUMNS`,
        in input order (file order, then row order).
    quarantine : pandas.DataFrame
        Rejected rows with :data:`geo_ssgp.schema.QUARANTINE_COLUMNS`; ``original`` is the
        input row as JSON text.
    n_in : int
        Rows read from all files.
    files : list of dict
        Per file: ``path``, ``name``, ``sha256``, ``source``, ``n_in``, ``n_accepted``,
        ``n_quarantined``.
    """

    incidents: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    n_in: int
    files: list[dict] = field(default_factory=list)

    def balance(self) -> dict:
        """Count rows in, accepted and quarantined (by reason).

        Returns
        -------
        dict
            ``{"in", "accepted", "quarantined", "by_reason": {reason: n}}``; reasons in
            :data:`~geo_ssgp.schema.QUARANTINE_REASONS` order, only those that occur.

        Raises
        ------
        AssertionError
            If rows in differ from accepted plus quarantined.
        """
        counts = self.quarantine["reason"].value_counts()
        by_reason = {r: int(counts[r]) for r in QUARANTINE_REASONS if r in counts.index}
        out = {
            "in": int(self.n_in),
            "accepted": len(self.incidents),
            "quarantined": len(self.quarantine),
            "by_reason": by_reason,
        }
        if out["in"] != out["accepted"] + out["quarantined"]:
            raise AssertionError(f"ingest balance broken: {out}")
        return out

    @classmethod
    def concat(cls, results: Iterable[IngestResult]) -> IngestResult:
        """Concatenate results; see :func:`concat_results`."""
        return concat_results(results)


def concat_results(results: Iterable[IngestResult]) -> IngestResult:
    """Concatenate ingest results in order.

    Duplicate-ID checks are not repeated across the results: call :func:`read_incidents`
    once with all files when records of one source may repeat between them.

    Parameters
    ----------
    results : iterable of IngestResult

    Returns
    -------
    IngestResult
    """
    results = list(results)
    if not results:
        return _empty_result()
    incidents = pd.concat([r.incidents for r in results], ignore_index=True)
    quarantine = pd.concat([r.quarantine for r in results], ignore_index=True)
    return IngestResult(
        incidents=gpd.GeoDataFrame(incidents, geometry="geometry", crs=CRS_BNG),
        quarantine=quarantine[QUARANTINE_COLUMNS],
        n_in=sum(r.n_in for r in results),
        files=[f for r in results for f in r.files],
    )


def parse_columns(text: str) -> dict[str, str]:
    """Parse a column mapping for local logs.

    Parameters
    ----------
    text : str
        ``key=Column`` pairs separated by commas, e.g. ``"lon=X,lat=Y,date=When,type=What"``.
        Keys: lon, lat, easting, northing, postcode, date, type, id, location, outcome.

    Returns
    -------
    dict
        Key -> column name.

    Raises
    ------
    ValueError
        For an unknown or repeated key, or a pair without ``=`` or without a column name.
    """
    out: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        key, sep, column = (s.strip() for s in pair.partition("="))
        if not sep or not column:
            raise ValueError(f"column mapping {pair!r}: expected key=Column")
        if key not in LOCAL_ALIASES:
            raise ValueError(
                f"column mapping: unknown key {key!r}; expected one of: " + ", ".join(LOCAL_ALIASES)
            )
        if key in out:
            raise ValueError(f"column mapping: key {key!r} given twice")
        out[key] = column
    return out


def normalise_postcode(values: pd.Series) -> pd.Series:
    """Normalise UK postcodes to upper case with one space before the inward code.

    Parameters
    ----------
    values : pandas.Series
        Postcode text in any case and spacing (``"gl11ad"``, ``" GL1  1AD "``).

    Returns
    -------
    pandas.Series
        ``"GL1 1AD"`` form where the text is a syntactically valid postcode, else ``""``.
    """
    compact = values.fillna("").astype(str).str.upper().str.replace(r"\s+", "", regex=True)
    valid = compact.str.fullmatch(_POSTCODE_RE).fillna(False).astype(bool)
    spaced = compact.str[:-3] + " " + compact.str[-3:]
    return spaced.where(valid, "").astype(object)


def detect_source(path: str | Path) -> str:
    """Detect the source format of an incident file from its content.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        One of :data:`SOURCES`.

    Raises
    ------
    IngestError
        If the file cannot be read or its format is not recognised.
    """
    path = Path(path)
    data = _read_bytes(path)
    kind = _sniff(path, data)
    if kind == "excel":
        return "local"
    text = _decode(path.name, data)
    if kind == "json":
        return _json_source(path.name, _parse_json(path.name, text))
    header = _csv_header(path.name, text)
    return "police-uk" if _looks_police_uk(header) else "local"


def read_incidents(
    paths: str | Path | Iterable[str | Path],
    source: str | None = None,
    columns: Mapping[str, str] | str | None = None,
    pack: AreaPack | None = None,
    progress: Callable[[int], Any] | None = None,
) -> IngestResult:
    """Read, validate and combine incident files into one Incidents table and a quarantine.

    Parameters
    ----------
    paths : path or iterable of paths
        Files to read; a folder stands for its ``.csv``, ``.json``, ``.geojson`` and
        ``.xlsx`` files in name order.
    source : {"police-uk", "police-uk-api", "police-uk-geojson", "local"}, optional
        Format of every file; ``None`` detects it per file with :func:`detect_source`.
    columns : mapping or str, optional
        Column mapping for local logs (see :func:`parse_columns`); keys not given are
        detected from common header names. Ignored for police.uk files.
    pack : AreaPack, optional
        Needed only to geocode rows located by postcode alone.
    progress : callable, optional
        Called with ``1`` after each file is read (e.g. to advance a progress bar).

    Returns
    -------
    IngestResult

    Raises
    ------
    IngestError
        If any file cannot be read at all; nothing is returned for the other files.
    ValueError
        For an unknown ``source``, a bad ``columns`` mapping, or postcode-only rows without
        a ``pack`` that has a postcode table.
    """
    if source is not None and source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of: {', '.join(SOURCES)}")
    mapping = parse_columns(columns) if isinstance(columns, str) else dict(columns or {})
    for key in mapping:
        if key not in LOCAL_ALIASES:
            raise ValueError(f"column mapping: unknown key {key!r}")
    staged = []
    for path in _expand(paths):
        staged.append(_read_file(path, source, mapping))
        if progress is not None:
            progress(1)
    if not staged:
        return _empty_result()
    return _validate(staged, pack)


def read_raw(
    paths: str | Path | Iterable[str | Path],
    source: str | None = None,
    columns: Mapping[str, str] | str | None = None,
) -> pd.DataFrame:
    """The input rows exactly as read, with their file name and row number, for reports.

    Parameters
    ----------
    paths : path or iterable of paths
        As for :func:`read_incidents`.
    source : str, optional
        As for :func:`read_incidents`.
    columns : mapping or str, optional
        As for :func:`read_incidents` (local logs must still have the columns it needs).

    Returns
    -------
    pandas.DataFrame
        ``source_file``, ``source_row`` and every input column, in input order (CSV and
        Excel as text; JSON records flattened with ``.`` between nested keys).

    Raises
    ------
    IngestError
        If a file cannot be read at all.
    """
    mapping = parse_columns(columns) if isinstance(columns, str) else dict(columns or {})
    frames = []
    for path in _expand(paths):
        staged = _read_file(path, source, mapping)
        if staged.raw is not None:
            table = staged.raw.copy()
        else:
            table = pd.json_normalize(staged.original(np.arange(staged.n)))
            table.index = pd.RangeIndex(staged.n)
        table.insert(0, "source_file", path.name)
        table.insert(1, "source_row", np.arange(staged.n, dtype=np.int64))
        frames.append(table)
    if not frames:
        return pd.DataFrame({"source_file": [], "source_row": np.array([], dtype=np.int64)})
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------
# Reading files


@dataclass
class _Staged:
    """One file read into the staging columns, before validation."""

    path: Path
    sha256: str
    source: str
    n: int  # rows read
    frame: Stage  # stage columns the source has
    original: Callable[[np.ndarray], list[dict]]  # row positions -> original records
    raw: pd.DataFrame | None = None  # the table as read (CSV and Excel)


def _expand(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Turn the ``paths`` argument into a list of files (folders expanded)."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    out: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            suffixes = {".csv", ".json", ".geojson", ".xlsx"}
            out.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in suffixes))
        else:
            out.append(item)
    return out


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise IngestError(f"{path.name}: file not found ({path})") from exc
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise IngestError(f"{path.name}: file is empty")
    return data


def _sniff(path: Path, data: bytes) -> str:
    """Classify raw bytes as ``"excel"``, ``"json"`` or ``"csv"`` (text)."""
    if data.startswith(b"PK\x03\x04"):
        return "excel"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            f"{path.name}: legacy Excel .xls workbooks are not supported; save it as .xlsx or CSV"
        )
    if b"\x00" in data:
        raise IngestError(
            f"{path.name}: binary content (NUL bytes); expected a CSV, JSON or .xlsx file"
        )
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if path.suffix.lower() in {".json", ".geojson"} or head in (b"{", b"["):
        return "json"
    return "csv"


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as CSV UTF-8"
        ) from exc


def _parse_json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"{name}: invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc


def _json_source(name: str, doc: Any) -> str:
    """Which police.uk JSON shape ``doc`` is."""
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        return "police-uk-geojson"
    if isinstance(doc, list) and all(isinstance(r, dict) and "category" in r for r in doc):
        return "police-uk-api"
    raise IngestError(
        f"{name}: unknown JSON format; expected a police.uk API crime list "
        "or a GeoJSON FeatureCollection"
    )


def _csv_header(name: str, text: str) -> list[str]:
    """Header fields of a comma-separated file; rejects other delimiters."""
    line = text.lstrip("\r\n").split("\n", 1)[0]
    commas = line.count(",")
    for delim, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
        if line.count(delim) > commas:
            raise IngestError(
                f"{name}: looks {label}-separated ({delim!r}); expected comma-separated CSV"
            )
    header = next(csv.reader(io.StringIO(text.lstrip("\r\n"))), [])
    return [h.strip() for h in header]


def _looks_police_uk(header: list[str]) -> bool:
    cols = set(header)
    return "Reported by" in cols or "Falls within" in cols or set(POLICE_UK_REQUIRED) <= cols


def _read_file(path: Path, source: str | None, mapping: dict[str, str]) -> _Staged:
    """Read one file into staging columns; every failure is an :class:`IngestError`."""
    data = _read_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    kind = _sniff(path, data)
    name = path.name
    if kind == "excel":
        if source not in (None, "local"):
            raise IngestError(f"{name}: an Excel workbook cannot be a {source} file")
        raw = _read_excel(name, data)
        frame = _stage_local(name, raw, mapping)
        return _Staged(path, sha, "local", len(raw), frame, _rows_of(raw), raw)
    text = _decode(name, data)
    if kind == "json":
        doc = _parse_json(name, text)
        found = _json_source(name, doc)
        if source not in (None, found):
            raise IngestError(f"{name}: expected a {source} file, found {found} JSON")
        if found == "police-uk-api":
            return _Staged(path, sha, found, len(doc), _stage_api(name, doc), _records_of(doc))
        features = doc.get("features")
        if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
            raise IngestError(f"{name}: GeoJSON 'features' must be a list of Feature objects")
        frame = _stage_geojson(name, doc, features)
        return _Staged(path, sha, found, len(features), frame, _records_of(features))
    if source in ("police-uk-api", "police-uk-geojson"):
        raise IngestError(f"{name}: expected {source} JSON, found CSV text")
    header = _csv_header(name, text)
    detected = source or ("police-uk" if _looks_police_uk(header) else "local")
    raw, original = _read_csv(name, data, header)
    if detected == "police-uk":
        frame = _stage_police_csv(name, raw)
    else:
        frame = _stage_local(name, raw, mapping)
    return _Staged(path, sha, detected, len(raw), frame, original, raw)


def _unique_names(header: list[str]) -> list[str]:
    """Column names made unique the way pandas does (``a``, ``a.1``, ...)."""
    seen: dict[str, int] = {}
    out = []
    for col in header:
        k = seen.get(col, 0)
        seen[col] = k + 1
        out.append(col if k == 0 else f"{col}.{k}")
    return out


def _read_csv(
    name: str, data: bytes, header: list[str]
) -> tuple[pd.DataFrame, Callable[[np.ndarray], list[dict]]]:
    """Read every column as text (``""`` for empty cells).

    Returns the table and a function giving original rows (as dicts) by position.
    """
    names = _unique_names(header)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if pacsv is None:  # pragma: no cover - pyarrow is a dependency; pandas parser fallback
        try:
            raw = pd.read_csv(io.BytesIO(body), dtype=str, na_filter=False)
        except (pd.errors.ParserError, ValueError) as exc:
            raise IngestError(f"{name}: not a readable CSV: {exc}") from exc
        raw.columns = names[: len(raw.columns)]
        return raw, _rows_of(raw)
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


def _read_excel(name: str, data: bytes) -> pd.DataFrame:
    try:
        raw = pd.read_excel(
            io.BytesIO(data), sheet_name=0, dtype=str, na_filter=False, engine="openpyxl"
        )
    except Exception as exc:  # openpyxl raises many types for corrupt workbooks
        raise IngestError(f"{name}: not a readable Excel workbook: {exc}") from exc
    raw.columns = _unique_names([str(c).strip() for c in raw.columns])
    return raw


def _rows_of(raw: pd.DataFrame) -> Callable[[np.ndarray], list[dict]]:
    def rows_of(rows: np.ndarray) -> list[dict]:
        cols = list(raw.columns)
        values = raw.iloc[rows].to_numpy(dtype=object)
        return [dict(zip(cols, vals, strict=True)) for vals in values]

    return rows_of


def _records_of(records: list) -> Callable[[np.ndarray], list[dict]]:
    return lambda rows: [records[i] for i in rows]


#: A staged file: stage column -> text Series (``str`` dtype, stripped, 0-based index);
#: columns the source lacks are left out and read as blank.
Stage = dict[str, pd.Series]
#: Stage columns over all files, for validation (see :class:`_Text`).
Columns = dict[str, "_Text"]


def _stage(**cols: pd.Series | np.ndarray | None) -> Stage:
    """Build the staging columns from text values (``None`` = the source has no such column).

    Values are text; surrounding white space is removed later, over all files at once.
    """
    out: Stage = {}
    for key, values in cols.items():
        if values is None:
            continue
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
            out[key] = values  # read as text already (CSV and Excel readers: 0-based index)
        else:
            out[key] = pd.Series(np.asarray(values, dtype=object), dtype="str")
    return out


def _missing(name: str, missing: list[str], what: str = "columns") -> IngestError:
    return IngestError(f"{name}: missing required {what}: {', '.join(missing)}")


def _stage_police_csv(name: str, raw: pd.DataFrame) -> Stage:
    missing = [c for c in POLICE_UK_REQUIRED if c not in raw.columns]
    if missing:
        raise _missing(name, missing)
    return _stage(
        rec_id=raw["Crime ID"],
        date=raw["Month"],
        crime=raw["Crime type"],
        location_text=raw["Location"],
        outcome=raw.get("Last outcome category"),
        source_lsoa=raw.get("LSOA code"),
        source_lsoa_name=raw.get("LSOA name"),
        lon=raw["Longitude"],
        lat=raw["Latitude"],
    )


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _pluck(records: list, *keys: str, text: bool = True) -> np.ndarray:
    """Nested value ``r[k1][k2]...`` of each record (as text unless ``text=False``).

    Missing keys and non-object levels give ``""`` (``None`` with ``text=False``).
    """

    def get(rec: Any) -> Any:
        for key in keys:
            if not isinstance(rec, dict):
                return None
            rec = rec.get(key)
        return rec

    values = [get(r) for r in records]
    if text:
        values = [_as_text(v) for v in values]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _stage_api(name: str, records: list[dict]) -> Stage:
    outcome = _pluck(records, "outcome_status", "category")
    when = _pluck(records, "outcome_status", "date")
    dated = (outcome != "") & (when != "")
    outcome[dated] = outcome[dated] + " (" + when[dated] + ")"
    return _stage(
        rec_id=_pluck(records, "id"),
        date=_pluck(records, "month"),
        crime=_pluck(records, "category"),
        location_text=_pluck(records, "location", "street", "name"),
        outcome=outcome,
        lon=_pluck(records, "location", "longitude"),
        lat=_pluck(records, "location", "latitude"),
    )


def _stage_geojson(name: str, doc: dict, features: list[dict]) -> Stage:
    n = len(features)
    props = [f.get("properties") or {} for f in features]
    keys = set().union(*(p.keys() for p in props if isinstance(p, dict))) if props else set()
    missing = [c for c in GEOJSON_REQUIRED if n and c not in keys]
    if missing:
        raise _missing(name, missing, "properties")
    kind = _pluck(features, "geometry", "type")
    coords = _pluck(features, "geometry", "coordinates", text=False)
    point = [
        k == "Point" and isinstance(c, list) and len(c) >= 2
        for k, c in zip(kind, coords, strict=True)
    ]
    x = np.array(
        [_as_text(c[0]) if p else "" for c, p in zip(coords, point, strict=True)], dtype=object
    )
    y = np.array(
        [_as_text(c[1]) if p else "" for c, p in zip(coords, point, strict=True)], dtype=object
    )
    # Other geometry becomes a non-numeric coordinate, quarantined as bad_coordinates.
    other = (kind != "") & ~np.array(point, dtype=bool)
    x[other] = kind[other] + " geometry"
    y[other] = "not a Point"
    grid = "27700" in _pluck([doc], "crs", "properties", "name")[0]
    loc = {"east": x, "north": y} if grid else {"lon": x, "lat": y}
    return _stage(
        rec_id=_pluck(props, "Crime ID"),
        date=_pluck(props, "Month"),
        crime=_pluck(props, "Crime type"),
        location_text=_pluck(props, "Location"),
        outcome=_pluck(props, "Last outcome category"),
        source_lsoa=_pluck(props, "LSOA code"),
        source_lsoa_name=_pluck(props, "LSOA name"),
        **loc,
    )


def _header_key(column: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_")


def _local_columns(name: str, header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Resolve local-log keys to file columns: the mapping first, then common names."""
    by_key: dict[str, str] = {}
    for col in header:
        by_key.setdefault(_header_key(col), col)
    found: dict[str, str] = {}
    for key, column in mapping.items():
        if column in header:
            found[key] = column
        elif _header_key(column) in by_key:
            found[key] = by_key[_header_key(column)]
        else:
            raise IngestError(
                f"{name}: column {column!r} named by the column mapping ({key}={column}) "
                f"not found; columns are: {', '.join(header)}"
            )
    used = set(found.values())
    for key, aliases in LOCAL_ALIASES.items():
        if key in found:
            continue
        for alias in aliases:
            col = by_key.get(alias)
            if col is not None and col not in used:
                found[key] = col
                used.add(col)
                break
    missing = [k for k in ("date", "type") if k not in found]
    pairs = [("lon", "lat"), ("easting", "northing")]
    has_location = "postcode" in found or any(a in found and b in found for a, b in pairs)
    if not has_location:
        halves = [b if a in found else a for a, b in pairs if (a in found) != (b in found)]
        missing += halves or ["location (lon+lat, easting+northing or postcode)"]
    if missing:
        raise _missing(name, missing)
    return found


def _stage_local(name: str, raw: pd.DataFrame, mapping: dict[str, str]) -> Stage:
    found = _local_columns(name, list(raw.columns), mapping)
    for a, b in (("lon", "lat"), ("easting", "northing")):
        if (a in found) != (b in found):  # a half pair cannot locate anything
            found.pop(a, None)
            found.pop(b, None)
    col = {key: raw[c] for key, c in found.items()}
    return _stage(
        rec_id=col.get("id"),
        date=col.get("date"),
        crime=col.get("type"),
        location_text=col.get("location"),
        outcome=col.get("outcome"),
        lon=col.get("lon"),
        lat=col.get("lat"),
        east=col.get("easting"),
        north=col.get("northing"),
        postcode=col.get("postcode"),
    )


# ---------------------------------------------------------------------------------------
# Validation


class _Reasons:
    """Per-row quarantine reason and detail; the first reason set for a row wins."""

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, "", dtype=object)
        self.detail = np.full(n, "", dtype=object)
        self.ok = np.ones(n, dtype=bool)

    def mark(
        self,
        mask: np.ndarray | pd.Series,
        code: str,
        detail: str | Callable[[np.ndarray], np.ndarray],
    ) -> None:
        """Give ``code`` to rows in ``mask`` that have no reason yet.

        ``detail`` is text or a function of the boolean row mask returning one text per row.
        """
        m = np.asarray(mask, dtype=bool) & self.ok
        if m.any():
            self.reason[m] = code
            self.detail[m] = detail(m) if callable(detail) else detail
            self.ok[m] = False


@dataclass
class _Tier:
    """One way of locating rows: which rows offer it, why each fails, and x/y in BNG."""

    present: np.ndarray
    reasons: _Reasons
    x: np.ndarray
    y: np.ndarray


def _between(v: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return (v >= bounds[0]) & (v <= bounds[1])


class _Text:
    """A text column over all rows, read lazily.

    ``col[mask]`` gives the masked rows as an object array of ``str`` (for messages);
    :attr:`blank` and :meth:`floats` work on the whole column without Python objects.
    """

    def __init__(self, series: pd.Series | None, n: int) -> None:
        self.series = series  # str dtype, stripped; None when no file has the column
        self.n = n

    def __getitem__(self, mask: np.ndarray) -> np.ndarray:
        if self.series is None:
            return np.full(int(np.count_nonzero(mask)), "", dtype=object)
        return self.series[mask].to_numpy(dtype=object)

    @property
    def blank(self) -> np.ndarray:
        if self.series is None:
            return np.ones(self.n, dtype=bool)
        return (self.series == "").to_numpy(dtype=bool)

    def floats(self, mask: np.ndarray) -> np.ndarray:
        """Numbers parsed where ``mask`` holds; NaN elsewhere and where unparsable."""
        out = np.full(self.n, np.nan)
        if self.series is None or not mask.any():
            return out
        sub = self.series[mask]
        try:  # fast path: every value is a number (Arrow cast, no Python objects)
            out[mask] = pc.cast(pa.array(sub.array), pa.float64()).to_numpy(zero_copy_only=False)
        except (AttributeError, TypeError, *_ARROW_ERRORS):
            out[mask] = pd.to_numeric(sub.to_numpy(dtype=object), errors="coerce")
        return out


def _pair_tier(frame: Columns, a: str, b: str) -> tuple[np.ndarray, _Reasons]:
    """Rows offering the coordinate pair ``a``/``b``; all other rows marked absent."""
    present = ~(frame[a].blank & frame[b].blank)
    r = _Reasons(len(present))
    r.mark(~present, "no_location", "")
    return present, r


def _numeric_pair(
    r: _Reasons, sa: _Text, sb: _Text, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Flag blank halves and non-numbers; return the two values as floats."""
    na, nb = names
    r.mark(sa.blank, "bad_coordinates", lambda m: f"{na} is blank ({nb} " + sb[m] + ")")
    r.mark(sb.blank, "bad_coordinates", lambda m: f"{nb} is blank ({na} " + sa[m] + ")")
    va = sa.floats(r.ok)
    vb = sb.floats(r.ok)
    r.mark(
        ~(np.isfinite(va) & np.isfinite(vb)),
        "bad_coordinates",
        lambda m: f"{na}/{nb} do not parse as numbers: {na} " + sa[m] + f", {nb} " + sb[m],
    )
    return va, vb


@lru_cache(maxsize=1)
def _to_bng() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(CRS_WGS84, CRS_BNG, always_xy=True)


def _lonlat_tier(frame: Columns) -> _Tier:
    present, r = _pair_tier(frame, "lon", "lat")
    n = len(present)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if not present.any():
        return _Tier(present, r, x, y)
    slon, slat = frame["lon"], frame["lat"]
    lon, lat = _numeric_pair(r, slon, slat, ("longitude", "latitude"))

    def pair(m: np.ndarray) -> np.ndarray:
        return "longitude " + slon[m] + ", latitude " + slat[m]

    degrees = (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    metres = (lon >= _METRES) & (lat >= _METRES)
    r.mark(
        metres & _between(lon, BNG_EAST) & _between(lat, BNG_NORTH),
        "wrong_crs",
        lambda m: (
            pair(m) + " look like British National Grid easting/northing metres "
            "(EPSG:27700), not WGS84 degrees"
        ),
    )
    r.mark(
        _between(lon, UK_LAT) & _between(lat, UK_LON),
        "swapped_lat_lon",
        lambda m: (
            "latitude and longitude appear swapped: longitude "
            + slon[m]
            + " looks like a UK latitude and latitude "
            + slat[m]
            + " like a UK longitude"
        ),
    )
    r.mark((lon == 0) & (lat == 0), "impossible_coordinates", _ZERO)
    r.mark(
        ~degrees,
        "impossible_coordinates",
        lambda m: pair(m) + " outside the WGS84 range (longitude -180..180, latitude -90..90)",
    )
    r.mark(
        ~(_between(lon, UK_LON) & _between(lat, UK_LAT)),
        "impossible_coordinates",
        lambda m: (
            pair(m) + f" outside the UK (longitude {UK_LON[0]}..{UK_LON[1]}, "
            f"latitude {UK_LAT[0]:g}..{UK_LAT[1]:g})"
        ),
    )
    ok = r.ok
    if ok.any():
        x[ok], y[ok] = _to_bng().transform(lon[ok], lat[ok])
    return _Tier(present, r, x, y)


def _grid_tier(frame: Columns) -> _Tier:
    present, r = _pair_tier(frame, "east", "north")
    n = len(present)
    if not present.any():
        return _Tier(present, r, np.full(n, np.nan), np.full(n, np.nan))
    se, sn = frame["east"], frame["north"]
    e, nn = _numeric_pair(r, se, sn, ("easting", "northing"))

    def pair(m: np.ndarray) -> np.ndarray:
        return "easting " + se[m] + ", northing " + sn[m]

    zero = (e == 0) & (nn == 0)
    degrees = (np.abs(e) <= 180) & (np.abs(nn) <= 90) & ~zero
    r.mark(
        degrees & _between(e, UK_LAT) & _between(nn, UK_LON),
        "wrong_crs",
        lambda m: (
            pair(m) + " look like WGS84 latitude/longitude degrees (EPSG:4326), "
            "not British National Grid metres"
        ),
    )
    r.mark(
        degrees,
        "wrong_crs",
        lambda m: (
            pair(m) + " look like WGS84 longitude/latitude degrees (EPSG:4326), "
            "not British National Grid metres"
        ),
    )
    r.mark(zero, "impossible_coordinates", _ZERO)
    r.mark(
        ~(_between(e, BNG_EAST) & _between(nn, BNG_NORTH)),
        "impossible_coordinates",
        lambda m: (
            pair(m) + " outside the British National Grid extent "
            "(easting 0..700000, northing 0..1300000)"
        ),
    )
    return _Tier(present, r, np.where(r.ok, e, np.nan), np.where(r.ok, nn, np.nan))


@lru_cache(maxsize=8)
def _postcode_lookup(pack: AreaPack) -> pd.DataFrame:
    """Normalised postcode -> easting, northing from the pack's Code-Point files."""
    from geo_ssgp.pack import read_table

    entry = pack.tables["postcodes"]
    table = read_table(pack, "tables", "postcodes")
    out = pd.DataFrame(
        {
            "easting": pd.to_numeric(table[entry["easting"]], errors="coerce").to_numpy(),
            "northing": pd.to_numeric(table[entry["northing"]], errors="coerce").to_numpy(),
        },
        index=normalise_postcode(table[entry["postcode"]]).to_numpy(),
    )
    out = out[(out.index != "") & out["easting"].notna() & out["northing"].notna()]
    return out[~out.index.duplicated(keep="first")]


def _postcode_tier(frame: Columns, pack: AreaPack | None, needed: np.ndarray) -> _Tier:
    sraw = frame["postcode"]
    n = sraw.n
    present = ~sraw.blank
    r = _Reasons(n)
    r.mark(~present, "no_location", "")
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if not present.any():
        return _Tier(present, r, x, y)
    norm = normalise_postcode(sraw.series)
    snorm = norm.to_numpy(dtype=object)
    r.mark(snorm == "", "bad_postcode", lambda m: "'" + sraw[m] + "' is not a UK postcode")
    if not (needed & r.ok).any():  # every row is located otherwise: no lookup needed
        r.mark(r.ok, "unknown_postcode", "postcode not looked up")
        return _Tier(present, r, x, y)
    if pack is None or not pack.has("tables", "postcodes"):
        count = int((needed & r.ok).sum())
        where = "no area pack was given" if pack is None else f"pack {pack.name!r} has none"
        raise ValueError(
            f"{count} rows are located by postcode only, but {where}: pass an area pack "
            "with a [tables.postcodes] entry to geocode them"
        )
    lookup = _postcode_lookup(pack).reindex(norm)
    e = lookup["easting"].to_numpy(dtype=float)
    nn = lookup["northing"].to_numpy(dtype=float)
    r.mark(
        np.isnan(e),
        "unknown_postcode",
        lambda m: "'" + snorm[m] + "' is not in the area pack's postcode file",
    )
    return _Tier(present, r, np.where(r.ok, e, np.nan), np.where(r.ok, nn, np.nan))


def _locate(frame: Columns, pack: AreaPack | None) -> tuple[_Reasons, np.ndarray, np.ndarray]:
    """Pick per row the first usable location tier; reasons for rows with none."""
    n = frame["lon"].n
    tiers = [_lonlat_tier(frame), _grid_tier(frame)]
    located = tiers[0].reasons.ok | tiers[1].reasons.ok
    tiers.append(_postcode_tier(frame, pack, ~located))
    out = _Reasons(n)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    chosen = np.zeros(n, dtype=bool)
    for tier in tiers:
        use = ~chosen & tier.reasons.ok
        x[use], y[use] = tier.x[use], tier.y[use]
        chosen |= use
    for tier in tiers:  # rows with no usable tier: reason of the first one present
        fail = ~chosen & tier.present & out.ok
        out.reason[fail] = tier.reasons.reason[fail]
        out.detail[fail] = tier.reasons.detail[fail]
        out.ok[fail] = False
    out.mark(~chosen, "no_location", lambda m: _no_location_detail(frame, m))
    return out, x, y


def _no_location_detail(frame: Columns, m: np.ndarray) -> np.ndarray:
    text = frame["location_text"][m]
    base = QUARANTINE_REASONS["no_location"]
    return np.where(text != "", base + " (location '" + text + "')", base)


def _parse_months(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """First day of the month of each date text, and whether it parsed."""
    codes, uniques = pd.factorize(values)
    if not len(uniques):
        return np.array([], dtype="datetime64[ns]"), np.array([], dtype=bool)
    u = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    iso = u.str.extract(_ISO_DATE_RE)
    uk = u.str.extract(_UK_DATE_RE)
    use_iso = iso["y"].notna()
    parts = pd.DataFrame({k: iso[k].where(use_iso, uk[k]) for k in ("y", "m", "d")})
    nums = parts.apply(pd.to_numeric, errors="coerce")
    full = pd.to_datetime(
        pd.DataFrame({"year": nums["y"], "month": nums["m"], "day": nums["d"].fillna(1)}),
        errors="coerce",
    )
    month = pd.to_datetime(
        pd.DataFrame({"year": nums["y"], "month": nums["m"], "day": 1}).where(full.notna()),
        errors="coerce",
    )
    out = month.to_numpy(dtype="datetime64[ns]")[codes]
    return out, ~np.isnat(out)


def _crime_key(values: pd.Series) -> pd.Series:
    return values.str.lower().str.replace(r"[-_\s]+", " ", regex=True).str.strip()


@lru_cache(maxsize=1)
def _crime_table() -> dict[str, str]:
    table = {_crime_key(pd.Series([t])).iloc[0]: t for t in CRIME_TYPES}
    table.update({_crime_key(pd.Series([s])).iloc[0]: t for s, t in API_SLUGS.items()})
    table.update(CRIME_SYNONYMS)
    return table


def _map_crime(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes into a table of police.uk names per crime-type text (``None`` = unknown).

    Returns ``(codes, names)``: row ``i`` maps to ``names[codes[i]]``.
    """
    codes, uniques = pd.factorize(values)
    keys = _crime_key(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    return codes, keys.map(_crime_table()).to_numpy(dtype=object)


def _gather(staged: list[_Staged], key: str, sizes: list[int]) -> pd.Series | None:
    """One stage column over all files, white space stripped.

    Blank where a file lacks the column; ``None`` when every file does.
    """
    if not any(key in s.frame for s in staged):
        return None
    parts = [
        s.frame[key] if key in s.frame else pd.Series([""] * k, dtype="str")
        for s, k in zip(staged, sizes, strict=True)
    ]
    column = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if column.hasnans:
        column = column.fillna("")
    return column.str.strip()


def _column(column: pd.Series | None, n: int) -> pd.Series:
    return pd.Series([""] * n, dtype="str") if column is None else column


def _text_out(column: pd.Series | None, keep: np.ndarray) -> pd.Series:
    if column is None:
        return pd.Series(np.full(len(keep), "", dtype=object), dtype="str")
    return column.take(keep).reset_index(drop=True)


def _validate(staged: list[_Staged], pack: AreaPack | None) -> IngestResult:
    """Check all staged rows together and split them into incidents and quarantine."""
    sizes = [s.n for s in staged]
    cols = {c: _gather(staged, c, sizes) for c in _STAGE_COLUMNS}
    n = sum(sizes)
    frame = {c: _Text(cols[c], n) for c in _STAGE_COLUMNS}
    file_idx = np.repeat(np.arange(len(staged)), sizes)
    row = np.concatenate([np.arange(k, dtype=np.int64) for k in sizes])
    names = pd.Series([s.path.name for s in staged], dtype="str")
    sources = pd.Series([s.source for s in staged], dtype="str")

    reasons, x, y = _locate(frame, pack)
    month, date_ok = _parse_months(_column(cols["date"], n))
    sdate = frame["date"]
    reasons.mark(
        ~date_ok,
        "bad_date",
        lambda m: np.where(
            sdate[m] == "",
            "date is blank",
            "date '" + sdate[m] + f"' does not parse (expected {_DATE_FORMATS})",
        ),
    )
    crime_codes, crime_names = _map_crime(_column(cols["crime"], n))
    scrime = frame["crime"]
    reasons.mark(
        pd.isna(crime_names[crime_codes]),
        "unknown_crime_type",
        lambda m: "crime type '" + scrime[m] + "' is not a police.uk category or known synonym",
    )
    rec_id = _column(cols["rec_id"], n)
    _mark_duplicates(reasons, rec_id, staged, file_idx, row)

    ok = reasons.ok
    keep = np.flatnonzero(ok)
    police = (sources != "local").to_numpy()[file_idx[keep]]
    data = {
        "incident_id": _incident_ids(rec_id, staged, file_idx, row, keep),
        "source": sources.take(file_idx[keep]),
        "source_file": names.take(file_idx[keep]),
        "source_row": row[keep],
        "month": month[keep],
        "crime_type": pd.Series(crime_names, dtype="str").take(crime_codes[keep]),
        "location_text": _text_out(cols["location_text"], keep),
        "outcome": _text_out(cols["outcome"], keep),
        "restricted": ~police,
        "source_lsoa": _text_out(cols["source_lsoa"], keep),
        "source_lsoa_name": _text_out(cols["source_lsoa_name"], keep),
        "snap_point": police,
    }
    data = {k: v.reset_index(drop=True) if isinstance(v, pd.Series) else v for k, v in data.items()}
    incidents = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(x[keep], y[keep]), crs=CRS_BNG)
    quarantine = _quarantine(staged, reasons, ~ok, file_idx, row)
    files = _file_summaries(staged, ok, file_idx)
    return IngestResult(incidents[INCIDENT_COLUMNS], quarantine, n_in=n, files=files)


def _incident_ids(
    rec_id: pd.Series,
    staged: list[_Staged],
    file_idx: np.ndarray,
    row: np.ndarray,
    keep: np.ndarray,
) -> pd.Series:
    """Source IDs, or ``<source>:<sha256[:12]>:<row>`` for rows without one."""
    ids = rec_id.take(keep).reset_index(drop=True)
    blank = (ids == "").to_numpy()
    if blank.any():
        prefix = np.array([f"{s.source}:{s.sha256[:12]}:" for s in staged], dtype=object)
        at = keep[blank]
        ids[blank] = prefix[file_idx[at]] + row[at].astype(str).astype(object)
    return ids


def _mark_duplicates(
    reasons: _Reasons,
    rec_id: pd.Series,
    staged: list[_Staged],
    file_idx: np.ndarray,
    row: np.ndarray,
) -> None:
    """Quarantine otherwise valid rows whose source ID repeats an earlier one."""
    has_id = reasons.ok & (rec_id != "").to_numpy(dtype=bool)
    file_source = np.array([s.source for s in staged], dtype=object)
    row_source = file_source[file_idx]
    mask = np.zeros(len(rec_id), dtype=bool)
    for source in dict.fromkeys(file_source):  # sources in order of first appearance
        cand = np.flatnonzero(has_id & (row_source == source))
        mask[cand[rec_id.take(cand).duplicated(keep="first").to_numpy()]] = True
    if not mask.any():
        return
    ids = rec_id.to_numpy(dtype=object)
    first_pos = (
        pd.Series(np.flatnonzero(has_id))
        .groupby([row_source[has_id], ids[has_id]], sort=False)
        .transform("first")
    )
    first_of = np.zeros(len(rec_id), dtype=np.int64)
    first_of[has_id] = first_pos.to_numpy()
    names = np.array([s.path.name for s in staged], dtype=object)

    def detail(m: np.ndarray) -> np.ndarray:
        first = first_of[m]
        return (
            "record ID '"
            + ids[m]
            + "' repeats row "
            + row[first].astype(str).astype(object)
            + " of "
            + names[file_idx[first]]
        )

    reasons.mark(mask, "duplicate_id", detail)


def _quarantine(
    staged: list[_Staged],
    reasons: _Reasons,
    bad: np.ndarray,
    file_idx: np.ndarray,
    row: np.ndarray,
) -> pd.DataFrame:
    pos = np.flatnonzero(bad)
    original = np.empty(len(pos), dtype=object)
    for i, s in enumerate(staged):
        sel = file_idx[pos] == i
        if sel.any():
            records = s.original(row[pos[sel]])
            original[sel] = [json.dumps(rec, ensure_ascii=False, default=str) for rec in records]
    return pd.DataFrame(
        {
            "source": np.array([s.source for s in staged], dtype=object)[file_idx[pos]],
            "source_file": np.array([s.path.name for s in staged], dtype=object)[file_idx[pos]],
            "source_row": row[pos],
            "reason": reasons.reason[pos],
            "detail": reasons.detail[pos],
            "original": original,
        },
        columns=QUARANTINE_COLUMNS,
    )


def _file_summaries(staged: list[_Staged], ok: np.ndarray, file_idx: np.ndarray) -> list[dict]:
    accepted = np.bincount(file_idx[ok], minlength=len(staged))
    out = []
    for i, s in enumerate(staged):
        n_in = s.n
        out.append(
            {
                "path": str(s.path),
                "name": s.path.name,
                "sha256": s.sha256,
                "source": s.source,
                "n_in": n_in,
                "n_accepted": int(accepted[i]),
                "n_quarantined": n_in - int(accepted[i]),
            }
        )
    return out


def _empty_result() -> IngestResult:
    data = {c: [] for c in INCIDENT_COLUMNS if c != "geometry"}
    incidents = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy([], []), crs=CRS_BNG)
    incidents = incidents.astype(
        {"source_row": "int64", "month": "datetime64[ns]", "restricted": bool, "snap_point": bool}
    )
    quarantine = pd.DataFrame({c: [] for c in QUARANTINE_COLUMNS}).astype({"source_row": "int64"})
    return IngestResult(incidents[INCIDENT_COLUMNS], quarantine, n_in=0, files=[])
