"""HTML pages (Jinja2 templates from ``web/templates``) and the map documents they embed.

Pages accept the same tokens as the API; a browser logs in once through ``/login`` (or a
``?token=`` link), which sets an HTTP-only ``token`` cookie. Without a valid token a page
redirects to the login form. Maps are separate documents (``/map/...``) shown in an
``<iframe>``, so changing a filter reloads only the map, never the page around it.
"""

from __future__ import annotations

import datetime as dt
import gzip
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from geo_ssgp import reports
from geo_ssgp.api.auth import (
    CurrentUser,
    User,
    authenticate,
    end_session,
    optional_user,
    start_session,
)
from geo_ssgp.api.params import ANALYST_LAYER_PATH, HotspotParams, QueryFilters
from geo_ssgp.api.routes.data import Svc
from geo_ssgp.api.routes.search import FocusRef
from geo_ssgp.api.service import MapOverlays, Service
from geo_ssgp.config import default_settings
from geo_ssgp.errors import BadInput, GeoSsgpError
from geo_ssgp.filters import Filters, parse_month, parse_period, resolve_crime_types
from geo_ssgp.hotspots import METHODS
from geo_ssgp.maps.streets import STREETS_PATH

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(default_settings().templates_dir))

#: Attribution lines shown in every page footer.
PAGE_ATTRIBUTION = reports.PAGE_ATTRIBUTION


class LoginRequired(Exception):
    """Raised by page routes without a valid token; answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def page_user(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The caller of a page; redirects to the login form without a valid token."""
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


PageUser = Annotated[User, Depends(page_user)]


def login_redirect(request: Request, exc: LoginRequired) -> RedirectResponse:
    """Exception handler: send the browser to the login form."""
    return RedirectResponse(f"/login?next={quote(exc.next_url, safe='')}", status_code=303)


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target




def render(request: Request, name: str, user: User | None, **context) -> HTMLResponse:
    """Render a page template with the common context."""
    svc: Service = request.app.state.geo
    return templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "pack": svc.pack,
            "attribution": PAGE_ATTRIBUTION,
            "year": dt.date.today().year,
            **context,
        },
    )


#: Headers of map documents and their layers: the browser may keep them for a minute.
MAP_CACHE = {"Cache-Control": "private, max-age=60"}


def _map(request: Request, page: str) -> HTMLResponse:
    return HTMLResponse(page, headers=MAP_CACHE)


def error_page(request: Request, exc: GeoSsgpError, status: int) -> HTMLResponse:
    """The HTML page of an error met by a page route (e.g. an unknown area: 404)."""
    user = optional_user(request, None)
    response = render(request, "error.html", user, status=status, message=exc.message)
    response.status_code = status
    return response


# login ---------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    """The login form: one field for the access token."""
    dev = request.app.state.geo.settings.dev
    return render(request, "login.html", None, next=_safe_next(next), error=None, dev=dev)


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the token (failures count towards 429) and start a server-side session."""
    role = authenticate(request, token)
    if not role:
        dev = request.app.state.geo.settings.dev
        response = render(
            request, "login.html", None, next=_safe_next(next), error="That token is not valid.",
            dev=dev,
        )
        response.status_code = 401
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(request, response, role)
    return response


@router.get("/logout")
def logout(request: Request) -> Response:
    """End the session server-side and delete its cookie."""
    response = RedirectResponse("/login", status_code=303)
    end_session(request, response)
    return response


# analyst -------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def analyst_page(request: Request, svc: Svc, user: PageUser) -> HTMLResponse:
    """The analyst workspace: filters, map, focus-area panel, ranking and upload."""
    meta = svc.meta(user.role)
    (b0, b1), (a0, a1) = reports.meeting_periods(meta["months"], n=svc.settings.recent_months)
    meta["change_periods"] = {"before": [b0, b1], "after": [a0, a1]}
    day_hour = svc.day_hour(Filters.of(), user)
    return render(request, "analyst.html", user, meta=meta, day_hour=day_hour)


class OverlayParams:
    """The analyst map's space-time overlays (analysts only): emerging and change layers."""

    def __init__(
        self,
        emerging: Annotated[
            bool, Query(description="Draw the emerging hot/cold-spot categories.")
        ] = False,
        change_before: Annotated[
            str | None, Query(max_length=20, description="Change layer: earlier YYYY-MM:YYYY-MM.")
        ] = None,
        change_after: Annotated[
            str | None, Query(max_length=20, description="Change layer: later YYYY-MM:YYYY-MM.")
        ] = None,
        change_all: Annotated[
            bool, Query(description="Change layer: every place, not only significant ones.")
        ] = False,
    ) -> None:
        change = None
        if change_before or change_after:
            if not (change_before and change_after):
                raise BadInput("the change layer needs both periods", param="change_after")
            change = (
                parse_period(change_before, "change_before"),
                parse_period(change_after, "change_after"),
            )
        self.overlays = MapOverlays(emerging=emerging, change=change, change_all=change_all)


