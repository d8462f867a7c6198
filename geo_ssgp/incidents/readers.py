"""The source formats: one stage function per format, and the choice between them.

This module owns what each source's columns mean: the police.uk street CSV, police.uk API
JSON, police.uk GeoJSON and local CSV/Excel logs (with the column mapping of
:func:`parse_columns` and the header aliases of :data:`LOCAL_ALIASES`). :func:`read_file`
reads one file (through :mod:`geo_ssgp.incidents.files`) into a
:class:`~geo_ssgp.incidents.staging.Staged` record, and :func:`detect_source` says which
format a file is. A file whose required columns or properties are missing raises
:class:`~geo_ssgp.errors.IngestError`; row values are judged later, in validation.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_ssgp.errors import BadInput, IngestError
from geo_ssgp.incidents.files import (
    csv_header,
    decode,
    parse_json,
    read_bytes,
    read_csv,
    read_excel,
    records_of,
    rows_of,
    sniff,
)
from geo_ssgp.incidents.staging import Stage, Staged, make_stage

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
#: Columns of a police.uk API crime list flattened to CSV (e.g. a street-level radius export).
API_CSV_REQUIRED = ["category", "month", "latitude", "longitude"]

#: Column keys of a local log and the header names recognised for each (case-insensitive;
#: spaces and punctuation count as ``_``). The first name found wins.
LOCAL_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "x"),
    "lat": ("lat", "latitude", "y"),
    "easting": ("easting", "eastings", "east", "x_bng"),
    "northing": ("northing", "northings", "north", "y_bng"),
    "postcode": ("postcode", "post_code", "postal_code"),
    "date": ("date", "incident_date", "reported_date", "occurred", "month"),
    "time": ("time", "incident_time", "time_of_day", "occurred_time"),
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

#: Coordinate keys of a local log that only locate a row as a pair.
_LOCAL_PAIRS = (("lon", "lat"), ("easting", "northing"))


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
    BadInput
        For an unknown or repeated key, or a pair without ``=`` or without a column name.
    """
    out: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        key, sep, column = (s.strip() for s in pair.partition("="))
        if not sep or not column:
            raise BadInput(f"column mapping {pair!r}: expected key=Column", param="columns")
        if key not in LOCAL_ALIASES:
            raise BadInput(
                f"column mapping: unknown key {key!r}; expected one of: "
                + ", ".join(LOCAL_ALIASES),
                param="columns",
            )
        if key in out:
            raise BadInput(f"column mapping: key {key!r} given twice", param="columns")
        out[key] = column
    return out


def detect_source(path: str | Path) -> str:
    """Detect the source format of an incident file from its content.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        One of :data:`geo_ssgp.schema.SOURCES`.

    Raises
    ------
    IngestError
        If the file cannot be read or its format is not recognised.
    """
    path = Path(path)
    data = read_bytes(path)
    kind = sniff(path, data)
    if kind == "excel":
        return "local"
    text = decode(path.name, data)
    if kind == "json":
        return json_source(path.name, parse_json(path.name, text))
    return csv_source(csv_header(path.name, text))


def csv_source(header: list[str]) -> str:
    """Source of a CSV from its header: police.uk street CSV, police.uk API CSV, or local."""
    if looks_police_uk(header):
        return "police-uk"
    return "police-uk-api" if set(API_CSV_REQUIRED) <= set(header) else "local"


def json_source(name: str, doc: Any) -> str:
    """Which police.uk JSON shape ``doc`` is: ``police-uk-geojson`` or ``police-uk-api``.

    Raises
    ------
    IngestError
        For any other JSON document.
    """
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        return "police-uk-geojson"
    if isinstance(doc, list) and all(isinstance(r, dict) and "category" in r for r in doc):
        return "police-uk-api"
    raise IngestError(
        f"{name}: unknown JSON format; expected a police.uk API crime list "
        "or a GeoJSON FeatureCollection"
    )


def looks_police_uk(header: list[str]) -> bool:
    """Whether a CSV header is that of a police.uk street CSV."""
    cols = set(header)
    return "Reported by" in cols or "Falls within" in cols or set(POLICE_UK_REQUIRED) <= cols


