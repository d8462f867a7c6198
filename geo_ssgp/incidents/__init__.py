"""Ingest: read incident files of every supported source into one validated Incidents table.

This package owns the first pipeline stage: :func:`read_incidents` reads files
(:mod:`~geo_ssgp.incidents.files`), applies their source format
(:mod:`~geo_ssgp.incidents.readers`), validates and locates every row
(:mod:`~geo_ssgp.incidents.validate`, :mod:`~geo_ssgp.incidents.locate`,
:mod:`~geo_ssgp.incidents.dedupe`) and returns an :class:`IngestResult`
(:mod:`~geo_ssgp.incidents.result`) whose rejected rows sit in a quarantine with one reason
each (:mod:`~geo_ssgp.incidents.quarantine`). The names in ``__all__`` are the public API;
the submodules are its parts.

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
2. ``field_too_long`` -- a text field (location, outcome, ID, date, ...) is longer than the
   ``max_field_chars`` setting (default 1,000 characters);
3. ``bad_date`` -- date or month does not parse (``implausible_month`` outside the window);
4. ``unknown_crime_type``;
5. ``duplicate_id`` -- a source record ID that repeats an earlier *otherwise valid* record of
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

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_ssgp.errors import BadInput, IngestError
from geo_ssgp.incidents.files import expand_paths
from geo_ssgp.incidents.locate import (
    BNG_EAST,
    BNG_NORTH,
    POSTCODE_PATTERN,
    UK_LAT,
    UK_LON,
    normalise_postcode,
)
from geo_ssgp.incidents.readers import (
    GEOJSON_REQUIRED,
    LOCAL_ALIASES,
    POLICE_UK_COLUMNS,
    POLICE_UK_REQUIRED,
    detect_source,
    parse_columns,
    read_file,
)
from geo_ssgp.incidents.result import IngestResult, concat_results, empty_result
from geo_ssgp.incidents.validate import CRIME_SYNONYMS, validate
from geo_ssgp.pack import AreaPack
from geo_ssgp.schema import SOURCES

__all__ = [
    "BNG_EAST",
    "BNG_NORTH",
    "CRIME_SYNONYMS",
    "GEOJSON_REQUIRED",
    "LOCAL_ALIASES",
    "POLICE_UK_COLUMNS",
    "POLICE_UK_REQUIRED",
    "POSTCODE_PATTERN",
    "UK_LAT",
    "UK_LON",
    "IngestError",
    "IngestResult",
    "concat_results",
    "detect_source",
    "normalise_postcode",
    "parse_columns",
    "read_incidents",
    "read_raw",
]


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
    BadInput
        For an unknown ``source``, a bad ``columns`` mapping, or postcode-only rows without
        a ``pack`` that has a postcode table.
    """
    if source is not None and source not in SOURCES:
        raise BadInput(
            f"unknown source {source!r}; expected one of: {', '.join(SOURCES)}", param="source"
        )
    mapping = _mapping(columns)
    for key in mapping:
        if key not in LOCAL_ALIASES:
            raise ValueError(f"column mapping: unknown key {key!r}")
    staged = []
    for path in expand_paths(paths):
        staged.append(read_file(path, source, mapping))
        if progress is not None:
            progress(1)
    if not staged:
        return empty_result()
    return validate(staged, pack)


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
    mapping = _mapping(columns)
    frames = []
    for path in expand_paths(paths):
        staged = read_file(path, source, mapping)
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


def _mapping(columns: Mapping[str, str] | str | None) -> dict[str, str]:
    """A column mapping as a dict (text is parsed with :func:`parse_columns`)."""
    return parse_columns(columns) if isinstance(columns, str) else dict(columns or {})