@router.get("/map/analyst", response_class=HTMLResponse)
def analyst_map(
    request: Request,
    svc: Svc,
    user: PageUser,
    filters: QueryFilters,
    params: Annotated[OverlayParams, Depends()],
) -> HTMLResponse:
    """The analyst map document for the filters (shown in the page's iframe)."""
    return _map(request, svc.analyst_map(filters, user, params.overlays))


@router.get(ANALYST_LAYER_PATH + "/{layer_id}")
def analyst_layer(svc: Svc, user: CurrentUser, layer_id: str, filters: QueryFilters) -> Response:
    """One analyst-map layer drawn when first shown: its page document (JSON) for the filters.

    ``layer_id`` is ``hotspots:<method>`` for a hotspot layer off when the map opens, or
    ``surface`` (the KDE surface); the map document names the URL of each.
    """
    body = svc.analyst_layer(layer_id, filters, user)
    return Response(body, media_type="application/json", headers=MAP_CACHE)


@router.get(STREETS_PATH)
def street_layer(request: Request, svc: Svc, user: CurrentUser) -> Response:
    """The pack's street lines that every served map fetches: one compressed JSON document.

    ``ETag`` is the data's version (``If-None-Match`` gives 304) and the browser keeps it for
    a day; map documents ask for it with that version in the URL, so a new pack's streets
    are fetched afresh.
    """
    body, version = svc.street_document()
    headers = {
        "ETag": f'"{version}"',
        "Cache-Control": "private, max-age=86400",
        "Vary": "Accept-Encoding",
    }
    if f'"{version}"' in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
    else:
        body = gzip.decompress(body)
    return Response(body, media_type="application/json", headers=headers)


# PCSO ----------------------------------------------------------------------------------------


@router.get("/area", response_class=HTMLResponse)
def area_index(
    request: Request,
    svc: Svc,
    user: PageUser,
    q: Annotated[
        str | None, Query(max_length=100, description="Street, postcode or place to find.")
    ] = None,
) -> HTMLResponse:
    """Wards by name, each linking to its PCSO view; with ``q``, the places found first."""
    matches = svc.search(q) if q else None
    wards = svc.wards().to_dict("records")
    return render(request, "area_index.html", user, wards=wards, q=q or "", matches=matches)


@router.get("/area/{key}", response_class=HTMLResponse)
def area_page(
    request: Request, svc: Svc, user: PageUser, key: str, focus: FocusRef | None = None
) -> HTMLResponse:
    """The PCSO view of a ward or LSOA: last months' incidents, hotspots, streets, types.

    With ``focus`` (a search result's ``ref``) the map zooms to the result and highlights it.
    """
    place = svc.place(key)
    spec = {"ward": place.code} if place.kind == "ward" else {"lsoa_codes": [place.code]}
    return render(
        request,
        "area.html",
        user,
        place=place,
        threshold=svc.settings.suppress_below,
        trend=svc.trend(spec, Filters.of(), user),
        focus=svc.area_focus(place, focus) if focus else None,
        **svc.area_view(place, user),
    )