def read_file(path: Path, source: str | None, mapping: dict[str, str]) -> Staged:
    """Read one file into stage columns.

    Parameters
    ----------
    path : Path
    source : str, optional
        The format the file must have; ``None`` detects it.
    mapping : dict
        Column mapping for local logs (see :func:`parse_columns`).

    Returns
    -------
    Staged

    Raises
    ------
    IngestError
        For every failure: unreadable file, format other than ``source``, missing columns.
    """
    data = read_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    kind = sniff(path, data)
    if kind == "excel":
        return _read_excel_file(path, sha, data, source, mapping)
    text = decode(path.name, data)
    if kind == "json":
        return _read_json_file(path, sha, text, source)
    return _read_csv_file(path, sha, data, text, source, mapping)


def _read_excel_file(
    path: Path, sha: str, data: bytes, source: str | None, mapping: dict[str, str]
) -> Staged:
    if source not in (None, "local"):
        raise IngestError(f"{path.name}: an Excel workbook cannot be a {source} file")
    raw = read_excel(path.name, data)
    frame = stage_local(path.name, raw, mapping)
    return Staged(path, sha, "local", len(raw), frame, rows_of(raw), raw)


def _read_json_file(path: Path, sha: str, text: str, source: str | None) -> Staged:
    name = path.name
    doc = parse_json(name, text)
    found = json_source(name, doc)
    if source not in (None, found):
        raise IngestError(f"{name}: expected a {source} file, found {found} JSON")
    if found == "police-uk-api":
        return Staged(path, sha, found, len(doc), stage_api(doc), records_of(doc))
    features = doc.get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise IngestError(f"{name}: GeoJSON 'features' must be a list of Feature objects")
    frame = stage_geojson(name, doc, features)
    return Staged(path, sha, found, len(features), frame, records_of(features))


def _read_csv_file(
    path: Path, sha: str, data: bytes, text: str, source: str | None, mapping: dict[str, str]
) -> Staged:
    name = path.name
    header = csv_header(name, text)
    if source == "police-uk-geojson" or (
        source == "police-uk-api" and not set(API_CSV_REQUIRED) <= set(header)
    ):
        raise IngestError(f"{name}: expected {source} JSON, found CSV text")
    detected = source or csv_source(header)
    raw, original = read_csv(name, data, header)
    if detected == "police-uk":
        frame = stage_police_csv(name, raw)
    elif detected == "police-uk-api":
        frame = stage_api_csv(raw)
    else:
        frame = stage_local(name, raw, mapping)
    return Staged(path, sha, detected, len(raw), frame, original, raw)


def _missing(name: str, missing: list[str], what: str = "columns") -> IngestError:
    return IngestError(f"{name}: missing required {what}: {', '.join(missing)}")


