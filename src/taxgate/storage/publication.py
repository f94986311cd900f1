"""Publish before disclose: is a response's every disclosure covered by a checkpoint that
a witness named in the rulebook has cosigned?"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.audit.checkpoint import parse_checkpoint
from taxgate.audit.cosignature import WitnessKey, cosigned_by, parse_witness_key
from taxgate.errors import AuditError, ConflictError
from taxgate.rules.rulebook import Rulebook
from taxgate.storage import tables as m


def witnesses_of(rulebook: Rulebook) -> list[WitnessKey]:
    return [parse_witness_key(k) for k in rulebook.witnesses]


def cosigned_size(s: Session, witnesses: Sequence[WitnessKey]) -> int:
    """The largest tree size a checkpoint cosigned by one of ``witnesses`` covers."""
    best = 0
    for text in s.scalars(select(m.Checkpoint.text).order_by(m.Checkpoint.id)):
        try:
            if cosigned_by(text, list(witnesses)):
                best = max(best, parse_checkpoint(text).size)
        except AuditError:
            continue
    return best


def require_published(s: Session, rulebook: Rulebook, indexes: Sequence[int]) -> None:
    """With the rulebook's ``publish_before_disclose`` on, refuse unless a cosigned
    checkpoint covers every one of the audit ``indexes`` (the disclosures' entries).

    Raises:
        ConflictError: the response is held.
    """
    if not rulebook.publish_before_disclose or not indexes:
        return
    covered = cosigned_size(s, witnesses_of(rulebook))
    if max(indexes) >= covered:
        raise ConflictError(
            "the response is held until a witness cosigns a checkpoint covering its "
            f"disclosures (publish before disclose): cosigned up to entry {covered - 1}, "
            f"the disclosures reach entry {max(indexes)}"
        )
