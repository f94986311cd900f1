"""The audit page: verify the log (result and time), the checkpoint history with every
signature and cosignature, inclusion proofs by entry index or request id, the entries a
page at a time (by event type and date), and the export an overseer keeps.

Officers and reviewers see the log's head and history; verification, proofs, entries and
the export are for auditors and administrators, as on the API.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from taxgate.errors import TaxgateError, http_status
from taxgate.http.common import ADMIN, AUDITOR, OFFICER, REVIEWER
from taxgate.http.routing import route
from taxgate.services import audit_view
from taxgate.services.audit_view import head_of
from taxgate.services.users import Principal
from taxgate.web.filters import ListFilters, Text, Who, Ws, one_page, page_router
from taxgate.web.render import page

router = page_router()
OVERSEERS = (AUDITOR, ADMIN)

__all__ = ["head_of", "router"]


def _audit_page(
    request: Request,
    who: Principal,
    ws: Any,
    *,
    verified: audit_view.Verified | None = None,
    proofs: list[audit_view.Proof] | None = None,
    proof_error: str | None = None,
    lookup: dict[str, str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "audit.html",
        who,
        code=code,
        ov=audit_view.overview(ws),
        overseer=who.role in OVERSEERS,
        verified=verified,
        proofs=proofs,
        proof_error=proof_error,
        lookup=lookup or {"index": "", "request_id": ""},
    )


@route(router, "GET", "/audit", [OFFICER, REVIEWER, AUDITOR, ADMIN])
def audit_page(request: Request, who: Who, ws: Ws) -> HTMLResponse:
    return _audit_page(request, who, ws)


@route(router, "POST", "/audit/verify", [AUDITOR, ADMIN])
def verify(request: Request, who: Who, ws: Ws) -> HTMLResponse:
    """Run the full verification now; the page shows the result and when it ran."""
    return _audit_page(request, who, ws, verified=audit_view.verify(ws))


@route(router, "GET", "/audit/proof", [AUDITOR, ADMIN])
def proof(
    request: Request,
    who: Who,
    ws: Ws,
    index: Text = "",
    request_id: Text = "",
    agency: Text = "",
) -> HTMLResponse:
    """Inclusion proofs of one entry, or of every entry about a request."""
    lookup = {"index": index, "request_id": request_id}
    try:
        if index.strip():
            if not index.strip().isdigit():
                raise ValueError
            found = audit_view.proofs(ws, index=int(index.strip()))
        else:
            found = audit_view.proofs(ws, request_id=request_id, agency=agency or None)
    except ValueError:
        return _audit_page(
            request, who, ws, proof_error="an entry index is a whole number", lookup=lookup,
            code=422,
        )  # fmt: skip
    except TaxgateError as e:
        return _audit_page(request, who, ws, proof_error=str(e), lookup=lookup, code=http_status(e))
    return _audit_page(request, who, ws, proofs=found, lookup=lookup)


@route(router, "GET", "/audit/entries", [AUDITOR, ADMIN])
def entries_page(request: Request, who: Who, ws: Ws, f: ListFilters) -> HTMLResponse:
    """The log's entries, newest first, by event type and UTC date."""
    rows, pg = one_page(
        lambda n, o: audit_view.entries(
            ws, event_type=f.event_type, since=f.found.since, until=f.found.until, limit=n, offset=o
        ),
        f.page,
    )
    return page(
        request,
        "entries.html",
        who,
        rows=rows,
        pg=pg,
        params=f.params("event_type", "since", "until"),
        types=audit_view.event_types(ws),
    )


@route(router, "GET", "/audit/export.json", [AUDITOR, ADMIN])
def export(ws: Ws) -> Response:
    """The export an overseer keeps and later checks with ``taxgate audit verify --since``."""
    doc = audit_view.export_document(ws)
    return Response(
        json.dumps(doc, sort_keys=True).encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="taxgate-audit-export.json"'},
    )
