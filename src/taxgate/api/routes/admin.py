"""Health, the caller, logins, users and roles, and the oversight report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy import select, text

from taxgate.errors import UnauthenticatedError, UnavailableError
from taxgate.http import auth
from taxgate.http.auth import PUBLIC, authenticate, login
from taxgate.http.common import ADMIN, AUDITOR, ERRORS, EVERYONE, OFFICER, workspace
from taxgate.http.routing import route
from taxgate.services import users
from taxgate.services.oversight import report_data
from taxgate.services.sessions import close_user_sessions
from taxgate.services.users import Principal
from taxgate.storage.audit_log import AuditLog
from taxgate.storage.tables import User
from taxgate.workspace import Workspace

router = APIRouter(prefix="/v1", responses=ERRORS)
Who = Annotated[Principal, Depends(authenticate)]
Ws = Annotated[Workspace, Depends(workspace)]
Role = Literal["agency", "officer", "reviewer", "auditor", "admin"]


@route(router, "GET", "/health", PUBLIC, tags=["service"])
def health(ws: Ws) -> dict[str, Any]:
    """Whether the service and its store answer."""
    try:
        with ws.store.session() as s:
            s.execute(text("SELECT 1"))
    except Exception:
        raise UnavailableError("the store does not answer") from None
    return {"status": "ok", "store": ws.store.engine.dialect.name}


@route(router, "GET", "/me", EVERYONE, tags=["service"])
def me(who: Who) -> dict[str, Any]:
    """Who the token belongs to."""
    return {"name": who.name, "role": who.role, "agency": who.agency}


@route(router, "POST", "/session", PUBLIC, tags=["service"])
def session(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(auth.bearer)],
) -> dict[str, Any]:
    """Log in: check the bearer token and record the login, or its failure, in the audit log."""
    token = credentials.credentials if credentials is not None else ""
    who = login(request, token, "api") if token else None
    if who is None:
        raise UnauthenticatedError("the token is not valid")
    return {"name": who.name, "role": who.role, "agency": who.agency}


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    agency: str | None = Field(default=None, min_length=1, max_length=64)


class UserChange(BaseModel):
    role: Role | None = None
    agency: str | None = Field(default=None, min_length=1, max_length=64)
    active: bool | None = None


def _user(u: User) -> dict[str, Any]:
    return {"name": u.name, "role": u.role, "agency": u.agency_code, "active": u.active}


@route(router, "GET", "/users", [ADMIN], tags=["users"])
def list_users(ws: Ws) -> dict[str, Any]:
    """Every user (never their tokens)."""
    with ws.store.session() as s:
        return {"users": [_user(u) for u in s.scalars(select(User).order_by(User.name))]}


@route(router, "POST", "/users", [ADMIN], tags=["users"], status_code=201)
def add_user(body: NewUser, who: Who, ws: Ws) -> dict[str, Any]:
    """Create a user; the token is in this answer only (the store keeps its hash)."""
    with ws.store.session() as s:
        token = users.add_user(
            s,
            AuditLog(s, user=who.name, origin="api"),
            body.name,
            body.role,
            body.agency,
            by=who.name,
        )
    return {"name": body.name.strip(), "role": body.role, "agency": body.agency, "token": token}


@route(router, "PATCH", "/users/{name}", [ADMIN], tags=["users"])
def change_user(name: str, body: UserChange, who: Who, ws: Ws) -> dict[str, Any]:
    """Change a user's role, agency or standing (logged as a permission change)."""
    with ws.store.session() as s:
        user = users.change_user(
            s,
            AuditLog(s, user=who.name, origin="api"),
            name,
            role=body.role,
            agency=body.agency,
            active=body.active,
            by=who.name,
        )
        if not user.active:
            close_user_sessions(s, user.name)  # as `taxgate users disable` does
        return _user(user)


@route(router, "GET", "/reports/oversight", [OFFICER, AUDITOR, ADMIN], tags=["reports"])
def oversight(ws: Ws) -> dict[str, Any]:
    """The oversight numbers: counts by status, code, agency, statute and field."""
    data = report_data(ws)
    return {
        "title": data.title,
        "generated_at": data.generated_at,
        "rulebook_versions": list(data.rulebook_versions),
        "totals": dict(data.totals),
        "by_code": dict(data.by_code),
        "by_agency": {k: dict(v) for k, v in data.by_agency.items()},
        "by_statute": {k: dict(v) for k, v in data.by_statute.items()},
        "fields_disclosed": dict(data.fields_disclosed),
        "fields_withheld": dict(data.fields_withheld),
        "audit": dict(data.audit),
    }


@route(
    router,
    "GET",
    "/reports/oversight.html",
    [OFFICER, AUDITOR, ADMIN],
    tags=["reports"],
    response_class=HTMLResponse,
)
def oversight_html(ws: Ws) -> HTMLResponse:
    """The oversight report as a page."""
    from taxgate.reports.html import render_html
    from taxgate.services.oversight import oversight_data

    return HTMLResponse(render_html(*oversight_data(ws)))