@router.get("/map/area/{key}", response_class=HTMLResponse)
def area_map(request: Request, svc: Svc, user: PageUser, key: str) -> HTMLResponse:
    """The PCSO map document of a ward or LSOA."""
    return _map(request, svc.area_map(svc.place(key), user))


# meeting -------------------------------------------------------------------------------------


class MeetingParams:
    """The two periods compared in the meeting view, the method and the crime types."""

    def __init__(
        self,
        a_from: Annotated[str | None, Query(description="Earlier period, first month.")] = None,
        a_to: Annotated[str | None, Query(description="Earlier period, last month.")] = None,
        b_from: Annotated[str | None, Query(description="Later period, first month.")] = None,
        b_to: Annotated[str | None, Query(description="Later period, last month.")] = None,
        method: Annotated[str | None, Query()] = None,
        crime_type: Annotated[list[str] | None, Query()] = None,
    ) -> None:
        given = {"a_from": a_from, "a_to": a_to, "b_from": b_from, "b_to": b_to}
        self.periods = {k: parse_month(v, k) for k, v in given.items()}
        self.method = HotspotParams(method).method
        self.crime_types = tuple(resolve_crime_types(crime_type or []))


def _meeting(svc: Service, params: MeetingParams, user: User) -> dict:
    context = svc.meeting(params.method, params.periods, params.crime_types, user)
    methods = {k: v.title for k, v in METHODS.items()}
    return {**context, "methods": methods, "threshold": svc.settings.suppress_below}


@router.get("/meeting", response_class=HTMLResponse)
def meeting_page(
    request: Request, svc: Svc, user: PageUser, params: Annotated[MeetingParams, Depends()]
) -> HTMLResponse:
    """Two periods side by side, top hotspots with change, district against county."""
    return render(request, "meeting.html", user, **_meeting(svc, params, user))


def _bins(text: str | None) -> tuple[float, ...] | None:
    """Class breaks from ``bins=1,5,12`` (increasing numbers); ``None`` when not given."""
    if not text:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise BadInput(f"{text!r}: give increasing numbers separated by commas", "bins") from exc
    if len(values) > 20 or list(values) != sorted(set(values)):
        raise BadInput(f"{text!r}: give up to 20 increasing numbers", param="bins")
    return values


@router.get("/map/meeting", response_class=HTMLResponse)
def meeting_map(
    request: Request,
    svc: Svc,
    user: PageUser,
    filters: QueryFilters,
    params: Annotated[HotspotParams, Depends()],
    bins: Annotated[
        str | None, Query(max_length=300, description="Class breaks shared by both periods.")
    ] = None,
) -> HTMLResponse:
    """The map document of one meeting period (classes ``bins`` when given)."""
    return _map(request, svc.meeting_map(params.method, filters, user, bins=_bins(bins)))


@router.get("/map/meeting/difference", response_class=HTMLResponse)
def meeting_difference_map(
    request: Request, svc: Svc, user: PageUser, params: Annotated[MeetingParams, Depends()]
) -> HTMLResponse:
    """The map document of the meeting's tested change per LSOA."""
    data = _meeting(svc, params, user)
    return _map(request, svc.meeting_difference_map(data["before"], data["after"], user))


@router.get("/meeting/report.html", response_class=HTMLResponse)
def meeting_report(
    request: Request, svc: Svc, user: PageUser, params: Annotated[MeetingParams, Depends()]
) -> HTMLResponse:
    """The meeting view as one self-contained HTML file (assets inlined) to circulate."""
    data = _meeting(svc, params, user)
    bins = tuple(data["bins"])
    maps_html = [
        svc.meeting_map(params.method, data[period], user, standalone=True, bins=bins)
        for period in ("before", "after")
    ]
    maps_html.append(svc.meeting_difference_map(data["before"], data["after"], user, True))
    context = {k: v for k, v in data.items() if k not in ("methods", "threshold")}
    page = reports.meeting_report(
        context,
        maps_html,
        svc.pack,
        svc.settings,
        methods=data["methods"],
        threshold=data["threshold"],
        user=user,
    )
    filename = reports.report_filename(svc.pack, data["after"])
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return HTMLResponse(page, headers=headers)
