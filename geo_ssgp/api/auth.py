"""Access: bearer tokens and server-side sessions mapped to the roles analyst, pcso and viewer.

A request is identified by, in order, an ``Authorization: Bearer <token>`` header, a
``session`` cookie (set by the login form, or by a ``?token=`` link, which
:class:`~geo_ssgp.api.security.SecurityMiddleware` exchanges at once for a session and
redirects to the clean URL) or a ``token`` cookie holding a token (scripts). Tokens and their
roles come from :attr:`geo_ssgp.config.Settings.tokens` (``GEO_SSGP_TOKENS``); the
``dev-*`` tokens exist only in development mode (``GEO_SSGP_DEV=1``, ``geo-ssgp serve --dev``).

* no or an unknown token: HTTP 401 (pages redirect to ``/login``);
* too many failed attempts from one client: HTTP 429 with ``Retry-After``;
* writes (uploads, focus-area changes, dataset removal) need ``analyst``: HTTP 403;
* restricted (local) incident records are shown only to analysts; other roles see
  aggregates of public records with small counts suppressed (:mod:`geo_ssgp.api.privacy`).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

#: Roles from least to most privileged.
ROLES = ("viewer", "pcso", "analyst")
#: Cookie holding a token (accepted for scripts; the app itself never sets it).
COOKIE = "token"
#: Cookie holding a server-side session id (set by the login form and ``?token=`` links).
SESSION_COOKIE = "session"

_bearer = HTTPBearer(auto_error=False, description="Token from GEO_SSGP_TOKENS")


@dataclass(frozen=True)
class User:
    """The caller of a request.

    Attributes
    ----------
    role : str
        ``analyst``, ``pcso`` or ``viewer``.
    """

    role: str

    @property
    def is_analyst(self) -> bool:
        """Whether the caller may write and see restricted records."""
        return self.role == "analyst"


def role_of(tokens: dict[str, str], token: str | None) -> str | None:
    """The role of a token, compared in constant time; ``None`` when unknown.

    Parameters
    ----------
    tokens : dict
        Token -> role.
    token : str or None

    Returns
    -------
    str or None
    """
    if not token or len(token) > 512:
        return None
    for known, role in tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            return role
    return None


@dataclass
class Sessions:
    """Server-side sessions: random ids mapped to a role until they expire or log out.

    Parameters
    ----------
    ttl_s : float
        Lifetime of a session in seconds.
    """

    ttl_s: float = 12 * 3600
    _items: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, role: str) -> str:
        """A new session id for a role."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._items[sid] = (role, time.monotonic() + self.ttl_s)
        return sid

    def role(self, sid: str | None) -> str | None:
        """The role of a live session; ``None`` for an unknown or expired id."""
        if not sid:
            return None
        with self._lock:
            item = self._items.get(sid)
            if item is None or item[1] < time.monotonic():
                self._items.pop(sid, None)
                return None
            return item[0]

    def end(self, sid: str | None) -> None:
        """Invalidate a session (logout); the id is refused from then on."""
        with self._lock:
            self._items.pop(sid or "", None)


@dataclass
class FailureLimiter:
    """Counts failed authentications per client and says when to refuse (HTTP 429).

    Parameters
    ----------
    limit : int
        Failures allowed per client within ``window_s``.
    window_s : float
    """

    limit: int = 20
    window_s: float = 60.0
    _failures: dict[str, deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, client: str, now: float) -> deque:
        times = self._failures.setdefault(client, deque())
        while times and times[0] < now - self.window_s:
            times.popleft()
        return times

    def blocked(self, client: str) -> float:
        """Seconds until this client may try again (0 when it may now)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            return max(0.0, times[0] + self.window_s - now) if len(times) >= self.limit else 0.0

    def fail(self, client: str) -> None:
        """Record a failed attempt."""
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())


@dataclass
class AuthState:
    """The app's sessions and failed-attempt counts (``app.state.auth``)."""

    sessions: Sessions = field(default_factory=Sessions)
    limiter: FailureLimiter = field(default_factory=FailureLimiter)


def client_key(request: Request) -> str:
    """The client a failed attempt is counted against (its address)."""
    return request.client.host if request.client else "unknown"


def too_many(retry_after: float) -> HTTPException:
    """HTTP 429 for a client over the failed-authentication limit."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail="too many failed authentication attempts; retry later",
        headers={"Retry-After": str(int(retry_after) + 1)},
    )


def authenticate(request: Request, token: str | None) -> str | None:
    """The role of a presented token, counting failures; 429 while the client is blocked.

    Parameters
    ----------
    request : Request
    token : str or None
        ``None`` (nothing presented) is not a failure.

    Returns
    -------
    str or None

    Raises
    ------
    HTTPException
        429 when the client has failed too often (checked before the token, so a blocked
        client learns nothing about its guesses).
    """
    if token is None:
        return None
    state: AuthState = request.app.state.auth
    wait = state.limiter.blocked(client_key(request))
    if wait:
        raise too_many(wait)
    role = role_of(request.app.state.geo.settings.tokens, token)
    if role is None:
        state.limiter.fail(client_key(request))
    return role


def identify(request: Request) -> str | None:
    """The role of the caller's credentials: bearer header, session cookie, token cookie.

    Raises
    ------
    HTTPException
        429 when the client is over the failed-authentication limit.
    """
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return authenticate(request, credentials.strip())
    role = request.app.state.auth.sessions.role(request.cookies.get(SESSION_COOKIE))
    return role or authenticate(request, request.cookies.get(COOKIE))


def optional_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The caller, or ``None`` without valid credentials (pages use it to redirect to login)."""
    role = identify(request)
    return User(role) if role else None


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The caller; HTTP 401 without a valid token."""
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def require_analyst(user: Annotated[User, Depends(current_user)]) -> User:
    """The caller if an analyst; HTTP 403 otherwise."""
    if not user.is_analyst:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"this needs the analyst role (you are {user.role})"
        )
    return user


def start_session(request: Request, response, role: str) -> None:
    """Start a session for a role and set its cookie.

    The cookie is ``HttpOnly`` and ``SameSite=Strict``, and ``Secure`` when the request came
    over HTTPS (behind a proxy, run uvicorn with ``--proxy-headers``).
    """
    sid = request.app.state.auth.sessions.start(role)
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def end_session(request: Request, response) -> None:
    """Invalidate the caller's session server-side and delete its cookies."""
    request.app.state.auth.sessions.end(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(COOKIE)


CurrentUser = Annotated[User, Depends(current_user)]
Analyst = Annotated[User, Depends(require_analyst)]
