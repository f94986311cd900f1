"""The review pages: the queue (why each request waits and for how long, oldest first)
and one request's case file (the request beside the candidate's record and the
runner-up's, element by element, with the approve/refuse form and its required note).

Officers see the queue without the taxpayers; only reviewers open a case file, which
shows the records on file.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from taxgate.errors import TaxgateError, UsageError, http_status
from taxgate.http.common import OFFICER, REVIEWER
from taxgate.http.routing import route
from taxgate.matching.explain import LABELS, LEVEL_WORDS, verdict
from taxgate.services.casefile import case_file
from taxgate.services.review import decide_review, pending
from taxgate.services.users import Principal
from taxgate.web.filters import ListFilters, Who, Ws, one_page, page_router
from taxgate.web.render import page

router = page_router()


def levels_of(why: dict[str, Any]) -> list[dict[str, str]]:
    """The match's element levels in words (no values: safe for every staff role)."""
    ev = (why.get("match") or {}).get("evidence") or {}
    levels = ev.get("elements") or {}
    vetoes = list(ev.get("vetoed_by") or [])
    discrepancies = list(ev.get("discrepancies") or [])
    out = []
    for element, label in LABELS.items():
        level = str(levels.get(element, ""))
        if not level:
            continue
        word = verdict(element, level, vetoes, discrepancies)
        out.append(
            {
                "label": label,
                "level": LEVEL_WORDS.get(level, level),
                "verdict": word,
                "css": {"disagrees": "fail", "differs": "warn", "agrees": "pass"}.get(
                    word, "muted"
                ),
            }
        )
    return out


def _why_waiting(p: Any) -> list[str]:
    lines = [f"{c}: {msg}" if msg else c for c, msg in zip(p.codes, p.messages, strict=False)]
    if p.discrepancies:
        names = ", ".join(LABELS.get(d, d).lower() for d in p.discrepancies)
        verb = "differs" if len(p.discrepancies) == 1 else "differ"
        lines.append(f"the match needs a person: the {names} {verb} from the record")
    return lines


@route(router, "GET", "/review", [OFFICER, REVIEWER])
def queue_page(request: Request, who: Who, ws: Ws, f: ListFilters) -> HTMLResponse:
    """The queue, oldest first: why each request waits and since when."""
    rows = [
        p
        for p in pending(ws)
        if (not f.found.request_id or p.request_id.startswith(f.found.request_id))
        and (not f.found.agency or p.agency == f.found.agency)
    ]
    shown, pg = one_page(lambda n, o: (rows[o : o + n], len(rows)), f.page)
    return page(
        request,
        "review.html",
        who,
        rows=[{"p": p, "why": _why_waiting(p)} for p in shown],
        pg=pg,
        params=f.params("request_id", "agency"),
    )


def _case_page(
    request: Request,
    who: Principal,
    ws: Any,
    request_id: str,
    agency: str | None,
    *,
    code: int = 200,
    error: str | None = None,
    note: str = "",
) -> HTMLResponse:
    cf = case_file(ws, request_id, agency)
    return page(request, "case.html", who, code=code, cf=cf, error=error, note=note)


@route(router, "GET", "/review/{request_id}", [REVIEWER])
def case_page(
    request: Request, request_id: str, who: Who, ws: Ws, agency: str | None = None
) -> HTMLResponse:
    """One request's case file, with the decision form while it is pending."""
    return _case_page(request, who, ws, request_id, agency)


@route(router, "POST", "/review/{request_id}", [REVIEWER])
def review_submit(
    request: Request,
    request_id: str,
    who: Who,
    ws: Ws,
    action: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    agency: str | None = None,
) -> Response:
    """Approve or refuse one pending request (a note is required), then show its file."""
    problem, code = None, 200
    if action not in ("approve", "refuse"):
        problem, code = "choose approve or refuse", 422
    elif not note.strip():
        problem, code = "write a note saying why before you approve or refuse", 422
    else:
        try:
            decide_review(
                ws,
                request_id,
                approve=action == "approve",
                note=note,
                user=who.name,
                agency=agency,
            )
        except UsageError as e:
            problem, code = str(e), 422
        except TaxgateError as e:  # not found, not pending, no candidate, two-person rule
            problem, code = str(e), http_status(e)
    if problem is not None:
        return _case_page(request, who, ws, request_id, agency, code=code, error=problem, note=note)
    target = f"/web/review/{quote(request_id, safe='')}"
    if agency:
        target += f"?agency={quote(agency, safe='')}"
    return RedirectResponse(target, status_code=303)
