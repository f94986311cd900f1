"""The (i)(6) holdback: taxpayers about whom nothing is disclosed, and what the agency sees.

26 U.S.C. 6103(i)(6): "... no return or return information shall be disclosed ... if the
Secretary determines (and, in the case of a request for disclosure pursuant to a court order
... certifies to the court) that such disclosure would identify a confidential informant or
seriously impair a civil or criminal tax investigation."

A request whose match is a held-back taxpayer is decided ``NO_MATCH`` with reasons
``D-HOLDBACK`` (internal) and ``M-NONE`` (what the agency is told): the agency's views
(``response.jsonl``, the API's agency view) are those of an M-NONE, while the store, the log
and the oversight reports say D-HOLDBACK. The held TINs live only in the store: the log keeps
a salted hash of each, messages never carry one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.decision import HOLDBACK, HOLDBACK_MESSAGE
from taxgate.errors import StoreError, UsageError
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog

REASONS: tuple[str, ...] = ("informant", "tax-investigation")
CODE = HOLDBACK
MESSAGE = HOLDBACK_MESSAGE
NONE_MESSAGE = "no taxpayer matches the request with enough confidence: nothing is disclosed"


def add(s: Session, log: AuditLog, tin: str, reason: str, now: str) -> bool:
    """Hold a taxpayer back; ``False`` when already held (the reason is updated)."""
    tin = tin.strip()
    if not tin.isdigit() or not 9 <= len(tin) <= 20:
        raise UsageError("a TIN is 9 or more digits")
    if reason not in REASONS:
        raise UsageError("`--reason` must be one of: " + ", ".join(REASONS))
    row = s.get(m.Holdback, tin)
    new = row is None
    if row is None:
        s.add(m.Holdback(tin=tin, reason=reason, added_at=now, added_by=log.user))
    else:
        row.reason = reason
    log.append("holdback_added", "holdback", {"reason": reason, "new": new}, personal={"tin": tin})
    return new


def remove(s: Session, log: AuditLog, tin: str) -> None:
    tin = tin.strip()
    row = s.get(m.Holdback, tin)
    if row is None:
        raise StoreError("that TIN is not held back")
    s.delete(row)
    log.append("holdback_removed", "holdback", {"reason": row.reason}, personal={"tin": tin})


def listing(s: Session) -> list[m.Holdback]:
    return list(s.scalars(select(m.Holdback).order_by(m.Holdback.added_at)))


def held(s: Session, tins: Iterable[str]) -> frozenset[str]:
    """Which of ``tins`` are held back."""
    wanted = sorted({t for t in tins if t})
    out: set[str] = set()
    for i in range(0, len(wanted), 900):
        part = wanted[i : i + 900]
        out.update(s.scalars(select(m.Holdback.tin).where(m.Holdback.tin.in_(part))))
    return frozenset(out)


def agency_view(body: Mapping[str, Any]) -> dict[str, Any]:
    """A decision as the requesting agency may see it: a held-back request reads exactly as
    an M-NONE (the D-HOLDBACK reason is dropped; the M-NONE reason beside it stays)."""
    out = dict(body)
    reasons = out.get("reasons") or []
    if any(r.get("code") == CODE for r in reasons):
        out["reasons"] = [r for r in reasons if r.get("code") != CODE]
    return out
