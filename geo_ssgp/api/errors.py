"""One table from the project's typed errors to HTTP status codes, installed on the app.

Routes hold no ``try``/``except``: a :class:`~geo_ssgp.errors.GeoSsgpError` raised anywhere
below them becomes the status in :data:`STATUS` with the error's message. A 422 names the
parameter at fault in FastAPI's own shape (``detail[0].loc``). Any other exception is a bug
and gives FastAPI's plain 500, never a silently missing layer.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geo_ssgp.errors import (
    AssetError,
    BadInput,
    Forbidden,
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
    Forbidden: 403,
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


async def handle(request: Request, exc: GeoSsgpError) -> JSONResponse:
    """Exception handler for every :class:`GeoSsgpError`."""
    status = status_of(exc)
    return JSONResponse(error_body(exc, status), status_code=status)


def install(app: FastAPI) -> None:
    """Install the handler on an app."""
    app.add_exception_handler(GeoSsgpError, handle)
