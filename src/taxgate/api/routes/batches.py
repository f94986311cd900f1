"""Batches: submit, list, status with progress, the agency's response, decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile

from taxgate.errors import TooLargeError
from taxgate.http.auth import authenticate
from taxgate.http.common import (
    ADMIN,
    AGENCY,
    AUDITOR,
    ERRORS,
    OFFICER,
    REVIEWER,
    workspace,
)
from taxgate.http.routing import route
from taxgate.services import batches as svc
from taxgate.services.users import Principal
from taxgate.workspace import Workspace

router = APIRouter(prefix="/v1", tags=["batches"], responses=ERRORS)
Who = Annotated[Principal, Depends(authenticate)]
Ws = Annotated[Workspace, Depends(workspace)]


async def _read(upload: UploadFile, limit: int, what: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"the {what} file is over {limit} bytes")
    return data


@route(router, "POST", "/batches", [AGENCY], status_code=202)
async def submit_batch(
    request: Request,
    response: Response,
    who: Who,
    ws: Ws,
    manifest: Annotated[UploadFile, File(description="manifest.json, signed")],
    requests: Annotated[UploadFile, File(description="requests.csv")],
) -> dict[str, Any]:
    """Submit a signed batch. The signature is checked before anything is stored.

    The same batch id with the same requests hash returns the batch already received
    (200); the same id with other content is a 409. A new batch is queued (202).
    """
    from starlette.concurrency import run_in_threadpool

    settings = request.app.state.settings
    manifest_bytes = await _read(manifest, 1024 * 1024, "manifest")
    requests_bytes = await _read(requests, settings.max_requests_bytes, "requests")
    done = await run_in_threadpool(svc.submit, ws, who, manifest_bytes, requests_bytes)
    if not done.created:
        response.status_code = 200
    return done.status


@route(router, "GET", "/batches", [AGENCY, OFFICER, REVIEWER, AUDITOR, ADMIN])
def list_batches(
    who: Who,
    ws: Ws,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Batches, newest first (an agency sees only its own)."""
    return {"batches": svc.listing(ws, who, limit, offset), "limit": limit, "offset": offset}


@route(router, "GET", "/batches/{batch_id}", [AGENCY, OFFICER, REVIEWER, AUDITOR, ADMIN])
def batch_status(batch_id: str, who: Who, ws: Ws) -> dict[str, Any]:
    """A batch's state, progress, and counts of decisions by final status."""
    svc.visible_agency(ws, who, batch_id)
    return svc.status(ws, batch_id)


@route(router, "GET", "/batches/{batch_id}/response", [AGENCY, OFFICER])
def batch_response(batch_id: str, who: Who, ws: Ws) -> dict[str, Any]:
    """What goes back to the agency: only disclosed requests, only their disclosed values.

    ``manifest`` is signed (Ed25519) by the tax agency's key over the lines written as
    ``response.jsonl`` (canonical JSON, one line each, in the order given), exactly as the
    manifest of the command line's response folder.
    """
    svc.visible_agency(ws, who, batch_id)
    return svc.response(ws, batch_id)


@route(router, "GET", "/batches/{batch_id}/decisions", [AGENCY, OFFICER, REVIEWER, AUDITOR])
def batch_decisions(batch_id: str, who: Who, ws: Ws) -> dict[str, Any]:
    """The batch's decisions: statuses and reasons for the agency, the whole body for staff."""
    svc.visible_agency(ws, who, batch_id)
    items = svc.decisions(ws, who, batch_id)
    return {"batch_id": batch_id, "count": len(items), "decisions": items}
