"""The one way to say which incidents an analysis uses, and the resolvers behind it.

:class:`Filters` (period, crime types, sources, restricted records) is built from plain
values by the CLI, the API, the notebook and the tests alike; :meth:`Filters.apply` is the
single incident filter every stage uses. Each user-facing name has exactly one resolver:

- :func:`resolve_crime_types`: police.uk names (any case), API slugs and groups
  (``asb``, ``violence``, ``crime``, any case);
- :func:`parse_month` / :func:`month_start`: ``YYYY-MM`` months;
- :func:`resolve_method`: hotspot method names (``default``, any case);
- :func:`resolve_sources`: incident source names;
- :func:`resolve_subcategories`: a local log's own categories (``subcategory``, e.g.
  ``Begging``, ``Street drinking``), matched in any case; :func:`subcategory_counts` lists
  those a table holds.

It also owns the one night-time economy rule, :func:`night_time_mask` (``Filters.night``;
settings ``night_days``, ``night_start``, ``night_end``): only records with a clock time
(``time_known``, local logs) can be in it; police.uk records carry the month only.

Every resolver raises :class:`~geo_ssgp.errors.BadInput` naming the parameter at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo_ssgp.config import get_settings
from geo_ssgp.errors import BadInput
from geo_ssgp.schema import (
    API_SLUGS,
    CRIME_GROUPS,
    CRIME_TYPES,
    DEFAULT_METHOD,
    HOTSPOT_METHODS,
    SOURCES,
)

#: Month text accepted from users: ``YYYY-MM``.
MONTH_PATTERN = r"^\d{4}-\d{2}$"
_MONTH_TEXT = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2}([ T].*)?)?$")
_TYPES = {t.casefold(): t for t in CRIME_TYPES} | dict(API_SLUGS)
#: Day names, Monday first (pandas ``dayofweek`` order).
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Said wherever times are shown.
MONTH_ONLY_NOTE = "police.uk records carry the month only; times come from local logs"
#: A night-time window: nights starting on these days, first hour, hour it ends.
NightWindow = tuple[tuple[str, ...], int, int]


def _items(values: str | Iterable[str] | None) -> list[str]:
    """Split a string or strings on commas into stripped, non-empty items."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [item.strip() for v in values for item in str(v).split(",") if item.strip()]


def resolve_crime_types(values: str | Iterable[str], param: str = "crime_type") -> list[str]:
    """Resolve crime-type names, API slugs and group names to police.uk category names.

    Parameters
    ----------
    values : str or iterable of str
        Each item (or comma-separated part) is a police.uk category name (any case,
        ``"Burglary"``), an API slug (``"violent-crime"``) or a group of
        :data:`~geo_ssgp.schema.CRIME_GROUPS` (``"asb"``, ``"ASB"``, ``"violence"``).
    param : str
        Parameter name reported in the error.

    Returns
    -------
    list of str
        Category names in :data:`~geo_ssgp.schema.CRIME_TYPES` order, without repeats.

    Raises
    ------
    BadInput
        Naming the first item that is none of the above.
    """
    wanted: set[str] = set()
    for item in _items(values):
        key = item.casefold()
        if key in CRIME_GROUPS:
            wanted.update(CRIME_GROUPS[key])
        elif key in _TYPES:
            wanted.add(_TYPES[key])
        else:
            raise BadInput(
                f"unknown crime type {item!r}; use a police.uk name, an API slug or one of "
                f"the groups {', '.join(CRIME_GROUPS)}",
                param=param,
            )
    return [t for t in CRIME_TYPES if t in wanted]


