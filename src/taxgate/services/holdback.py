"""The (i)(6) holdback kept by the store: add, remove, list (see :mod:`taxgate.holdback`)."""

from __future__ import annotations

from dataclasses import dataclass

from taxgate import holdback
from taxgate.storage import repo
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class HeldBack:
    tin: str
    reason: str
    added_at: str
    added_by: str


def add(ws: Workspace, tin: str, reason: str) -> bool:
    """Hold a taxpayer back; ``False`` when already held (the reason is updated)."""
    with ws.transaction() as (s, log):
        return holdback.add(s, log, tin, reason, repo.now_iso())


def remove(ws: Workspace, tin: str) -> None:
    with ws.transaction() as (s, log):
        holdback.remove(s, log, tin)


def listing(ws: Workspace) -> list[HeldBack]:
    with ws.transaction() as (s, _):
        return [HeldBack(h.tin, h.reason, h.added_at, h.added_by) for h in holdback.listing(s)]
