"""Validation: check the staged rows of all files at once and split them in two.

This module owns the check order (location, field length, date, crime type, duplicate
ID; the first failing check gives a row its one quarantine reason), month parsing of the
accepted date forms, and the mapping of crime-type text in *data* to police.uk category
names. It turns the rows that pass into the Incidents table and the rest into the
quarantine, with a per-file summary, so that rows in = accepted + quarantined for every file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ssgp.config import CRS_BNG, default_settings
from geo_ssgp.incidents.dedupe import incident_ids, mark_duplicates
from geo_ssgp.incidents.locate import locate, points_of
from geo_ssgp.incidents.quarantine import Reasons, quarantine_table
from geo_ssgp.incidents.result import IngestResult
from geo_ssgp.incidents.staging import STAGE_COLUMNS, Columns, Staged, Text, gather, or_blank
from geo_ssgp.pack import AreaPack
from geo_ssgp.schema import API_SLUGS, CRIME_TYPES, INCIDENT_COLUMNS

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

_ISO_DATE_RE = (
    r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})(?:[-/](?P<d>\d{1,2}))?"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_UK_DATE_RE = (
    r"^(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_DATE_FORMATS = "yyyy-mm-dd, dd/mm/yyyy or yyyy-mm"


def validate(staged: Sequence[Staged], pack: AreaPack | None) -> IngestResult:
    """Check all staged rows together and split them into incidents and quarantine.

    Parameters
    ----------
    staged : sequence of Staged
        The files of one call, in order; at least one.
    pack : AreaPack, optional
        For rows located by postcode alone.

    Returns
    -------
    IngestResult

    Raises
    ------
    ValueError
        If rows are located by postcode only and ``pack`` has no postcode table.
    """
    sizes = [s.n for s in staged]
    n = sum(sizes)
    cols = {c: gather(staged, c) for c in STAGE_COLUMNS}
    frame = {c: Text(cols[c], n) for c in STAGE_COLUMNS}
    file_idx = np.repeat(np.arange(len(staged)), sizes)
    row = np.concatenate([np.arange(k, dtype=np.int64) for k in sizes])

    reasons, x, y = locate(frame, pack)
    _check_lengths(reasons, cols)
    month = _check_dates(reasons, frame, or_blank(cols["date"], n))
    occurred, timed = parse_datetimes(or_blank(cols["date"], n), or_blank(cols["time"], n))
    crime = _check_crime_types(reasons, frame, or_blank(cols["crime"], n))
    rec_id = or_blank(cols["rec_id"], n)
    mark_duplicates(reasons, rec_id, staged, file_idx, row)

    keep = np.flatnonzero(reasons.ok)
    kept_file = file_idx[keep]
    sources = pd.Series([s.source for s in staged], dtype="str")
    police = (sources != "local").to_numpy()[kept_file]
    data = {
        "incident_id": incident_ids(rec_id, staged, file_idx, row, keep),
        "source": sources.take(kept_file).reset_index(drop=True),
        "source_file": pd.Series([s.path.name for s in staged], dtype="str")
        .take(kept_file)
        .reset_index(drop=True),
        "source_row": row[keep],
        "month": month[keep],
        "occurred_at": occurred[keep],
        "time_known": timed[keep],
        "crime_type": crime.take(keep).reset_index(drop=True),
        "subcategory": _subcategories(cols["crime"], keep, police),
        "location_text": _text_out(cols["location_text"], keep),
        "outcome": _text_out(cols["outcome"], keep),
        "restricted": ~police,
        "source_lsoa": _text_out(cols["source_lsoa"], keep),
        "source_lsoa_name": _text_out(cols["source_lsoa_name"], keep),
        "snap_point": police,
    }
    incidents = gpd.GeoDataFrame(data, geometry=points_of(x[keep], y[keep]), crs=CRS_BNG)
    return IngestResult(
        incidents[INCIDENT_COLUMNS],
        quarantine_table(staged, reasons, file_idx, row),
        n_in=n,
        files=_file_summaries(staged, reasons.ok, file_idx),
    )


def _subcategories(crimes: pd.Series | None, keep: np.ndarray, police: np.ndarray) -> pd.Series:
    """A local row's own category text as given (stripped); blank for police.uk rows.

    Local logs keep categories police.uk does not have (Street Aware's "Begging", "Street
    drinking"): ``crime_type`` maps them to the police.uk category, this keeps the original.
    """
    given = _text_out(crimes, keep).str.strip()
    return given.where(~pd.Series(police, index=given.index), "")


def _text_out(column: pd.Series | None, keep: np.ndarray) -> pd.Series:
    """The kept rows of a stage column (blank text when no file has it)."""
    if column is None:
        return pd.Series(np.full(len(keep), "", dtype=object), dtype="str")
    return column.take(keep).reset_index(drop=True)


def plausible_months() -> tuple[np.datetime64, np.datetime64]:
    """First and last plausible month: ``earliest_month`` setting to next month (UTC)."""
    first = np.datetime64(default_settings().earliest_month, "M")
    last = np.datetime64(dt.datetime.now(dt.UTC).strftime("%Y-%m"), "M") + 1
    return first, last


def _check_lengths(reasons: Reasons, cols: dict[str, pd.Series | None]) -> None:
    """``field_too_long`` for rows with a text longer than the ``max_field_chars`` setting.

    Runs before the date and crime-type checks, whose details would quote the text; a row
    already rejected for its location keeps that reason.
    """
    limit = default_settings().max_field_chars
    for name, column in cols.items():
        if column is None:
            continue
        length = column.str.len().to_numpy()
        reasons.mark(
            length > limit,
            "field_too_long",
            lambda m, name=name, length=length: np.array(
                [f"{name} is {k:,} characters, more than the {limit:,} allowed" for k in length[m]],
                dtype=object,
            ),
        )


def _check_dates(reasons: Reasons, frame: Columns, dates: pd.Series) -> np.ndarray:
    """Month of each row; ``bad_date`` or ``implausible_month`` where it cannot be used.

    Blank and unparsable dates are ``bad_date``; months outside :func:`plausible_months` are
    ``implausible_month``.
    """
    month, ok = parse_months(dates)
    first, last = plausible_months()
    months = month.astype("datetime64[M]")
    outside = ok & ((months < first) | (months > last))
    reasons.mark(
        outside,
        "implausible_month",
        lambda m: "month "
        + pd.Series(month[m]).dt.strftime("%Y-%m").to_numpy(dtype=object)
        + f" is outside the plausible window {first} to {last}",
    )
    sdate = frame["date"]
    reasons.mark(
        ~ok,
        "bad_date",
        lambda m: np.where(
            sdate[m] == "",
            "date is blank",
            "date '" + sdate[m] + f"' does not parse (expected {_DATE_FORMATS})",
        ),
    )
    return month


def _check_crime_types(reasons: Reasons, frame: Columns, crimes: pd.Series) -> pd.Series:
    """police.uk category of each row; ``unknown_crime_type`` where there is none."""
    codes, names = map_crime_types(crimes)
    scrime = frame["crime"]
    reasons.mark(
        pd.isna(names[codes]),
        "unknown_crime_type",
        lambda m: "crime type '" + scrime[m] + "' is not a police.uk category or known synonym",
    )
    return pd.Series(names, dtype="str").take(codes)


def parse_months(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """First day of the month of each date text, and whether it parsed.

    Parameters
    ----------
    values : pandas.Series of str
        ``yyyy-mm-dd`` (optionally with a time), ``dd/mm/yyyy`` (UK day first; ``-`` or
        ``.`` also separate) or ``yyyy-mm``; impossible dates (31 February) do not parse.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``datetime64[ns]`` months (NaT where unparsable) and a boolean array.
    """
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


_CLOCK_RE = (
    r"(?:^|[T ])(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


def parse_datetimes(dates: pd.Series, times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Date and time of each row, to the minute, where the source gives a day.

    Parameters
    ----------
    dates : pandas.Series of str
        Date texts as :func:`parse_months` reads them; a time may follow the date
        (``2025-06-15 22:40``, ``15/06/2025 22:40``).
    times : pandas.Series of str
        A separate time column (``22:40``, ``22.40``, ``22:40:05``), blank when none; used
        when the date text carries no time.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``datetime64[ns]`` (NaT where there is no day: police.uk's ``YYYY-MM``) and whether
        a valid clock time was given (False: midnight stands for "some time that day").
    """
    text = dates.astype(str) + "|" + times.astype(str)
    codes, uniques = pd.factorize(text)
    if not len(uniques):
        return np.array([], dtype="datetime64[ns]"), np.array([], dtype=bool)
    both = pd.Series(np.asarray(uniques, dtype=object), dtype=object).str.split("|", n=1)
    date_text, time_text = both.str[0].str.strip(), both.str[1].str.strip()
    iso, uk = date_text.str.extract(_ISO_DATE_RE), date_text.str.extract(_UK_DATE_RE)
    use_iso = iso["y"].notna()
    parts = pd.DataFrame({k: iso[k].where(use_iso, uk[k]) for k in ("y", "m", "d")})
    nums = parts.apply(pd.to_numeric, errors="coerce")
    day = pd.to_datetime(
        pd.DataFrame({"year": nums["y"], "month": nums["m"], "day": nums["d"]}), errors="coerce"
    )
    clock = date_text.str.extract(_CLOCK_RE)
    clock = clock.where(
        clock["h"].notna(), time_text.str.extract(r"^(?P<h>\d{1,2})[:.](?P<mi>\d{2})")
    )
    hours, minutes = pd.to_numeric(clock["h"]), pd.to_numeric(clock["mi"])
    timed = (hours < 24) & (minutes < 60) & day.notna()
    offset = pd.to_timedelta(hours.where(timed, 0) * 60 + minutes.where(timed, 0), unit="min")
    stamp = (day + offset).to_numpy(dtype="datetime64[ns]")
    return stamp[codes], timed.to_numpy(dtype=bool)[codes]


def _crime_key(values: pd.Series) -> pd.Series:
    return values.str.lower().str.replace(r"[-_\s]+", " ", regex=True).str.strip()


@lru_cache(maxsize=1)
def _crime_table() -> dict[str, str]:
    """Crime-type key -> police.uk category: names and API slugs (schema), then synonyms.

    Not :func:`geo_ssgp.filters.resolve_crime_types`: that resolves what a *user* asks for,
    raises on an unknown name and expands groups (``violence`` is three categories), while
    a *data* row must map to exactly one category or be quarantined.
    """
    table = {_crime_key(pd.Series([t])).iloc[0]: t for t in CRIME_TYPES}
    table.update({_crime_key(pd.Series([s])).iloc[0]: t for s, t in API_SLUGS.items()})
    table.update(CRIME_SYNONYMS)
    return table


def map_crime_types(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Map crime-type text in data to police.uk category names.

    Parameters
    ----------
    values : pandas.Series of str
        police.uk names (any case), API slugs or :data:`CRIME_SYNONYMS` keys; hyphens,
        underscores and runs of white space count as one space.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(codes, names)``: row ``i`` maps to ``names[codes[i]]``, ``None``/NaN when unknown.
    """
    codes, uniques = pd.factorize(values)
    keys = _crime_key(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    return codes, keys.map(_crime_table()).to_numpy(dtype=object)


def _file_summaries(staged: Sequence[Staged], ok: np.ndarray, file_idx: np.ndarray) -> list[dict]:
    """Per file: path, name, sha256, source and its rows in, accepted and quarantined."""
    accepted = np.bincount(file_idx[ok], minlength=len(staged))
    return [
        {
            "path": str(s.path),
            "name": s.path.name,
            "sha256": s.sha256,
            "source": s.source,
            "n_in": s.n,
            "n_accepted": int(accepted[i]),
            "n_quarantined": s.n - int(accepted[i]),
        }
        for i, s in enumerate(staged)
    ]
