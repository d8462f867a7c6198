"""JSON and GeoJSON routes under ``/api``: layers, incidents, selections and ranking.

Each route is dependencies -> one :class:`~geo_ssgp.api.service.Service` call -> a response
documented by its ``response_model``. Errors are typed and mapped to status codes by
:mod:`geo_ssgp.api.errors`; no route catches them.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from geo_ssgp.api.auth import Analyst, CurrentUser, User, optional_user
from geo_ssgp.api.errors import error_responses
from geo_ssgp.api.params import AreaParams, HotspotParams, PlaceParams, QueryFilters
from geo_ssgp.api.schemas import (
    AreaLayer,
    Candidates,
    ChangeLayerOut,
    DayHour,
    EmergingLayerOut,
    FiltersIn,
    Health,
    HotspotLayerOut,
    IncidentLayer,
    LayerAccuracy,
    Meta,
    SelectionSummary,
    StreetLayer,
    SummaryRequest,
    TrendOut,
)
from geo_ssgp.api.service import Service
from geo_ssgp.errors import BadInput
from geo_ssgp.filters import Filters, parse_period, resolve_method
from geo_ssgp.hotspots.layer import frame_to_geojson, json_safe

router = APIRouter(prefix="/api", tags=["data"], responses=error_responses(401, 403, 429))

#: Incident properties returned by ``/api/incidents``.
INCIDENT_FIELDS = [
    "incident_id",
    "source",
    "month",
    "crime_type",
    "subcategory",
    "location_text",
    "outcome",
    "restricted",
    "snap_point",
    "lsoa21cd",
    "lsoa11cd",
    "ward_nm",
]


class GeoJSONResponse(JSONResponse):
    """GeoJSON (``application/geo+json``, RFC 7946): the routes' documented response class."""

    media_type = "application/geo+json"


def geojson(body: bytes) -> Response:
    """An already serialised GeoJSON answer."""
    return Response(body, media_type=GeoJSONResponse.media_type)


def json_bytes(body: bytes) -> Response:
    """An already serialised JSON answer."""
    return Response(body, media_type="application/json")


def service(request: Request) -> Service:
    """The app's :class:`Service`."""
    return request.app.state.geo


Svc = Annotated[Service, Depends(service)]


def filters_from_body(body: FiltersIn) -> Filters:
    """Filters from a request body's ``filters`` object (checked like query parameters)."""
    return Filters.of(
        body.from_,
        body.to,
        body.crime_types,
        body.sources,
        night=body.night,
        subcategories=body.subcategories,
    )


@router.get("/health", summary="Service health and data coverage", response_model=Health)
def health(svc: Svc, user: Annotated[User | None, Depends(optional_user)]) -> dict:
    """Whether the service is up, with its pack and public coverage (no token needed).

    ``incidents`` and ``months`` count public records only; ``datasets`` (how many uploads
    are stored) is given to analysts only and is ``null`` for anyone else.
    """
    return svc.health(user)


@router.get("/meta", summary="Choices for the page controls", response_model=Meta)
def meta(svc: Svc, user: CurrentUser) -> dict:
    """Months, crime types and groups, wards, localities, methods and the caller's role."""
    return svc.meta(user.role)


@router.get(
    "/areas",
    summary="Areas with incident statistics (GeoJSON)",
    response_model=AreaLayer,
    response_class=GeoJSONResponse,
)
def area_layer(
    svc: Svc, user: CurrentUser, filters: QueryFilters, params: Annotated[AreaParams, Depends()]
) -> Response:
    """Counts, rates per 1,000 and IMD per area; small counts suppressed for non-analysts."""
    if params.level and not svc.pack.has("layers", params.level):
        raise BadInput(f"the area pack has no {params.level} layer", param="level")

    def compute() -> dict:
        stats = svc.area_stats_for(params.level, filters, user)
        out = frame_to_geojson(stats)
        out["parameters"] = json_safe(stats.attrs.get("area_stats", {}))
        out["suppress_below"] = None if user.is_analyst else svc.settings.suppress_below
        out["night"] = svc.night_scope(filters, user)
        return out

    key = ("areas", params.level, filters.key(), user.is_analyst)
    return geojson(svc.cached_json(key, compute))


