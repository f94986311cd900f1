"""The record of disclosures (26 U.S.C. 6103(p)(3)(A)) and the oversight report, on pages.

Officers read the whole record; auditors read it without TINs, people's names or the
free-text reasons (:func:`taxgate.services.accounting.for_role`). Both download it as CSV
(formula-like cells neutralised).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from taxgate.errors import UsageError
from taxgate.http.common import ADMIN, AUDITOR, OFFICER
from taxgate.http.routing import route
from taxgate.reports.html import render_html
from taxgate.reports.oversight import Period
from taxgate.services.accounting import HIDDEN_FROM_AUDITORS, record_page
from taxgate.services.oversight import oversight_data
from taxgate.web.export import csv_response
from taxgate.web.filters import ListFilters, Text, Who, Ws, one_page, page_router
from taxgate.web.render import REPORT_CSP, page, with_bar

router = page_router()
COLUMNS = (
    "request_id", "disclosed_at", "agency", "official_title", "official_authority",
    "official_name", "signed_by", "investigating_officer", "case_number", "statute",
    "reason", "tax_periods", "fields", "tin", "rulebook_version", "model_version",
    "audit_index", "batch_id",
)  # fmt: skip


def _columns(role: str) -> list[str]:
    """The record's columns ``role`` may read (auditors: no TIN, names or reasons)."""
    if role == OFFICER:
        return list(COLUMNS)
    return [c for c in COLUMNS if c not in (*HIDDEN_FROM_AUDITORS, "official_name")]


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    official = row.get("official") or {}
    out = {k: v for k, v in row.items() if k != "official"}
    out["official_title"] = official.get("title", "")
    out["official_authority"] = official.get("authority", "")
    if "name" in official:
        out["official_name"] = official["name"]
    for k in ("tax_periods", "fields"):
        if isinstance(out.get(k), list):
            out[k] = ";".join(str(x) for x in out[k])
    return out


@route(router, "GET", "/disclosures", [OFFICER, AUDITOR])
def disclosures_page(request: Request, who: Who, ws: Ws, f: ListFilters) -> HTMLResponse:
    """The record of disclosures, a page at a time."""
    rows, pg = one_page(lambda n, o: record_page(ws, who.role, f.decisions(), n, o), f.page)
    return page(
        request,
        "disclosures.html",
        who,
        rows=[_flat(r) for r in rows],
        columns=_columns(who.role),
        pg=pg,
        params=f.params("request_id", "agency", "since", "until"),
    )


@route(router, "GET", "/disclosures.csv", [OFFICER, AUDITOR])
def disclosures_csv(who: Who, ws: Ws, f: ListFilters) -> Response:
    rows, _ = record_page(ws, who.role, f.decisions(), None)
    flat = [_flat(r) for r in rows]
    columns = _columns(who.role)
    return csv_response(
        "record-of-disclosures.csv", columns, ([r.get(c, "") for c in columns] for r in flat)
    )


@route(router, "GET", "/reports/oversight", [OFFICER, AUDITOR, ADMIN])
def oversight_page(
    ws: Ws,
    year: Annotated[str, Query(max_length=4)] = "",
    since: Text = "",
    until: Text = "",
) -> HTMLResponse:
    """The oversight report for a year or a span of dates (everything by default)."""
    if year and not year.isdigit():
        raise UsageError("`year` must be a calendar year like 2026")
    period = Period.of(year=int(year) if year else None, since=since or None, until=until or None)
    html = render_html(*oversight_data(ws, period))
    return HTMLResponse(
        _with_bar(html, year, since, until), headers={"Content-Security-Policy": REPORT_CSP}
    )


def _with_bar(html: str, year: str, since: str, until: str) -> str:
    """The report as rendered for files, with a bar back to the pages and a period form."""
    e = escape
    return with_bar(
        html,
        '<a href="/web" style="color:#fff">&larr; taxgate pages</a>'
        '<form method="get" action="/web/reports/oversight" style="display:flex;gap:.5rem;'
        'align-items:center;margin:0">'
        f'<label>Year <input name="year" size="5" value="{e(year)}"></label>'
        f'<label>or from <input type="date" name="since" value="{e(since)}"></label>'
        f'<label>to <input type="date" name="until" value="{e(until)}"></label>'
        '<button type="submit">Show</button></form>',
    )
