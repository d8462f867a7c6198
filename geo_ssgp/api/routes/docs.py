"""The interactive API documentation (``/docs``), served with no request leaving the app.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, which is blank without internet.
This page uses the Swagger UI files pinned in ``web/package.json`` and copied to
``/static/vendor/swagger-ui`` by ``web/vendor_assets.py`` (``make web-assets``), like the map
assets. ReDoc (``/redoc``) is switched off rather than served from a CDN.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from geo_ssgp.maps import DEFAULT_ASSET_BASE

router = APIRouter(include_in_schema=False)

#: Swagger UI files under the vendor folder.
SWAGGER_BASE = f"{DEFAULT_ASSET_BASE}/swagger-ui"


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for ``/openapi.json`` from the app's own copy (no validator, no CDN)."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} · API",
        swagger_js_url=f"{SWAGGER_BASE}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_BASE}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_BASE}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )
