"""What each role may see of a decision: one pure function per view, no store.

- an agency sees its own requests' statuses, reasons and fields, and a held-back request
  exactly as an M-NONE (:func:`taxgate.holdback.agency_view`);
- officers and reviewers, who act on requests, see the whole decision, the request as the
  agency sent it and reviewers' notes;
- auditors (and administrators) see identifiers, hashes, codes, counts and probabilities:
  never a TIN, a name, an address or a reviewer's note. Evidence carries no TIN since the
  matching stage stopped writing one, and decisions stored before that are cleaned here.

    >>> body = {"request_id": "R1", "status": "AMBIGUOUS",
    ...         "match": {"evidence": {"best": {"tin": "900000001", "probability": 0.7}}},
    ...         "review": {"action": "refuse", "user": "rev", "note": "the informant said"}}
    >>> seen = decision_view(body, "auditor")
    >>> seen["match"]
    {'evidence': {'best': {'probability': 0.7}}}
    >>> seen["review"]
    {'action': 'refuse', 'user': 'rev', 'note_chars': 18}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taxgate import holdback

#: Roles that act on requests and so see the request, the candidates and the notes.
SEES_PERSONAL = frozenset({"officer", "reviewer"})

AGENCY_DECISION_KEYS = (
    "request_id",
    "status",
    "reasons",
    "disclosed_fields",
    "withheld_fields",
    "tax_years",
    "rulebook_version",
)
#: Keys that hold a TIN wherever they appear in a stored decision.
TIN_KEYS = frozenset({"tin", "matched_tin", "runner_up_tin", "candidate_tin"})


def without_tins(value: Any) -> Any:
    """``value`` with every TIN-holding key removed, at any depth."""
    if isinstance(value, Mapping):
        return {k: without_tins(v) for k, v in value.items() if k not in TIN_KEYS}
    if isinstance(value, list | tuple):
        return [without_tins(v) for v in value]
    return value


def review_view(review: object, role: str) -> dict[str, Any] | None:
    """A review as ``role`` sees it: the note only for those who act on requests."""
    if not isinstance(review, Mapping):
        return None
    out: dict[str, Any] = {"action": review.get("action"), "user": review.get("user")}
    note = str(review.get("note") or "")
    if role in SEES_PERSONAL:
        out["note"] = note
    else:
        out["note_chars"] = len(note)
    return out


def decision_view(body: Mapping[str, Any], role: str) -> dict[str, Any]:
    """A stored decision body as ``role`` may see it."""
    if role == "agency":  # a held-back request reads exactly as an M-NONE
        seen = holdback.agency_view(body)
        return {k: seen.get(k) for k in AGENCY_DECISION_KEYS}
    if role in SEES_PERSONAL:
        return dict(body)
    out: dict[str, Any] = without_tins(body)
    if "review" in out:
        out["review"] = review_view(body.get("review"), role)
    return out