@router.get(
    "/hotspots",
    summary="Hotspots of one method (GeoJSON with its parameters)",
    response_model=HotspotLayerOut,
    response_class=GeoJSONResponse,
)
def hotspot_layer(
    svc: Svc, user: CurrentUser, filters: QueryFilters, params: Annotated[HotspotParams, Depends()]
) -> Response:
    """Ranked hotspot polygons; ``parameters`` says how the layer was made.

    A method that cannot run on the selected incidents (too few of them) gives HTTP 422 with
    the method's reason.
    """
    return geojson(svc.hotspot_json(params.method, filters, user))


CellSize = Annotated[
    float | None,
    Query(
        ge=50,
        le=5000,
        description="Grid cell side, metres (default 100; at least 50: police.uk map points "
        "are not more precise).",
    ),
]


@router.get(
    "/emerging",
    summary="Emerging hot and cold spots (GeoJSON, analysts)",
    response_model=EmergingLayerOut,
    response_class=GeoJSONResponse,
)
def emerging_layer(
    svc: Svc,
    user: Analyst,
    filters: QueryFilters,
    unit: Annotated[Literal["grid", "lsoa"], Query(description="Places.")] = "grid",
    cell_size: CellSize = None,
    step: Annotated[
        Literal["month", "week", "day"], Query(description="Time step (week/day: dated logs).")
    ] = "month",
    scheme: Annotated[Literal["arcgis", "chainey"], Query(description="Category rules.")] = (
        "arcgis"
    ),
) -> Response:
    """Space-time Gi* per place and step, Mann-Kendall trend, one category per place.

    Per-cell monthly counts are small, so this is for analysts only.
    """
    options = {"unit": unit, "cell_size": cell_size, "step": step, "scheme": scheme}
    return geojson(json.dumps(svc.emerging(filters, options)).encode())


@router.get(
    "/change",
    summary="Tested change per place between two periods (GeoJSON, analysts)",
    response_model=ChangeLayerOut,
    response_class=GeoJSONResponse,
)
def change_layer(
    svc: Svc,
    user: Analyst,
    before: Annotated[str, Query(description="Earlier period, YYYY-MM:YYYY-MM.")],
    after: Annotated[str, Query(description="Later period, YYYY-MM:YYYY-MM.")],
    filters: QueryFilters,
    unit: Annotated[Literal["grid", "lsoa", "hotspot"], Query(description="Places.")] = "grid",
    cell_size: CellSize = None,
    method: Annotated[str | None, Query(description="Hotspot method for unit=hotspot.")] = None,
    select: Annotated[
        Literal["both", "earlier"], Query(description="Hotspots chosen on both periods or one.")
    ] = "both",
) -> Response:
    """Exact two-Poisson test per month for each place, BH-adjusted, with a change class."""
    (b0, b1), (a0, a1) = parse_period(before, "before"), parse_period(after, "after")
    first, second = filters.replace(start=b0, end=b1), filters.replace(start=a0, end=a1)
    options = {"unit": unit, "cell_size": cell_size, "selection": select}
    options["method"] = resolve_method(method)
    return geojson(json.dumps(svc.change(first, second, options)).encode())


@router.get(
    "/streets",
    summary="Incidents per street segment and their concentration (GeoJSON)",
    response_model=StreetLayer,
    response_class=GeoJSONResponse,
)
def street_layer(svc: Svc, user: CurrentUser, filters: QueryFilters) -> Response:
    """Segments of the OSM streets holding incidents, and the Weisburd concentration figures.

    Incidents are snapped to the nearest segment within a stated distance, preferring the
    street police.uk names; small counts are suppressed for non-analysts.
    """

    def compute() -> dict:
        report = svc.streets(filters, user)
        out = frame_to_geojson(report.segments)
        out["concentration"] = json_safe(report.concentration.to_dict("records"))
        out["parameters"] = json_safe(report.parameters)
        out["attribution"] = report.parameters["attribution"]
        return out

    return geojson(svc.cached_json(("streets", filters.key(), user.is_analyst), compute))


@router.get(
    "/hotspots/accuracy",
    summary="How well the default layer predicted the last months (rolling backtest)",
    response_model=LayerAccuracy,
)
def hotspot_accuracy(svc: Svc, user: CurrentUser, filters: QueryFilters) -> dict:
    """PAI / PEI of the default layer over the last three months.

    Each month is predicted from the six before it, beside counting on the same 50 m
    cells; ``text`` says it in plain words.
    """
    return svc.layer_accuracy(filters, user)


