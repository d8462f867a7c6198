"""Query parameters of the HTTP API, gathered in dependency classes.

Each class validates its parameters and turns them into plain values the pipeline functions
take; invalid values give HTTP 422 with a message naming the parameter. ``key()`` gives a
hashable form used to cache layers by their parameters.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import HTTPException, Query, status

from geo_ssgp.schema import API_SLUGS, CRIME_GROUPS, CRIME_TYPES, SOURCES

MONTH_PATTERN = r"^\d{4}-\d{2}$"
_TYPES = {t.casefold(): t for t in CRIME_TYPES} | {k: v for k, v in API_SLUGS.items()}


def invalid(name: str, message: str) -> HTTPException:
    """An HTTP 422 error in FastAPI's shape, naming the query parameter."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["query", name], "msg": message, "type": "value_error"}],
    )


def check_month(name: str, value: str | None) -> str | None:
    """Validate a ``YYYY-MM`` month (format and month number); ``None`` passes."""
    if value is None or value == "":
        return None
    if not re.match(MONTH_PATTERN, value) or not 1 <= int(value[5:]) <= 12:
        raise invalid(name, f"{value!r} is not a month; use YYYY-MM, e.g. 2025-06")
    return value


def crime_types_of(values: list[str] | None, name: str = "crime_type") -> tuple[str, ...]:
    """Resolve crime-type names, API slugs and groups (``asb``, ``violence``, ``crime``).

    Returns
    -------
    tuple of str
        Sorted police.uk names; empty for "all types".
    """
    out: set[str] = set()
    for raw in values or []:
        for item in str(raw).split(","):
            key = item.strip().casefold()
            if not key:
                continue
            if key in CRIME_GROUPS:
                out.update(CRIME_GROUPS[key])
            elif key in _TYPES:
                out.add(_TYPES[key])
            else:
                raise invalid(
                    name,
                    f"unknown crime type {item.strip()!r}; use a police.uk name, an API slug or "
                    f"one of the groups {', '.join(CRIME_GROUPS)}",
                )
    return tuple(sorted(out))


class Filters:
    """Period, crime types and sources shared by the layer, map and summary routes.

    Parameters
    ----------
    from_ : str, optional
        First month ``YYYY-MM`` (query ``from``), inclusive.
    to : str, optional
        Last month ``YYYY-MM``, inclusive.
    crime_type : list of str, optional
        police.uk crime types, API slugs or groups ``asb``/``violence``/``crime``; repeat or
        comma-separate. All types when omitted.
    source : list of str, optional
        Incident sources (``police-uk``, ``local``, ...). All when omitted.
    """

    def __init__(
        self,
        from_: Annotated[
            str | None, Query(alias="from", description="First month, YYYY-MM (inclusive).")
        ] = None,
        to: Annotated[str | None, Query(description="Last month, YYYY-MM (inclusive).")] = None,
        crime_type: Annotated[
            list[str] | None,
            Query(description="Crime type, API slug or group asb|violence|crime; repeatable."),
        ] = None,
        source: Annotated[
            list[str] | None, Query(description=f"Incident source: {', '.join(SOURCES)}.")
        ] = None,
    ) -> None:
        self.start = check_month("from", from_)
        self.end = check_month("to", to)
        if self.start and self.end and self.start > self.end:
            raise invalid("from", f"'from' ({self.start}) is after 'to' ({self.end})")
        self.crime_types = crime_types_of(crime_type)
        sources = sorted({s.strip() for v in source or [] for s in v.split(",") if s.strip()})
        bad = [s for s in sources if s not in SOURCES]
        if bad:
            raise invalid("source", f"unknown source {bad[0]!r}; use one of {', '.join(SOURCES)}")
        self.sources = tuple(sources)

    def key(self) -> tuple:
        """Hashable form for cache keys."""
        return (self.start, self.end, self.crime_types, self.sources)

    def as_dict(self) -> dict:
        """JSON form (``from``, ``to``, ``crime_types``, ``sources``)."""
        return {
            "from": self.start,
            "to": self.end,
            "crime_types": list(self.crime_types),
            "sources": list(self.sources),
        }

    @classmethod
    def of(
        cls,
        start: str | None = None,
        end: str | None = None,
        crime_types: list[str] | tuple[str, ...] | None = None,
        sources: list[str] | tuple[str, ...] | None = None,
    ) -> Filters:
        """Build filters from plain values (e.g. a saved focus area's parameters)."""
        return cls(start, end, list(crime_types or []) or None, list(sources or []) or None)


class AreaParams:
    """Which area level to aggregate to.

    Parameters
    ----------
    level : {"lsoa21", "lsoa11", "ward"}
    """

    def __init__(
        self,
        level: Annotated[
            Literal["lsoa21", "lsoa11", "ward"] | None,
            Query(description="Area level; the pack's finest LSOA level by default."),
        ] = None,
    ) -> None:
        self.level = level


class HotspotParams:
    """Which hotspot method to run (its own defaults apply to its parameters).

    Parameters
    ----------
    method : str, optional
        A method of :data:`geo_ssgp.hotspots.METHODS`; the default method when omitted.
    """

    def __init__(
        self,
        method: Annotated[
            str | None, Query(description="Hotspot method; the default method when omitted.")
        ] = None,
    ) -> None:
        from geo_ssgp import hotspots

        name = method or hotspots.DEFAULT_METHOD
        if name not in hotspots.METHODS:
            raise invalid(
                "method", f"unknown method {name!r}; use one of {', '.join(hotspots.METHODS)}"
            )
        self.method = name
