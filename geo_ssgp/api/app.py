"""The FastAPI application factory: pack, store, service, routers, errors, start-up warm-up.

:func:`create_app` wires the pieces together: the routes live in :mod:`geo_ssgp.api.routes`,
caching and access rules in :mod:`geo_ssgp.api.service`, the mapping from typed errors to
status codes in :mod:`geo_ssgp.api.errors`. With ``warm=True`` (``geo-ssgp serve``) the
server prepares the first analyst page in a background thread when it starts
(:func:`warm_first_page`) and then logs ``geo-ssgp ready`` (:func:`log_config` routes that
line through uvicorn's handler).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from geo_ssgp import pipeline
from geo_ssgp.api import errors, security
from geo_ssgp.api.auth import User
from geo_ssgp.api.routes import data, docs, focus_areas, pages, search, uploads
from geo_ssgp.api.service import Service
from geo_ssgp.config import Settings, get_settings
from geo_ssgp.errors import GeoSsgpError, StillComputing
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots import DEFAULT_METHOD
from geo_ssgp.pack import load_pack
from geo_ssgp.store import open_store

DESCRIPTION = """
Hotspot maps, area statistics and focus areas for a community safety partnership.

**Access.** Send `Authorization: Bearer <token>`; tokens and their roles (analyst, pcso,
viewer) come from `GEO_SSGP_TOKENS` (development mode only: `dev-analyst`, `dev-pcso`,
`dev-viewer`). Browsers use a server-side session cookie from `/login`. Writes need analyst;
cookie-authenticated writes need an `Origin` of this site. Too many failed authentications
from one client give 429. Restricted (local) records are used only for analysts: other roles
get aggregates of public records, with counts below `GEO_SSGP_SUPPRESS_BELOW` (default 3)
suppressed together with every figure derived from them (`null` plus a `suppressed` flag).
Every error other than 422 has the body `{"detail": "<message>"}` (`ErrorOut`).
"""


def create_app(
    settings: Settings | None = None, load_sample: bool = True, warm: bool = False
) -> FastAPI:
    """Build the web application.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :func:`geo_ssgp.config.get_settings`.
    load_sample : bool
        Ingest the area pack's sample incidents when the store is empty
        (:func:`geo_ssgp.pipeline.ensure_sample`).
    warm : bool
        When the server starts, fill the cache with what the first analyst page needs
        (:func:`warm_first_page`) in a background thread, then log ``geo-ssgp ready``;
        ``app.state.ready`` (a ``threading.Event``) is set then. Health and every other route
        answer meanwhile.

    Returns
    -------
    fastapi.FastAPI
    """
    settings = settings or get_settings()
    pack = load_pack(settings)
    store = open_store(settings, pack.name)
    if load_sample:
        pipeline.ensure_sample(store, pack)
    app = FastAPI(
        title=f"geo_ssgp: {pack.title}",
        description=DESCRIPTION,
        version="0.1.0",
        docs_url=None,  # served offline by geo_ssgp.api.routes.docs
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.geo = Service(settings, pack, store)
    app.state.ready = threading.Event()
    app.state.warm = warm
    errors.install(app)
    security.install(app)
    app.state.html_error = pages.error_page
    # Map documents and JSON answers are text: send them compressed.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_exception_handler(pages.LoginRequired, pages.login_redirect)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    for module in (data, search, focus_areas, uploads, pages, docs):
        app.include_router(module.router)
    return app


#: Roles whose first analyst page is prepared at start-up.
WARM_ROLES = ("analyst", "viewer")
log = logging.getLogger("geo_ssgp.api")


def _settled(call: Callable[[], Any]) -> Any:
    """The result of a bounded build, waiting through its "still computing" answers."""
    while True:
        try:
            return call()
        except StillComputing:  # the pool goes on building it; wait again
            continue


def page_filters(service: Service, role: str) -> Filters:
    """The filters the analyst page opens with for a role: its first to its last month.

    ``web/static/app/analyst.js`` sets the period to the first and last of ``meta.months``
    and asks for every layer with them, so these are the cache keys the first page hits.

    Parameters
    ----------
    service : Service
    role : str

    Returns
    -------
    Filters
    """
    months = service.meta(role)["months"]
    return Filters.of(months[0], months[-1]) if months else Filters.of()


def warm_first_page(service: Service) -> float:
    """Fill the cache with everything the first analyst page asks for.

    For each of :data:`WARM_ROLES` (analysts first): the page's controls (``meta``) and
    day x hour chart, then, with the page's opening filters (:func:`page_filters`), the
    analyst map document (which computes the layers shown when it opens), the default
    layer's backtest and its GeoJSON (the page's hotspot list); finally the street document
    every map fetches.

    Parameters
    ----------
    service : Service

    Returns
    -------
    float
        Seconds taken.
    """
    t0 = time.perf_counter()
    for role in WARM_ROLES:
        user = User(role)
        service.day_hour(Filters.of(), user)
        filters = page_filters(service, role)
        _settled(lambda user=user, filters=filters: service.analyst_map(filters, user))
        _settled(lambda user=user, filters=filters: service.layer_accuracy(filters, user))
        _settled(
            lambda user=user, filters=filters: service.hotspot_json(DEFAULT_METHOD, filters, user)
        )
    service.street_document()
    return time.perf_counter() - t0


def _warm(app: FastAPI) -> None:
    """:func:`warm_first_page`, then log ``geo-ssgp ready`` and set ``app.state.ready``."""
    try:
        seconds = warm_first_page(app.state.geo)
        log.info("geo-ssgp ready: the first analyst page is cached (%.1f s)", seconds)
    except GeoSsgpError as exc:  # e.g. an empty store: nothing to draw yet
        log.warning("geo-ssgp ready (first analyst page not cached: %s)", exc.message)
    finally:
        app.state.ready.set()


def log_config() -> dict:
    """The logging configuration of uvicorn plus this package's (``geo-ssgp ready``).

    Returns
    -------
    dict
        For ``uvicorn.run(..., log_config=...)``: the ``geo_ssgp`` logger writes through
        uvicorn's default handler (stderr), at INFO.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["geo_ssgp"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the map workers (and, with ``warm``, the warming thread); stop them after.

    Start-up itself never waits for warming; stopping the workers kills a build in progress.
    """
    service: Service = app.state.geo
    service.start_workers()
    if app.state.warm:
        threading.Thread(target=_warm, args=(app,), name="geo-ssgp-warm", daemon=True).start()
    yield
    service.close()
