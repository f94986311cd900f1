"""Who is calling, and what their role lets them do.

Users, tokens and roles are :mod:`taxgate.services.users`; this module finds the caller
of an HTTP request: under ``/v1`` from its bearer token only, under ``/web`` from the
session cookie only (:mod:`taxgate.services.sessions`: server-side, expiring, revoked at
logout; the cookie is never an API token). Every route declares the roles it admits with
:func:`allow`; a route that declares none admits nobody (deny by default), and
:data:`PUBLIC` marks the few that need no token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from taxgate.errors import ForbiddenError, RateLimitedError, UnauthenticatedError
from taxgate.http.refusals import ANONYMOUS, UNKNOWN, refused
from taxgate.services import sessions
from taxgate.services.users import Principal, lookup
from taxgate.storage.audit_log import AuditLog
from taxgate.storage.tables import ROLES
from taxgate.workspace import Workspace

COOKIE = "taxgate_session"
WEB = "/web"


def is_web(request: Request) -> bool:
    path = request.url.path
    return path == WEB or path.startswith(WEB + "/")


def web_session(request: Request) -> sessions.Live | None:
    """The live web session of the request's cookie, if any (its user and form token)."""
    sid = request.cookies.get(COOKIE, "")
    if not sid:
        return None
    ws = request.app.state.ws
    idle = getattr(request.app.state.settings, "session_idle_seconds", sessions.IDLE_SECONDS)
    with ws.store.session() as s:
        return sessions.find_session(s, sid, time.time(), idle)


PUBLIC: frozenset[str] = frozenset({"public"})

bearer = HTTPBearer(auto_error=False, description="A token from `taxgate users add`.")


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller: on the pages from the session cookie, on the API from the bearer token
    (a page's cookie opens nothing on the API, a token nothing on the pages); 401 without."""
    if is_web(request):
        live = web_session(request)
        if live is None:
            refused(request, user=ANONYMOUS, status=401, reason="no live session")
            raise UnauthenticatedError("sign in first")
        request.state.principal = live.who
        request.state.csrf = live.csrf
        return live.who
    token = credentials.credentials if credentials is not None else None
    if not token:
        refused(request, user=ANONYMOUS, status=401, reason="no token")
        raise UnauthenticatedError("a bearer token is required")
    ws = request.app.state.ws
    with ws.store.session() as s:
        who = lookup(s, token)
    if who is None:
        refused(request, user=UNKNOWN, status=401, reason="unknown or inactive token")
        raise UnauthenticatedError("the token is not valid")
    limiter = request.app.state.limiter
    if who.role == "agency" and who.agency:
        wait = limiter.take(who.agency)
        if wait > 0:
            refused(request, user=who.name, status=429, reason="over the agency's rate limit")
            raise RateLimitedError(
                f"agency `{who.agency}` is over its rate limit", retry_after=round(wait)
            )
    request.state.principal = who
    return who


def allow(*roles: str) -> Callable[[Request, Principal], Principal]:
    """A dependency admitting only ``roles``; every route names its roles with it."""
    admitted = frozenset(roles)
    unknown = admitted - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    if not admitted:
        raise ValueError("a route must admit at least one role")

    def dependency(request: Request, who: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if who.role not in admitted:
            raise ForbiddenError(f"role `{who.role}` may not do this")
        return who

    dependency.roles = admitted  # type: ignore[attr-defined]
    return dependency


def login(request: Request, token: str, origin: str) -> Principal | None:
    """Check a token and log the login (success or failure) in the audit log."""
    ws: Workspace = request.app.state.ws
    client = request.client.host if request.client else "unknown"
    limiter = getattr(request.app.state, "login_limiter", None) or request.app.state.limiter
    if limiter.take(f"login:{client}") > 0:
        refused(request, user=UNKNOWN, status=429, reason="too many logins", event="login")
        raise RateLimitedError("too many logins from this address", retry_after=60)
    with ws.store.session() as s:
        who = lookup(s, token)
        if who is not None:
            AuditLog(s, user=who.name, origin=origin).append(
                "login", f"user:{who.name}", {"role": who.role}
            )
    if who is None:  # written like every refusal: a flood of failed logins is summarised
        refused(
            request, user=UNKNOWN, status=401, reason="unknown or inactive token", event="login"
        )
    return who
