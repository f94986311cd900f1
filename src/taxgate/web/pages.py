"""The pages under ``/web``: a token login that sets an HttpOnly, SameSite=Strict cookie,
then views, and the reviewer's approve/refuse form. Every page declares its roles like the
API routes do. The cookie is never sent on a cross-site request, so another site cannot
post the form in a reviewer's name.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from taxgate.audit.checkpoint import parse_checkpoint
from taxgate.errors import TaxgateError, UsageError, http_status
from taxgate.http.auth import COOKIE, PUBLIC, authenticate, login
from taxgate.http.common import ADMIN, AGENCY, AUDITOR, OFFICER, REVIEWER, workspace
from taxgate.http.routing import route
from taxgate.services import batches as batch_svc
from taxgate.services import decisions as decision_svc
from taxgate.services.review import decide_review, pending
from taxgate.services.users import Principal
from taxgate.storage import audit_log
from taxgate.workspace import Workspace

router = APIRouter(prefix="/web", include_in_schema=False)
Who = Annotated[Principal, Depends(authenticate)]
Ws = Annotated[Workspace, Depends(workspace)]
TEMPLATES = Path(__file__).resolve().parent / "templates"
SEES_DECISIONS = frozenset({AGENCY, OFFICER, REVIEWER, AUDITOR})


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )


def page(name: str, who: Principal | None, code: int = 200, **context: Any) -> HTMLResponse:
    html = _env().get_template(name).render(who=who, **context)
    return HTMLResponse(html, status_code=code)


@route(router, "GET", "/login", PUBLIC)
def login_form() -> HTMLResponse:
    return page("login.html", None, failed=False)


@route(router, "POST", "/login", PUBLIC)
def login_submit(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    who = login(request, token.strip(), "web")
    if who is None:
        return page("login.html", None, code=401, failed=True)
    response = RedirectResponse("/web/batches", status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        max_age=8 * 3600,
    )
    return response


@route(router, "POST", "/logout", PUBLIC)
def logout() -> Response:
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@route(router, "GET", "/batches", [AGENCY, OFFICER, REVIEWER, AUDITOR, ADMIN])
def batches_page(who: Who, ws: Ws) -> HTMLResponse:
    return page("batches.html", who, batches=batch_svc.listing(ws, who, 200, 0))


@route(router, "GET", "/batches/{batch_id}", [AGENCY, OFFICER, REVIEWER, AUDITOR, ADMIN])
def batch_page(batch_id: str, who: Who, ws: Ws) -> HTMLResponse:
    batch_svc.visible_agency(ws, who, batch_id)
    status = batch_svc.status(ws, batch_id)
    items = batch_svc.decisions(ws, who, batch_id) if who.role in SEES_DECISIONS else []
    return page("batch.html", who, status=status, decisions=items, links=who.role != AGENCY)


@route(router, "GET", "/decisions/{request_id}", [OFFICER, REVIEWER, AUDITOR])
def why_page(request_id: str, who: Who, ws: Ws) -> HTMLResponse:
    return page("why.html", who, why=decision_svc.why(ws, who, request_id))


@route(router, "GET", "/review", [OFFICER, REVIEWER])
def review_page(who: Who, ws: Ws) -> HTMLResponse:
    return page("review.html", who, pending=pending(ws), error=None)


@route(router, "POST", "/review/{request_id}", [REVIEWER])
def review_submit(
    request_id: str,
    who: Who,
    ws: Ws,
    action: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Approve or refuse one pending request, then show its decision."""
    problem, code = None, 200
    if action not in ("approve", "refuse"):
        problem, code = "choose approve or refuse", 422
    else:
        try:
            decide_review(ws, request_id, approve=action == "approve", note=note, user=who.name)
        except UsageError as e:
            problem, code = str(e), 422
        except TaxgateError as e:  # not found, not pending, no candidate, two-person rule
            problem, code = str(e), http_status(e)
    if problem is not None:
        return page("review.html", who, code=code, pending=pending(ws), error=problem)
    return RedirectResponse(f"/web/decisions/{quote(request_id, safe='')}", status_code=303)


@route(router, "GET", "/audit", [OFFICER, REVIEWER, AUDITOR, ADMIN])
def audit_page(who: Who, ws: Ws) -> HTMLResponse:
    with ws.store.session() as s:
        size = audit_log.log_size(s)
        text = audit_log.latest_checkpoint(s)
    head = parse_checkpoint(text) if text else None
    return page(
        "audit.html",
        who,
        size=size,
        checkpoint=text,
        checkpoint_size=head.size if head else None,
        root=base64.b64encode(head.root).decode("ascii") if head else None,
    )
