"""The FastAPI application factory: settings, pack, store, service, routers, error table.

:func:`create_app` wires the pieces together and owns nothing else: the routes live in
:mod:`geo_ssgp.api.routes`, caching and access rules in :mod:`geo_ssgp.api.service`, the
mapping from typed errors to status codes in :mod:`geo_ssgp.api.errors`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from geo_ssgp import pipeline
from geo_ssgp.api import errors, security
from geo_ssgp.api.routes import data, docs, focus_areas, pages, search, uploads
from geo_ssgp.api.service import Service
from geo_ssgp.config import Settings, get_settings
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
        Build the default analyst map in a background thread at start-up, so the first
        page view is served from the cache.

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
    )
    app.state.geo = Service(settings, pack, store)
    errors.install(app)
    security.install(app)
    app.state.html_error = pages.error_page
    # Map documents carry their street lines (about 0.24 MB of text): send them compressed.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_exception_handler(pages.LoginRequired, pages.login_redirect)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    for module in (data, search, focus_areas, uploads, pages, docs):
        app.include_router(module.router)
    if warm:
        _warm(app.state.geo)
    return app


def _warm(service: Service) -> None:
    """Fill the cache with the default analyst map in a daemon thread (start-up never waits)."""
    import threading

    from geo_ssgp.api.auth import User
    from geo_ssgp.errors import StillComputing
    from geo_ssgp.filters import Filters

    def run() -> None:
        for role in ("analyst", "viewer"):
            try:
                service.analyst_map(Filters.of(), User(role))
            except StillComputing:  # the pool goes on building it
                pass

    threading.Thread(target=run, name="geo-ssgp-warm", daemon=True).start()