def parse_month(value: str | None, param: str = "month") -> str | None:
    """Check a user-given ``YYYY-MM`` month; ``None`` and ``""`` mean "no bound".

    Parameters
    ----------
    value : str or None
    param : str
        Parameter name reported in the error (``"from"``, ``"to"``).

    Returns
    -------
    str or None
        The month as given.

    Raises
    ------
    BadInput
        If the text is not ``YYYY-MM`` with a month from 01 to 12.
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not re.match(MONTH_PATTERN, text) or not 1 <= int(text[5:]) <= 12:
        raise BadInput(f"{value!r} is not a month; use YYYY-MM, e.g. 2025-06", param=param)
    return text


def parse_period(value: str, param: str = "period") -> tuple[str, str]:
    """Check a user-given period ``YYYY-MM:YYYY-MM`` (or one month ``YYYY-MM``).

    Parameters
    ----------
    value : str
    param : str
        Parameter name reported in the error (``"before"``, ``"after"``).

    Returns
    -------
    (str, str)
        First and last month.

    Raises
    ------
    BadInput
        If a part is not a month or the first month is after the last.
    """
    parts = str(value).split(":")
    if len(parts) > 2 or not value:
        raise BadInput(f"{value!r} is not a period; use YYYY-MM:YYYY-MM", param=param)
    first, last = parse_month(parts[0], param), parse_month(parts[-1], param)
    if first > last:
        raise BadInput(f"{value!r}: the first month is after the last", param=param)
    return first, last


def month_start(value: str | pd.Timestamp | date | pd.Period) -> pd.Timestamp:
    """The first day of the month a value falls in.

    Parameters
    ----------
    value : str, Timestamp, date or Period
        ``"YYYY-MM"``, ``"YYYY-MM-DD"``, a timestamp, a date or a monthly period.

    Returns
    -------
    pandas.Timestamp
        Midnight on the first of that month.

    Raises
    ------
    BadInput
        If the value is not a date or month.
    """
    if isinstance(value, str) and not _MONTH_TEXT.match(value.strip()):
        raise BadInput(f"{value!r} is not a month; use YYYY-MM, e.g. 2025-06", param="month")
    try:
        return pd.Period(value, freq="M").to_timestamp()
    except (ValueError, TypeError) as exc:
        raise BadInput(
            f"{value!r} is not a month; use YYYY-MM, e.g. 2025-06", param="month"
        ) from exc


def month_text(value: Any) -> str | None:
    """``"YYYY-MM"`` of a month-like value (``None`` for missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return month_start(value).strftime("%Y-%m")


def resolve_method(name: str | None, param: str = "method") -> str:
    """Registry name of a hotspot method (``None``/``"default"`` -> the default method).

    Parameters
    ----------
    name : str or None
        A method name in any case (``"KDE"``, ``"grid-count"``) or ``"default"``.
    param : str
        Parameter name reported in the error.

    Returns
    -------
    str
        A name of :data:`~geo_ssgp.schema.HOTSPOT_METHODS`.

    Raises
    ------
    BadInput
        For an unknown method; the message lists the known ones.
    """
    key = DEFAULT_METHOD if name in (None, "") else str(name).strip().casefold()
    key = DEFAULT_METHOD if key == "default" else key
    if key not in HOTSPOT_METHODS:
        known = ", ".join(["default", *HOTSPOT_METHODS])
        raise BadInput(f"unknown hotspot method {name!r}; use one of: {known}", param=param)
    return key


def resolve_sources(values: str | Iterable[str] | None, param: str = "source") -> list[str]:
    """Check incident source names (``police-uk``, ``local``, ...); sorted, without repeats.

    Raises
    ------
    BadInput
        Naming the first unknown source.
    """
    out = sorted(set(_items(values)))
    bad = [s for s in out if s not in SOURCES]
    if bad:
        raise BadInput(f"unknown source {bad[0]!r}; use one of {', '.join(SOURCES)}", param=param)
    return out


def resolve_subcategories(values: str | Iterable[str] | None) -> list[str]:
    """Subcategory names as given (stripped, blanks dropped), without repeats in any case.

    A subcategory is a local log's own category kept beside the police.uk ``crime_type``
    (Street Aware's "Begging" and "Street drinking" are both "Anti-social behaviour").
    Names are matched in any case by :func:`filter_incidents`; one the data does not hold
    selects nothing (the CLI then refuses the empty result).

    Parameters
    ----------
    values : str or iterable of str
        Names; each may be comma-separated.

    Returns
    -------
    list of str
        In the order given, the first spelling of each name kept.
    """
    seen: dict[str, str] = {}
    for item in _items(values):
        seen.setdefault(" ".join(item.split()).casefold(), " ".join(item.split()))
    return list(seen.values())


def subcategory_counts(incidents: pd.DataFrame) -> dict[str, int]:
    """How many records carry each subcategory, names merged as the filter matches them.

    Parameters
    ----------
    incidents : pandas.DataFrame
        With a ``subcategory`` column (missing: no subcategories).

    Returns
    -------
    dict
        Name (its most common spelling) -> count of records, in any case and with
        spaces normalised; blank ones (police.uk) are left out. Sorted by name.
    """
    if "subcategory" not in incidents or incidents.empty:
        return {}
    names = incidents["subcategory"].astype("string").fillna("").str.split().str.join(" ")
    names = names[names.str.len() > 0]
    if names.empty:
        return {}
    spelled = names.groupby(names.str.casefold()).agg(lambda v: v.value_counts().index[0])
    counts = names.str.casefold().value_counts()
    return {spelled[k]: int(counts[k]) for k in sorted(counts.index)}


def _subcategory_mask(incidents: pd.DataFrame, names: Iterable[str]) -> np.ndarray:
    """Records whose ``subcategory`` is one of ``names`` (any case, spaces normalised)."""
    wanted = {n.casefold() for n in resolve_subcategories(list(names))}
    if "subcategory" not in incidents:
        return np.zeros(len(incidents), dtype=bool)
    given = incidents["subcategory"].astype("string").fillna("")
    key = given.str.split().str.join(" ").str.casefold()
    return key.isin(wanted).to_numpy(dtype=bool)


def timed(incidents: pd.DataFrame) -> pd.Series:
    """Clock times of the incidents that have one (``time_known``), NaT elsewhere."""
    if "occurred_at" not in incidents:
        return pd.Series(pd.NaT, index=incidents.index, dtype="datetime64[ns]")
    when = pd.to_datetime(incidents["occurred_at"])
    known = incidents["time_known"].astype(bool) if "time_known" in incidents else when.notna()
    return when.where(known)


def night_window() -> NightWindow:
    """The configured night-time economy window (settings ``night_days/start/end``)."""
    settings = get_settings()
    return tuple(settings.night_days), settings.night_start, settings.night_end


def night_label(window: NightWindow) -> str:
    """A window as text, e.g. ``"Fri/Sat nights 20:00-04:00"``."""
    days, start, end = window
    return f"{'/'.join(days)} nights {start:02d}:00-{end:02d}:00"


def night_time_mask(
    incidents: pd.DataFrame,
    days: tuple[str, ...] = ("Fri", "Sat"),
    start: int = 20,
    end: int = 4,
) -> np.ndarray:
    """Which incidents fall in the night-time economy window.

    Parameters
    ----------
    incidents : pandas.DataFrame
        With ``occurred_at`` and ``time_known``; incidents without a clock time are never in.
    days : tuple of str
        Nights starting on these days (``Mon`` .. ``Sun``).
    start, end : int
        First hour of the night and the hour it ends (next morning when ``end <= start``),
        so with the default Saturday 01:00 belongs to Friday night.

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    BadInput
        For an unknown day name.
    """
    bad = [d for d in days if d not in DAYS]
    if bad:
        raise BadInput(f"unknown day {bad[0]!r}; use {', '.join(DAYS)}", param="night_days")
    when = timed(incidents)
    hour = when.dt.hour
    # an hour before ``end`` belongs to the night that started the day before
    carried = ((hour < end) & (end <= start)).astype(int)
    night_of = (when - pd.to_timedelta(carried, unit="D")).dt.day_of_week
    wanted = night_of.isin([DAYS.index(d) for d in days])
    if end <= start:
        in_hours = (hour >= start) | (hour < end)
    else:
        in_hours = (hour >= start) & (hour < end)
    return (wanted & in_hours & when.notna()).to_numpy(dtype=bool)


def night_scope(incidents: pd.DataFrame, window: NightWindow | None = None) -> dict:
    """What the night-time filter did to a selection, for the answer to say so.

    Parameters
    ----------
    incidents : pandas.DataFrame
        The selection *before* the night-time filter.
    window : NightWindow, optional
        Defaults to :func:`night_window`.

    Returns
    -------
    dict
        ``window`` (text), ``in_window`` (records kept), ``without_time`` (records left out
        because they carry no clock time, e.g. every police.uk record) and ``note``.
    """
    window = window or night_window()
    without = int(len(incidents) - timed(incidents).notna().sum())
    return {
        "window": night_label(window),
        "in_window": int(night_time_mask(incidents, *window).sum()),
        "without_time": without,
        "note": f"{MONTH_ONLY_NOTE}: {without:,} records without a time are left out",
    }


@dataclass(frozen=True)
class Filters:
    """Which incidents an analysis uses: period, crime types, subcategories, sources, restricted.

    Build it with :meth:`of`, which resolves and checks every value. Empty tuples mean
    "no condition" (all types, all sources).

    Attributes
    ----------
    start, end : str or None
        First and last month ``YYYY-MM``, both included.
    crime_types : tuple of str
        police.uk category names.
    sources : tuple of str
        Source names.
    subcategories : tuple of str
        A local log's own categories (``Begging``); matched in any case. Only local
        (restricted) records carry one, so a subcategory filter selects restricted records.
    restricted : bool or None
        ``False`` public records only, ``True`` restricted (local) only, ``None`` both.
    night : bool
        Only the night-time economy window (:func:`night_time_mask` with the settings'
        window); records without a clock time (all police.uk records) are left out.
    """

    start: str | None = None
    end: str | None = None
    crime_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    restricted: bool | None = None
    night: bool = False
    subcategories: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        start: str | None = None,
        end: str | None = None,
        crime_types: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        restricted: bool | None = None,
        night: bool = False,
        subcategories: str | Iterable[str] | None = None,
    ) -> Filters:
        """Resolve and check plain values (the CLI's options, the API's query, a saved area).

        Raises
        ------
        BadInput
            For a bad month, ``start`` after ``end``, an unknown crime type or source.
        """
        first, last = parse_month(start, "from"), parse_month(end, "to")
        if first and last and first > last:
            raise BadInput(f"'from' ({first}) is after 'to' ({last})", param="from")
        return cls(
            start=first,
            end=last,
            crime_types=tuple(resolve_crime_types(crime_types or [])),
            sources=tuple(resolve_sources(sources)),
            restricted=restricted,
            night=bool(night),
            subcategories=tuple(resolve_subcategories(subcategories)),
        )

    def replace(self, **changes: Any) -> Filters:
        """A copy with some fields changed (values are checked again)."""
        values = {
            "start": self.start,
            "end": self.end,
            "crime_types": self.crime_types,
            "sources": self.sources,
            "restricted": self.restricted,
            "night": self.night,
            "subcategories": self.subcategories,
        }
        values.update(changes)
        return Filters.of(**values)

    def key(self) -> tuple:
        """Hashable form for cache keys."""
        return (
            self.start,
            self.end,
            self.crime_types,
            self.sources,
            self.restricted,
            self.night,
            tuple(s.casefold() for s in self.subcategories),
        )

    def as_dict(self) -> dict:
        """JSON form (``from``, ``to``, ``crime_types``, ``sources``, ``night``, subcategories)."""
        return {
            "from": self.start,
            "to": self.end,
            "crime_types": list(self.crime_types),
            "sources": list(self.sources),
            "night": self.night,
            "subcategories": list(self.subcategories),
        }

    def apply(self, incidents: pd.DataFrame) -> pd.DataFrame:
        """The incidents these filters select (index, columns and ``attrs`` kept)."""
        return filter_incidents(
            incidents,
            start=self.start,
            end=self.end,
            crime_types=list(self.crime_types) or None,
            sources=list(self.sources) or None,
            restricted=self.restricted,
            night=night_window() if self.night else None,
            subcategories=list(self.subcategories) or None,
        )