def stage_police_csv(name: str, raw: pd.DataFrame) -> Stage:
    """Stage columns of a police.uk street CSV.

    Raises
    ------
    IngestError
        If a column of :data:`POLICE_UK_REQUIRED` is missing.
    """
    missing = [c for c in POLICE_UK_REQUIRED if c not in raw.columns]
    if missing:
        raise _missing(name, missing)
    return make_stage(
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


def stage_api(records: list[dict]) -> Stage:
    """Stage columns of a police.uk API crime list.

    The outcome is ``"category (yyyy-mm)"`` when the record dates it.
    """
    outcome = _pluck(records, "outcome_status", "category")
    when = _pluck(records, "outcome_status", "date")
    dated = (outcome != "") & (when != "")
    outcome[dated] = outcome[dated] + " (" + when[dated] + ")"
    return make_stage(
        rec_id=_pluck(records, "id"),
        date=_pluck(records, "month"),
        crime=_pluck(records, "category"),
        location_text=_pluck(records, "location", "street", "name"),
        outcome=outcome,
        lon=_pluck(records, "location", "longitude"),
        lat=_pluck(records, "location", "latitude"),
    )


def stage_api_csv(raw: pd.DataFrame) -> Stage:
    """Stage columns of a police.uk API crime list flattened to CSV.

    Public police.uk data (snap points, API category slugs); ``id``, ``persistent_id``,
    ``street_name`` and ``location_subtype`` are used when the export carries them.
    """
    return make_stage(
        rec_id=raw.get("persistent_id"),
        date=raw["month"],
        crime=raw["category"],
        location_text=raw.get("street_name"),
        lon=raw["longitude"],
        lat=raw["latitude"],
    )


def stage_geojson(name: str, doc: dict, features: list[dict]) -> Stage:
    """Stage columns of a police.uk GeoJSON FeatureCollection.

    Coordinates are longitude/latitude unless the document's ``crs`` names EPSG:27700.

    Raises
    ------
    IngestError
        If a property of :data:`GEOJSON_REQUIRED` is on no feature.
    """
    props = [f.get("properties") or {} for f in features]
    keys = set().union(*(p.keys() for p in props if isinstance(p, dict))) if props else set()
    missing = [c for c in GEOJSON_REQUIRED if features and c not in keys]
    if missing:
        raise _missing(name, missing, "properties")
    x, y = _point_coordinates(features)
    grid = "27700" in _pluck([doc], "crs", "properties", "name")[0]
    loc = {"east": x, "north": y} if grid else {"lon": x, "lat": y}
    return make_stage(
        rec_id=_pluck(props, "Crime ID"),
        date=_pluck(props, "Month"),
        crime=_pluck(props, "Crime type"),
        location_text=_pluck(props, "Location"),
        outcome=_pluck(props, "Last outcome category"),
        source_lsoa=_pluck(props, "LSOA code"),
        source_lsoa_name=_pluck(props, "LSOA name"),
        **loc,
    )


def _point_coordinates(features: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate text (x, y) of each Point feature; ``""`` without geometry.

    Other geometry becomes a non-numeric coordinate, quarantined as ``bad_coordinates``.
    """
    kind = _pluck(features, "geometry", "type")
    coords = _pluck(features, "geometry", "coordinates", text=False)
    point = np.array(
        [
            k == "Point" and isinstance(c, list) and len(c) >= 2
            for k, c in zip(kind, coords, strict=True)
        ],
        dtype=bool,
    )
    x = np.array(
        [_as_text(c[0]) if p else "" for c, p in zip(coords, point, strict=True)], dtype=object
    )
    y = np.array(
        [_as_text(c[1]) if p else "" for c, p in zip(coords, point, strict=True)], dtype=object
    )
    other = (kind != "") & ~point
    x[other] = kind[other] + " geometry"
    y[other] = "not a Point"
    return x, y


def _header_key(column: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_")


def local_columns(name: str, header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Resolve local-log keys to file columns: the mapping first, then common names.

    Parameters
    ----------
    name : str
        File name, for messages.
    header : list of str
        The file's columns.
    mapping : dict
        Key -> column name given by the user (matched exactly, then case-insensitively).

    Returns
    -------
    dict
        Key of :data:`LOCAL_ALIASES` -> column of ``header``.

    Raises
    ------
    IngestError
        If a mapped column is not in the file, or date, type or a location is missing.
    """
    by_key: dict[str, str] = {}
    for col in header:
        by_key.setdefault(_header_key(col), col)
    found = _mapped_columns(name, header, by_key, mapping)
    used = set(found.values())
    for key, aliases in LOCAL_ALIASES.items():
        if key in found:
            continue
        col = next((by_key[a] for a in aliases if a in by_key and by_key[a] not in used), None)
        if col is not None:
            found[key] = col
            used.add(col)
    missing = _missing_local(found)
    if missing:
        raise _missing(name, missing)
    return found


def _mapped_columns(
    name: str, header: list[str], by_key: dict[str, str], mapping: dict[str, str]
) -> dict[str, str]:
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
    return found


def _missing_local(found: dict[str, str]) -> list[str]:
    """Keys a local log lacks: date, type and a location (a whole pair or a postcode)."""
    missing = [k for k in ("date", "type") if k not in found]
    has_location = "postcode" in found or any(a in found and b in found for a, b in _LOCAL_PAIRS)
    if not has_location:
        halves = [b if a in found else a for a, b in _LOCAL_PAIRS if (a in found) != (b in found)]
        missing += halves or ["location (lon+lat, easting+northing or postcode)"]
    return missing


def stage_local(name: str, raw: pd.DataFrame, mapping: dict[str, str]) -> Stage:
    """Stage columns of a local log (CSV or Excel), found by :func:`local_columns`.

    A half coordinate pair is left out: it cannot locate anything.
    """
    found = local_columns(name, list(raw.columns), mapping)
    for a, b in _LOCAL_PAIRS:
        if (a in found) != (b in found):
            found.pop(a, None)
            found.pop(b, None)
    col = {key: raw[c] for key, c in found.items()}
    return make_stage(
        rec_id=col.get("id"),
        date=col.get("date"),
        time=col.get("time"),
        crime=col.get("type"),
        location_text=col.get("location"),
        outcome=col.get("outcome"),
        lon=col.get("lon"),
        lat=col.get("lat"),
        east=col.get("easting"),
        north=col.get("northing"),
        postcode=col.get("postcode"),
    )
