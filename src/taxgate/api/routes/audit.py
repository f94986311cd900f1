"""The audit log for overseers: head, checkpoints, entries, proofs, export, verification.

Entries carry request ids and salted hashes of personal values, never the values, so
auditors may read them all.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from taxgate.audit.checkpoint import parse_checkpoint, verifier_key
from taxgate.errors import AuditError, NotFoundError
from taxgate.http.common import ADMIN, AUDITOR, ERRORS, OFFICER, REVIEWER, workspace
from taxgate.http.routing import route
from taxgate.services import audit
from taxgate.storage import audit_log
from taxgate.workspace import Workspace

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERRORS)
Ws = Annotated[Workspace, Depends(workspace)]
Index = Annotated[int, Path(ge=0, le=2**62)]
Size = Annotated[int, Query(ge=0, le=2**62)]


def _head(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    cp = parse_checkpoint(text)
    return {"size": cp.size, "root": base64.b64encode(cp.root).decode(), "text": text}


@route(router, "GET", "/head", [OFFICER, REVIEWER, AUDITOR, ADMIN])
def head(ws: Ws) -> dict[str, Any]:
    """The log's size and its latest signed checkpoint."""
    with ws.store.session() as s:
        size = audit_log.log_size(s)
        text = audit_log.latest_checkpoint(s)
    pub = ws.agency_key().public_key()
    return {
        "size": size,
        "checkpoint": _head(text),
        "verifier_key": verifier_key(audit_log.KEY_NAME, pub),
    }


@route(router, "GET", "/checkpoints", [AUDITOR, ADMIN])
def checkpoints(ws: Ws) -> dict[str, Any]:
    """Every stored checkpoint, oldest first."""
    with ws.store.session() as s:
        texts = audit_log.checkpoint_texts(s)
    return {"checkpoints": [_head(t) for t in texts]}


@route(router, "POST", "/checkpoints", [AUDITOR, ADMIN], status_code=201)
def make_checkpoint(ws: Ws) -> dict[str, Any]:
    """Sign and store the current tree head."""
    out = _head(audit.checkpoint(ws))
    assert out is not None
    return out


@route(router, "GET", "/entries/{index}", [AUDITOR, ADMIN])
def entry(index: Index, ws: Ws) -> dict[str, Any]:
    """One entry as stored (canonical JSON; personal values only as salted hashes)."""
    with ws.store.session() as s:
        try:
            data = audit_log.entry_bytes(s, index)
        except AuditError:
            raise NotFoundError(f"no audit entry {index}") from None
    return {"index": index, "entry": json.loads(data.decode("utf-8"))}


@route(router, "GET", "/proofs/inclusion/{index}", [AUDITOR, ADMIN])
def inclusion_proof(index: Index, ws: Ws) -> dict[str, Any]:
    """An inclusion proof for entry ``index`` against the latest checkpoint."""
    return audit.inclusion_proof(ws, index)


@route(router, "GET", "/proofs/consistency", [AUDITOR, ADMIN])
def consistency_proof(old_size: Size, new_size: Size, ws: Ws) -> dict[str, Any]:
    """A consistency proof between two tree sizes (for example two checkpoints); sizes
    outside the log are an input error (422)."""
    return audit.consistency_proof(ws, old_size, new_size)


@route(router, "GET", "/export", [AUDITOR, ADMIN])
def export(ws: Ws) -> dict[str, Any]:
    """The log's entries and checkpoints in one document (``taxgate audit verify --export``)."""
    return audit.export(ws)


@route(router, "GET", "/verify", [AUDITOR, ADMIN])
def verify(ws: Ws) -> dict[str, Any]:
    """Rebuild the tree and check it against every checkpoint and every stored row."""
    try:
        rep, _ = audit.verify(ws)
    except AuditError as e:
        return {"verified": False, "message": str(e)}
    return {
        "verified": True,
        "size": rep.size,
        "root": rep.root,
        "checkpoints": rep.checkpoints,
        "unsigned_tail": rep.unsigned_tail,
    }