def filter_incidents(
    incidents: pd.DataFrame,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    crime_types: str | Iterable[str] | None = None,
    sources: str | Iterable[str] | None = None,
    restricted: bool | None = None,
    night: NightWindow | None = None,
    subcategories: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Select incidents by month range, crime type, subcategory, source, restriction and night.

    The one incident filter (:meth:`Filters.apply` calls it). ``None`` means "no
    condition"; conditions combine with AND. Index, column order and ``attrs`` are kept.

    Parameters
    ----------
    incidents : pandas.DataFrame or geopandas.GeoDataFrame
        Table with ``month`` (and ``crime_type``, ``source``, ``restricted`` for the
        filters that use them).
    start, end : str or Timestamp, optional
        First and last month, **both included**: ``"2025-01"`` to ``"2025-03"`` is three
        months. Any date is reduced to its month.
    crime_types : str or iterable of str, optional
        Category names, API slugs or group names (see :func:`resolve_crime_types`). An
        empty list selects nothing.
    sources : str or iterable of str, optional
        Source names (``police-uk``, ``police-uk-api``, ``police-uk-geojson``, ``local``).
    restricted : bool, optional
        ``False`` keeps public records only, ``True`` restricted (local) records only.
    night : NightWindow, optional
        Keep only records in this night-time window (:func:`night_time_mask`); records
        without a clock time are left out.
    subcategories : str or iterable of str, optional
        A local log's own categories (any case, see :func:`resolve_subcategories`);
        police.uk records have none, so they are left out.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        The selected rows (same type as the input).

    Raises
    ------
    BadInput
        For an unknown crime type, a value that is not a month, or ``start`` after ``end``.
    """
    mask = np.ones(len(incidents), dtype=bool)
    first = month_start(start) if start is not None else None
    last = month_start(end) if end is not None else None
    if first is not None and last is not None and first > last:
        raise BadInput(f"start {first:%Y-%m} is after end {last:%Y-%m}", param="from")
    if incidents.empty:  # an empty store has no columns to filter on
        return incidents
    if first is not None or last is not None:
        months = pd.to_datetime(incidents["month"])
        if first is not None:
            mask &= (months >= first).to_numpy()
        if last is not None:
            mask &= (months < last + pd.offsets.MonthBegin(1)).to_numpy()
    if crime_types is not None:
        wanted = resolve_crime_types(crime_types) if _items(crime_types) else []
        mask &= incidents["crime_type"].isin(wanted).to_numpy()
    if sources is not None:
        mask &= incidents["source"].isin(_items(sources)).to_numpy()
    if restricted is not None:
        mask &= (incidents["restricted"].astype(bool) == bool(restricted)).to_numpy()
    if night is not None:
        mask &= night_time_mask(incidents, *night)
    if subcategories is not None:
        mask &= _subcategory_mask(incidents, _items(subcategories))
    return incidents[mask]
