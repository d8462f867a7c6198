"""One table from the project's typed errors to HTTP status codes, installed on the app.

Routes hold no ``try``/``except``: a :class:`~geo_ssgp.errors.GeoSsgpError` raised anywhere
below them becomes the status in :data:`STATUS` with the error's message. A 422 names the
parameter at fault in FastAPI's own shape (``detail[0].loc``). A browser asking for a page
(``Accept: text/html``, not under ``/api/``) gets an HTML page instead, from the renderer the
app sets as ``app.state.html_error`` (the page routes' error template). Any other exception is
a bug and gives FastAPI's plain 500, never a silently missing layer.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from geo_ssgp.errors import (
    AssetError,
    BadInput,
    GeoSsgpError,
    IngestError,
    NotEnoughData,
    NotFound,
    PackError,
)

#: Status code of each error class (the first matching class in order wins).
STATUS: dict[type[GeoSsgpError], int] = {
    BadInput: 422,
    NotEnoughData: 422,
    NotFound: 404,
    IngestError: 400,
    PackError: 500,
    AssetError: 500,
}


def status_of(exc: GeoSsgpError) -> int:
    """The HTTP status of an error (500 for an unlisted class)."""
    return next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 500)


def error_body(exc: GeoSsgpError, status: int) -> dict:
    """The JSON body: FastAPI's validation shape for 422, ``{"detail": message}`` otherwise."""
    if status == 422:
        loc = ["query", exc.param] if exc.param else ["query"]
        return {"detail": [{"loc": loc, "msg": exc.message, "type": "value_error"}]}
    return {"detail": exc.message}


def wants_html(request: Request) -> bool:
    """Whether a request is a browser's page request (not the JSON API)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith("/api/")


async def handle(request: Request, exc: GeoSsgpError) -> Response:
    """Exception handler for every :class:`GeoSsgpError`."""
    status = status_of(exc)
    html = getattr(request.app.state, "html_error", None)
    if html is not None and wants_html(request):
        return html(request, exc, status)
    return JSONResponse(error_body(exc, status), status_code=status)


def install(app: FastAPI) -> None:
    """Install the handler on an app."""
    app.add_exception_handler(GeoSsgpError, handle)
