"""The pages under ``/web``: sign-in, a home page per role, batches and decisions.

Signing in with a token opens a server-side session (:mod:`taxgate.services.sessions`):
the cookie carries only the session's random id (HttpOnly, SameSite=Strict, path
``/web``), expires when idle or old, and sign-out deletes the session. Every form carries
the session's form token and is checked with the Origin (:mod:`.guard`). Every page
declares its roles like the API routes do; the review, audit and record pages are
:mod:`.review`, :mod:`.audit` and :mod:`.records`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from taxgate.disclosure.response import response_bytes
from taxgate.errors import ConflictError, InputError, TooLargeError, http_status
from taxgate.http.auth import COOKIE, PUBLIC, login
from taxgate.http.common import ADMIN, AGENCY, AUDITOR, OFFICER, REVIEWER
from taxgate.http.routing import route
from taxgate.services import batches as batch_svc
from taxgate.services import decisions as decision_svc
from taxgate.services import sessions
from taxgate.services.review import pending
from taxgate.services.search import (
    STATUSES,
    BatchFilter,
    find_batches,
    find_decisions,
)
from taxgate.services.users import Principal
from taxgate.storage import audit_log
from taxgate.web import audit, records, review, transparency
from taxgate.web.export import csv_response
from taxgate.web.filters import Filters, ListFilters, Who, Ws, one_page, page_router
from taxgate.web.paging import Paging
from taxgate.web.render import page

router = page_router()
STATIC = Path(__file__).resolve().parent / "static"
ALL = [AGENCY, OFFICER, REVIEWER, AUDITOR, ADMIN]
SEES_DECISIONS = [AGENCY, OFFICER, REVIEWER, AUDITOR]
SEES_RESPONSE = [AGENCY, OFFICER]


@route(router, "GET", "/static/taxgate.css", PUBLIC)
def stylesheet() -> Response:
    css = (STATIC / "taxgate.css").read_bytes()
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@route(router, "GET", "/login", PUBLIC)
def login_form(request: Request, ended: bool = False) -> HTMLResponse:
    return page(request, "login.html", None, failed=False, ended=ended)


@route(router, "POST", "/login", PUBLIC)
def login_submit(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    who = login(request, token.strip(), "web")
    if who is None:
        return page(request, "login.html", None, code=401, failed=True, ended=False)
    settings = request.app.state.settings
    ws = request.app.state.ws
    with ws.store.session() as s:
        opened = sessions.open_session(
            s, who.name, time.time(), getattr(settings, "session_max_seconds", 8 * 3600)
        )
    response = RedirectResponse("/web", status_code=303)
    response.set_cookie(
        COOKIE,
        opened.session_id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/web",
    )
    return response


@route(router, "POST", "/logout", PUBLIC)
def logout(request: Request) -> Response:
    """Sign out: the session is deleted in the store, not only forgotten by the browser."""
    sid = request.cookies.get(COOKIE, "")
    if sid:
        with request.app.state.ws.store.session() as s:
            sessions.close_session(s, sid)
    response = RedirectResponse("/web/login?ended=true", status_code=303)
    response.delete_cookie(COOKIE, path="/web")
    return response


@route(router, "GET", "/", ALL)
def home_slash() -> Response:
    return RedirectResponse("/web", status_code=307)


@route(router, "GET", "", ALL)
def home(request: Request, who: Who, ws: Ws) -> HTMLResponse:
    """A home page per role: what waits for this person, and where to go."""
    ctx: dict[str, Any] = {"queue": [], "head": None, "batches": []}
    if who.role in (OFFICER, REVIEWER):
        ctx["queue"] = pending(ws)
    if who.role in (AUDITOR, OFFICER, ADMIN, REVIEWER):
        with ws.store.session() as s:
            size = audit_log.log_size(s)
            text = audit_log.latest_checkpoint(s)
        ctx["head"] = {"size": size, "checkpoint": audit.head_of(text)}
    ctx["batches"], ctx["batch_count"] = find_batches(ws, who, BatchFilter(), 5, 0)
    return page(request, "home.html", who, **ctx)


def _batches_page(
    request: Request, who: Principal, ws: Any, f: Filters, *, code: int = 200, error: str = ""
) -> HTMLResponse:
    rows, pg = one_page(lambda n, o: find_batches(ws, who, f.batches(), n, o), f.page)
    params = f.params("batch_id", "agency", "state")
    return page(
        request, "batches.html", who, code=code, batches=rows, pg=pg, params=params, error=error
    )


@route(router, "GET", "/batches", ALL)
def batches_page(request: Request, who: Who, ws: Ws, f: ListFilters) -> HTMLResponse:
    return _batches_page(request, who, ws, f)


async def _upload(upload: UploadFile, limit: int, what: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"the {what} file is over {limit} bytes")
    return data


@route(router, "POST", "/batches", [AGENCY])
async def submit_batch(
    request: Request,
    who: Who,
    ws: Ws,
    manifest: Annotated[UploadFile, File()],
    requests: Annotated[UploadFile, File()],
) -> Response:
    """Submit a signed batch from the page (as the API does); then follow it on its page."""
    limit = getattr(request.app.state.settings, "max_requests_bytes", 60 * 1024 * 1024)
    try:
        manifest_bytes = await _upload(manifest, 1024 * 1024, "manifest")
        requests_bytes = await _upload(requests, limit, "requests")
        done = await run_in_threadpool(batch_svc.submit, ws, who, manifest_bytes, requests_bytes)
    except (InputError, ConflictError, TooLargeError) as e:
        return _batches_page(request, who, ws, Filters(), code=http_status(e), error=str(e))
    target = f"/web/batches/{quote(str(done.status['batch_id']), safe='')}"
    return RedirectResponse(target + ("" if done.created else "?again=1"), status_code=303)


@route(router, "GET", "/batches/{batch_id}", ALL)
def batch_page(request: Request, batch_id: str, who: Who, ws: Ws, f: ListFilters) -> HTMLResponse:
    """A batch: its state, its counts, and its requests a page at a time."""
    batch_svc.visible_agency(ws, who, batch_id)
    st = batch_svc.status(ws, batch_id)
    rows: list[dict[str, Any]] = []
    pg = Paging.of(page=1, total=0)
    if who.role in SEES_DECISIONS:
        wanted = f.decisions(batch_id=batch_id)
        rows, pg = one_page(lambda n, o: find_decisions(ws, who, wanted, n, o), f.page)
    return page(
        request,
        "batch.html",
        who,
        status=st,
        decisions=rows,
        pg=pg,
        params=f.params("request_id", "status", "code"),
        statuses=STATUSES,
        links=who.role in (OFFICER, REVIEWER, AUDITOR),
        response=who.role in SEES_RESPONSE and st["state"] == "done",
        again=request.query_params.get("again") == "1",
    )


def _response(ws: Any, who: Principal, batch_id: str) -> dict[str, Any]:
    batch_svc.visible_agency(ws, who, batch_id)
    return batch_svc.response(ws, batch_id)


@route(router, "GET", "/batches/{batch_id}/response.jsonl", SEES_RESPONSE)
def response_lines(batch_id: str, who: Who, ws: Ws) -> Response:
    """The signed response's lines, exactly the bytes the manifest's hash covers."""
    doc = _response(ws, who, batch_id)
    return Response(
        response_bytes(doc["lines"]),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="response.jsonl"'},
    )


@route(router, "GET", "/batches/{batch_id}/response-manifest.json", SEES_RESPONSE)
def response_manifest(batch_id: str, who: Who, ws: Ws) -> Response:
    """The response's manifest, signed with the tax agency's key."""
    doc = _response(ws, who, batch_id)
    return Response(
        json.dumps(doc["manifest"], indent=2, sort_keys=True).encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="response-manifest.json"'},
    )


@route(router, "GET", "/decisions", SEES_DECISIONS)
def decisions_page(request: Request, who: Who, ws: Ws, f: ListFilters) -> HTMLResponse:
    """Every decision the caller may see, found by id, agency, status, code and date."""
    rows, pg = one_page(lambda n, o: find_decisions(ws, who, f.decisions(), n, o), f.page)
    return page(
        request,
        "decisions.html",
        who,
        decisions=rows,
        pg=pg,
        params=f.params("request_id", "agency", "batch_id", "status", "code", "since", "until"),
        statuses=STATUSES,
        links=who.role in (OFFICER, REVIEWER, AUDITOR),
    )


@route(router, "GET", "/decisions.csv", SEES_DECISIONS)
def decisions_csv(who: Who, ws: Ws, f: ListFilters) -> Response:
    """The decisions the filters find, as CSV (formula-like cells neutralised)."""
    rows, _ = find_decisions(ws, who, f.decisions(), None)
    header = [
        "request_id",
        "agency",
        "batch_id",
        "decided_at",
        "status",
        "codes",
        "reasons",
        "disclosed_fields",
        "withheld_fields",
    ]
    return csv_response(
        "decisions.csv",
        header,
        (
            [
                r["request_id"],
                r["agency"],
                r["batch_id"],
                r["decided_at"],
                r["status"],
                ";".join(x.get("code", "") for x in r["reasons"]),
                " | ".join(
                    f"{x.get('code', '')} ({x.get('citation', '')}): {x.get('message', '')}"
                    for x in r["reasons"]
                ),
                ";".join(r["disclosed_fields"]),
                ";".join(f"{w.get('field', '')}:{w.get('code', '')}" for w in r["withheld_fields"]),
            ]
            for r in rows
        ),
    )


@route(router, "GET", "/decisions/{request_id}", [OFFICER, REVIEWER, AUDITOR])
def why_page(
    request: Request, request_id: str, who: Who, ws: Ws, agency: str | None = None
) -> HTMLResponse:
    """Why a request was decided as it was (auditors: no values, no notes)."""
    why = decision_svc.why(ws, who, request_id, agency)
    return page(request, "why.html", who, why=why, elements=review.levels_of(why))


#: Every router of the pages, for :mod:`taxgate.server` to include.
ROUTERS = (router, review.router, audit.router, records.router, transparency.router)
