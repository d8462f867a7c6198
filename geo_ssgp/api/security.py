"""Browser and transport hardening, applied to every request before any route runs.

:class:`SecurityMiddleware` (pure ASGI, so it sees a request before its body is read):

* **Token links become sessions.** A ``GET`` with ``?token=`` is answered at once with a
  redirect to the same URL without it, carrying a server-side session cookie when the token is
  valid, so the token does not stay in the address bar, the history or a ``Referer``.
* **Cross-site writes refused.** A cookie-authenticated ``POST``/``PUT``/``PATCH``/``DELETE``
  needs an ``Origin`` (or ``Referer``) of this site: HTTP 403 otherwise (CSRF, including from
  another port of the same host). Bearer-token requests carry no ambient credentials and pass.
* **Bounded bodies.** Uploads are checked for credentials, the analyst role and
  ``Content-Length`` before a byte of the body is read; every body is counted as it streams
  and cut off with HTTP 413 past its limit (uploads: ``max_upload_bytes``; others:
  ``max_body_bytes``).
* **Security headers** on every response (:data:`HEADERS`, :func:`csp`).

:func:`redact_tokens` keeps ``token=`` values out of the access log.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from urllib.parse import urlencode, urlsplit

from fastapi import HTTPException
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_ssgp.api.auth import COOKIE, SESSION_COOKIE, authenticate, identify, start_session

#: Paths whose body is an upload (limit ``max_upload_bytes``, analyst only).
UPLOAD_PATHS = ("/api/uploads",)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: The one inline event handler the pages use (the area page's print button), allowed by hash.
INLINE_HANDLERS = ("window.print()",)
#: Headers set on every response.
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def csp(path: str) -> str:
    """The Content-Security-Policy of a response: the app's own assets only.

    Map documents (``/map/...``, Folium output) and the API docs page (``/docs``, FastAPI's
    Swagger UI start-up script; no data in it) need inline scripts; every other page runs
    scripts from ``/static`` only. Images may come from a configured tile server (https).
    """
    inline = "'unsafe-inline'" if path.startswith("/map/") or path == "/docs" else (
        "'unsafe-hashes' " + " ".join(_hash(h) for h in INLINE_HANDLERS)
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {inline}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob: https:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def _error(status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _same_origin(request: Request) -> bool:
    """Whether a write names this site as its origin (``Origin``, else ``Referer``)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return False
    parts = urlsplit(claimed)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc)


class BodyTooLarge(HTTPException):
    """Raised while a body streams past its limit (answered with 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"the request body is larger than {limit:,} bytes")


class SecurityMiddleware:
    """See the module docstring.

    Parameters
    ----------
    app : ASGI app
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then run the app with a bounded body and security headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            early = self.check(request)
        except HTTPException as exc:
            early = _error(exc.status_code, exc.detail, exc.headers)
        path = request.url.path

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp(path))
            await send(message)

        if early is not None:
            await early(scope, receive, send_with_headers)
            return
        limit = self.body_limit(request)
        await self.app(scope, _limited(receive, limit), send_with_headers)

    def body_limit(self, request: Request) -> int:
        """Largest body this request may send."""
        settings = request.app.state.geo.settings
        if request.url.path in UPLOAD_PATHS:
            return settings.max_upload_bytes + 64 * 1024
        return settings.max_body_bytes

    def check(self, request: Request):
        """A response to send instead of running the app, or ``None`` to go on."""
        if request.method == "GET" and "token" in request.query_params:
            return self.exchange_token(request)
        if request.method not in UNSAFE:
            return None
        bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
        cookies = SESSION_COOKIE in request.cookies or COOKIE in request.cookies
        if not bearer and (cookies or request.url.path == "/login"):
            if request.headers.get("origin") or cookies:
                if not _same_origin(request):
                    return _error(403, "cross-site request refused (Origin is not this site)")
        if request.url.path in UPLOAD_PATHS and (denied := self.check_uploader(request)):
            return denied
        length = request.headers.get("content-length", "")
        limit = self.body_limit(request)
        if length.isdigit() and int(length) > limit:
            return _error(413, f"the request body is larger than {limit:,} bytes")
        return None

    def check_uploader(self, request: Request):
        """401/403 for an upload without analyst credentials, before its body is read."""
        role = identify(request)
        if role is None:
            return _error(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
        if role != "analyst":
            return _error(403, f"this needs the analyst role (you are {role})")
        return None

    def exchange_token(self, request: Request):
        """Redirect to the URL without ``token``, with a session when the token is valid."""
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        clean = request.url.path + (f"?{urlencode(query)}" if query else "")
        response = RedirectResponse(clean, status_code=303)
        role = authenticate(request, request.query_params["token"])
        if role:
            start_session(request, response, role)
        return response


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`BodyTooLarge` once more than ``limit`` bytes arrived."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped


_TOKEN = re.compile(r"(token=)[^&\s\"]+", re.I)


def redact_tokens(text: str) -> str:
    """``text`` with every ``token=<value>`` replaced by ``token=[redacted]``."""
    return _TOKEN.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Logging filter: no ``token=`` value reaches a log record (uvicorn's access log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message and arguments; never drop it."""
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        return True


def install(app) -> None:
    """Add the middleware, the session/limiter state and the access-log filter to an app."""
    from geo_ssgp.api.auth import AuthState, FailureLimiter

    settings = app.state.geo.settings
    app.state.auth = AuthState(limiter=FailureLimiter(limit=settings.auth_failures_per_minute))
    app.add_middleware(SecurityMiddleware)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
