"""Access: bearer tokens mapped to the roles analyst, pcso and viewer.

A request is identified by, in order, an ``Authorization: Bearer <token>`` header, a
``token`` cookie (set by the login form so browser pages and their ``fetch`` calls work) or a
``?token=`` query parameter (a link that logs a browser in). Tokens and their roles come from
:attr:`geo_ssgp.config.Settings.tokens` (``GEO_SSGP_TOKENS``; the development default is
``dev-analyst:analyst,dev-pcso:pcso,dev-viewer:viewer``).

* no or an unknown token: HTTP 401 (pages redirect to ``/login``);
* writes (uploads, focus-area changes) need ``analyst``: HTTP 403 for other roles;
* restricted (local) incident records are shown only to analysts; other roles see aggregates
  with small counts suppressed (:mod:`geo_ssgp.api.privacy`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

#: Roles from least to most privileged.
ROLES = ("viewer", "pcso", "analyst")
#: Name of the cookie the login form sets.
COOKIE = "token"

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
    if not token:
        return None
    for known, role in tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            return role
    return None


def request_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The token a request carries: bearer header, then cookie, then ``?token=``."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    return request.cookies.get(COOKIE) or request.query_params.get("token")


def optional_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The caller, or ``None`` without a valid token (pages use it to redirect to login)."""
    role = role_of(request.app.state.geo.settings.tokens, request_token(request, credentials))
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


CurrentUser = Annotated[User, Depends(current_user)]
Analyst = Annotated[User, Depends(require_analyst)]
