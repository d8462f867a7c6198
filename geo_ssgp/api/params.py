"""Query parameters of the HTTP API, gathered in dependencies that build the pipeline's types.

Each dependency turns query parameters into the same values the CLI builds from its options:
:func:`query_filters` gives a :class:`geo_ssgp.filters.Filters` and :class:`HotspotParams`
a method name resolved by :func:`geo_ssgp.filters.resolve_method`. Invalid values raise
:class:`geo_ssgp.errors.BadInput`, which the error table turns into HTTP 422 naming the
parameter.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import Depends, Query

from geo_ssgp.errors import BadInput
from geo_ssgp.filters import Filters, resolve_method
from geo_ssgp.schema import SOURCES


def query_filters(
    from_: Annotated[
        str | None,
        Query(alias="from", max_length=20, description="First month, YYYY-MM (inclusive)."),
    ] = None,
    to: Annotated[
        str | None, Query(max_length=20, description="Last month, YYYY-MM (inclusive).")
    ] = None,
    crime_type: Annotated[
        list[str] | None,
        Query(
            description="police.uk crime type, API slug or group asb|violence|crime (any case); "
            "repeat or comma-separate. All types when omitted."
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        Query(description=f"Incident source: {', '.join(SOURCES)}. All when omitted."),
    ] = None,
    night: Annotated[
        bool,
        Query(
            description="Only the night-time economy window (default Fri/Sat 20:00-04:00); "
            "records without a clock time (all police.uk records) are left out."
        ),
    ] = False,
    subcategory: Annotated[
        list[str] | None,
        Query(
            description="A local log's own category, e.g. Begging or Street drinking (any "
            "case); repeat or comma-separate. Only local (restricted) records carry one, so "
            "this is for analysts only."
        ),
    ] = None,
) -> Filters:
    """Period, crime types, subcategories, sources and night window of the data routes."""
    return Filters.of(from_, to, crime_type, source, night=night, subcategories=subcategory)


#: A route parameter holding the request's :class:`~geo_ssgp.filters.Filters`.
QueryFilters = Annotated[Filters, Depends(query_filters)]

#: Path of the analyst map's layers drawn on demand (``/map/analyst/layer/<layer id>``).
ANALYST_LAYER_PATH = "/map/analyst/layer"


def filter_query(filters: Filters) -> str:
    """The query string that :func:`query_filters` reads back as ``filters``.

    ``restricted`` is left out: the caller's role decides it, never the query.

    Parameters
    ----------
    filters : Filters

    Returns
    -------
    str
        URL-encoded, e.g. ``from=2025-07&to=2025-09&crime_type=Anti-social+behaviour``.
    """
    pairs = [("from", filters.start), ("to", filters.end)]
    pairs += [("crime_type", t) for t in filters.crime_types]
    pairs += [("source", s) for s in filters.sources]
    pairs += [("subcategory", s) for s in filters.subcategories]
    pairs += [("night", "true")] if filters.night else []
    return urlencode([(k, v) for k, v in pairs if v is not None])


def analyst_layer_url(layer_id: str, filters: Filters) -> str:
    """Address of one of the analyst map's layers drawn on demand, for these filters.

    Parameters
    ----------
    layer_id : str
        E.g. ``"hotspots:kde"`` or ``"surface"``.
    filters : Filters

    Returns
    -------
    str
    """
    query = filter_query(filters)
    return f"{ANALYST_LAYER_PATH}/{quote(layer_id, safe=':')}" + (f"?{query}" if query else "")


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
        A method name in any case, or ``default``; the default method when omitted.
    """

    def __init__(
        self,
        method: Annotated[
            str | None,
            Query(description="Hotspot method (any case) or 'default'; default when omitted."),
        ] = None,
    ) -> None:
        self.method = resolve_method(method)


class PlaceParams:
    """Which place a trend is for: at most one of ward, LSOA, focus area, hotspot.

    Parameters
    ----------
    ward : str, optional
        Ward name or code.
    lsoa : str, optional
        LSOA code (the pack's primary level).
    focus_area : int, optional
        Saved focus area id.
    hotspot_rank : int, optional
        Rank of a hotspot of ``method``'s layer for the same filters.
    method : str, optional
        Hotspot method of ``hotspot_rank`` (the default method when omitted).

    Raises
    ------
    BadInput
        When more than one place is given.
    """

    def __init__(
        self,
        ward: Annotated[str | None, Query(max_length=100, description="Ward name or code.")] = None,
        lsoa: Annotated[str | None, Query(max_length=20, description="LSOA code.")] = None,
        focus_area: Annotated[int | None, Query(ge=1, description="Focus area id.")] = None,
        hotspot_rank: Annotated[
            int | None, Query(ge=1, description="Hotspot rank (1 = strongest).")
        ] = None,
        method: Annotated[
            str | None, Query(max_length=50, description="Method of hotspot_rank.")
        ] = None,
    ) -> None:
        given = {
            "ward": ward,
            "lsoa_codes": [lsoa] if lsoa else None,
            "focus_area": focus_area,
            "hotspot": {"method": method, "rank": hotspot_rank} if hotspot_rank else None,
        }
        self.spec = {k: v for k, v in given.items() if v}
        if len(self.spec) > 1:
            raise BadInput(
                "give at most one of ward, lsoa, focus_area, hotspot_rank", param="ward"
            )