@router.get(
    "/timeofday",
    summary="Incidents by day of week and hour (local logs with a time)",
    response_model=DayHour,
)
def time_of_day(svc: Svc, user: CurrentUser, filters: QueryFilters) -> dict:
    """A 7 x 24 table of the records with a clock time; police.uk records carry the month only.

    ``without_time`` counts the records left out; non-analysts see public records only, so
    their table is empty.
    """
    return svc.day_hour(filters, user)


@router.get(
    "/trends",
    summary="Monthly trend of the district, a ward, an LSOA, a focus area or a hotspot",
    response_model=TrendOut,
    responses=error_responses(404),
)
def trends(
    svc: Svc, user: CurrentUser, filters: QueryFilters, place: Annotated[PlaceParams, Depends()]
) -> dict:
    """Counts per month with the Mann-Kendall test and Sen's slope.

    The test answers "a steady rise or fall beyond chance?"; the knife-crime proxy
    statement comes with the answer when the crime types are the proxy.
    """
    return svc.trend(place.spec, filters, user)


@router.get(
    "/incidents",
    summary="Incidents as points (GeoJSON)",
    response_model=IncidentLayer,
    response_class=GeoJSONResponse,
)
def incident_layer(
    svc: Svc,
    user: CurrentUser,
    filters: QueryFilters,
    limit: Annotated[
        int | None, Query(ge=1, description="At most this many, newest first.")
    ] = None,
) -> Response:
    """Incidents matching the filters; restricted (local) records only for analysts."""

    def compute() -> dict:
        points = svc.filtered(filters, user)
        if limit is not None:
            points = points.sort_values("month", ascending=False, kind="stable").head(limit)
        cols = [c for c in INCIDENT_FIELDS if c in points.columns]
        frame = points[[*cols, "geometry"]].copy()
        frame["month"] = frame["month"].dt.strftime("%Y-%m")
        out = frame_to_geojson(frame)
        out["count"] = len(frame)
        out["restricted_included"] = user.is_analyst
        return out

    key = ("incidents", filters.key(), user.is_analyst, limit)
    return geojson(svc.cached_json(key, compute))


@router.post(
    "/selection/summary",
    summary="Summarise a selection (not saved)",
    response_model=SelectionSummary,
)
def selection_summary(svc: Svc, user: CurrentUser, body: SummaryRequest) -> Response:
    """The focus summary of LSOAs, a drawn polygon, a hotspot, a ward or a locality."""
    filters = filters_from_body(body.filters)
    spec = body.selection.model_dump(exclude_none=True)

    def compute() -> dict:
        sel = svc.selection(spec, filters, user)
        return {**svc.summary(sel, filters, user), "outline": sel.to_geojson()}

    key = ("selection", json.dumps(spec, sort_keys=True), filters.key(), user.is_analyst)
    return json_bytes(svc.cached_json(key, compute))


@router.get(
    "/candidates",
    summary="Pilot candidates ranked by an explainable score",
    response_model=Candidates,
)
def candidates(
    svc: Svc,
    user: CurrentUser,
    filters: QueryFilters,
    method: Annotated[HotspotParams, Depends()],
    unit: Annotated[Literal["lsoa", "hotspot"], Query(description="Rank LSOAs or hotspots.")] = (
        "lsoa"
    ),
    w_count: Annotated[float | None, Query(ge=0, description="Weight of the count.")] = None,
    w_rate: Annotated[float | None, Query(ge=0, description="Weight of the rate.")] = None,
    w_trend: Annotated[float | None, Query(ge=0, description="Weight of the trend.")] = None,
    w_deprivation: Annotated[float | None, Query(ge=0, description="Weight of IMD.")] = None,
    top: Annotated[int, Query(ge=1, le=500)] = 25,
) -> dict:
    """Where should the next intensive-engagement pilot go? Each component with its weight."""
    given = {"count": w_count, "rate": w_rate, "trend": w_trend, "deprivation": w_deprivation}
    weights = {k: v for k, v in given.items() if v is not None}
    table = svc.candidates(unit, method.method, filters, weights, user)
    return {
        "unit": unit,
        "method": method.method if unit == "hotspot" else None,
        "weights": table.attrs.get("weights", {}),
        "components": table.attrs.get("components", {}),
        "filters": filters.as_dict(),
        "rows": json_safe(table.head(top).to_dict("records")),
    }
