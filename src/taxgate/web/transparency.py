"""The public transparency report on the pages: the releases already published, each
shown again as a page or downloaded as JSON, and each year's privacy budget.

Published releases are public by design (noisy counts only), so listing and reading them
needs no sign-in, and reading one spends nothing: it is the document stored when it was
released. A new release is never computed by a GET: it spends privacy budget, so it is
made only by ``taxgate transparency`` or by an administrator's explicit POST, and refused
(nothing spent, the refusal logged) when it would overspend the year's budget.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from taxgate.errors import BudgetError, UsageError, http_status
from taxgate.http.auth import PUBLIC
from taxgate.http.common import ADMIN
from taxgate.http.routing import route
from taxgate.reports.transparency import from_json, render_html
from taxgate.transparency import budget, publish, published, published_document
from taxgate.web.filters import Who, Ws, page_router
from taxgate.web.render import REPORT_CSP, page, signed_in, with_bar

router = page_router()
#: Who may publish a new release from the pages (the command line's operator otherwise).
PUBLISHERS = (ADMIN,)


def _list_page(
    request: Request,
    ws: Any,
    *,
    code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    who = signed_in(request)
    releases = published(ws)
    this_year = datetime.now(UTC).year
    years = sorted({this_year, this_year - 1, *(r.year for r in releases)}, reverse=True)
    return page(
        request,
        "transparency.html",
        who,
        code=code,
        releases=releases,
        budgets=[budget(ws, y) for y in years],
        staff=who is not None,
        publisher=who is not None and who.role in PUBLISHERS,
        error=error,
        form=form or {"year": str(this_year - 1), "epsilon": "0.5"},
        fresh=request.query_params.get("published", ""),
    )


@route(router, "GET", "/transparency", PUBLIC)
def transparency_page(request: Request, ws: Ws) -> HTMLResponse:
    """The releases published so far, newest first, and each year's budget."""
    return _list_page(request, ws)


@route(router, "GET", "/transparency/{release_id:int}.json", PUBLIC)
def release_json(release_id: int, ws: Ws) -> Response:
    """One published release, exactly the JSON document kept when it was released."""
    doc = published_document(ws, release_id)
    year = from_json(doc).year
    return Response(
        doc.encode("utf-8"),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="transparency-{year}-{release_id}.json"'
        },
    )


@route(router, "GET", "/transparency/{release_id:int}", PUBLIC)
def release_page(release_id: int, ws: Ws) -> HTMLResponse:
    """One published release as its page (no new noise: the stored document)."""
    html = render_html(from_json(published_document(ws, release_id)))
    links = (
        '<a href="/web/transparency" style="color:#fff">&larr; all transparency reports</a>'
        f'<a href="/web/transparency/{release_id}.json" style="color:#fff">'
        "Download this report as JSON</a>"
    )
    return HTMLResponse(with_bar(html, links), headers={"Content-Security-Policy": REPORT_CSP})


@route(router, "POST", "/transparency", PUBLISHERS)
def publish_release(
    request: Request,
    who: Who,
    ws: Ws,
    year: Annotated[str, Form(max_length=8)] = "",
    epsilon: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Publish a new release: spends ``epsilon`` of the year's budget, or is refused."""
    form = {"year": year, "epsilon": epsilon}
    try:
        if not year.strip().isdigit():
            raise UsageError("the year is a calendar year like 2025")
        try:
            eps = float(epsilon)
        except ValueError:
            raise UsageError("epsilon is a positive number like 0.5") from None
        as_publisher = dataclasses.replace(ws, user=who.name, origin="web")
        release_id = publish(as_publisher, int(year), eps)
    except (BudgetError, UsageError) as e:
        return _list_page(request, ws, code=http_status(e), error=str(e), form=form)
    return RedirectResponse(f"/web/transparency?published={release_id}", status_code=303)
