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
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from geo_ssgp.errors import (
    AlreadyStored,
    AssetError,
    BadInput,
    Forbidden,
    GeoSsgpError,
    IngestError,
    NotEnoughData,
    NotFound,
    PackError,
    StaleWrite,
    StillComputing,
)

#: Status code of each error class (the first matching class in order wins).
STATUS: dict[type[GeoSsgpError], int] = {
    AlreadyStored: 409,
    BadInput: 422,
    NotEnoughData: 422,
    NotFound: 404,
    Forbidden: 403,
    StaleWrite: 412,
    StillComputing: 503,
    IngestError: 400,
    PackError: 500,
    AssetError: 500,
}


class ErrorOut(BaseModel):
    """The body of every error response other than 422: one human-readable message."""

    detail: str = Field(description="What went wrong, in words a user can act on.")


#: What each documented error status means in this API.
DESCRIPTIONS = {
    400: "The uploaded file cannot be read; nothing was stored.",
    401: "No valid token or session (send `Authorization: Bearer <token>`).",
    403: "Your role may not do this (writes and restricted records need analyst), or a "
    "cookie-authenticated write came from another origin.",
    404: "No such focus area, dataset, place or hotspot.",
    409: "The same file was stored by a concurrent upload; nothing changed.",
    412: "The focus area changed since you read it (`If-Match` does not match its ETag).",
    413: "The request body is larger than the configured limit.",
    429: "Too many failed authentication attempts from this client; retry later.",
    503: "The layer is still being computed or took too long; retry shortly.",
}


def error_responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` entries for these status codes, all with :class:`ErrorOut`.

    Parameters
    ----------
    *codes : int
        Keys of :data:`DESCRIPTIONS`.

    Returns
    -------
    dict
        For a route's or router's ``responses=``.
    """
    json_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    return {
        code: {"model": ErrorOut, "description": DESCRIPTIONS[code], "content": json_body}
        for code in codes
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


#: Seconds a client is asked to wait before retrying a 503 "still computing".
RETRY_AFTER_S = 3
#: A map document still being built: it reloads itself (no script needed).
STILL_COMPUTING_HTML = (
    '<!doctype html><html><head><meta charset="utf-8">'
    f'<meta http-equiv="refresh" content="{RETRY_AFTER_S}"><title>Computing</title></head>'
    "<body><p>Still computing this map; it reloads by itself in a few seconds.</p></body></html>"
)


def wants_html(request: Request) -> bool:
    """Whether a request is a browser's page request (not the JSON API)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith("/api/")


async def handle(request: Request, exc: GeoSsgpError) -> Response:
    """Exception handler for every :class:`GeoSsgpError`.

    A 503 (still computing) carries ``Retry-After``; for a map document (``/map/...``,
    shown in an iframe) it is a small page that reloads itself, sent as 202 Accepted (the
    build goes on; a browser shows the page instead of an error). A browser's page request
    gets the app's HTML error page; the API gets JSON.
    """
    status = status_of(exc)
    if status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        if request.url.path.startswith("/map/"):
            return HTMLResponse(STILL_COMPUTING_HTML, status_code=202, headers=headers)
        return JSONResponse(error_body(exc, status), status_code=503, headers=headers)
    html = getattr(request.app.state, "html_error", None)
    if html is not None and wants_html(request):
        return html(request, exc, status)
    return JSONResponse(error_body(exc, status), status_code=status)


def install(app: FastAPI) -> None:
    """Install the handler on an app."""
    app.add_exception_handler(GeoSsgpError, handle)
