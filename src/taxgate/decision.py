"""The final decision on one request, computed once, by one pure function.

:func:`final_decision` takes what the stages found (the rule outcome, the match result,
the candidate taxpayer's rows, the field catalogue) and, for a request held for review,
the reviewer's action, and returns a :class:`~taxgate.types.FinalDecision`. The pipeline,
the review queue, the service and re-audit all go through it; :func:`to_body` is its one
serialisation (a ``decisions.jsonl`` line) and :func:`from_body` reads one back.

================  ==============================  =====================================
rule outcome      match verdict                   status (then review)
================  ==============================  =====================================
rejected          (not matched)                   REJECTED
accepted/review   M-AMBIGUOUS                     AMBIGUOUS (+ the M- reason)
accepted/review   M-NONE, M-ADDRESS, none         NO_MATCH (+ the M- reason)
accepted/review   REVIEW                          PENDING_REVIEW
review            MATCH                           PENDING_REVIEW
accepted          MATCH                           DISCLOSED if a value goes out, else
                                                  WITHHELD
PENDING_REVIEW    + refuse                        WITHHELD
PENDING_REVIEW    + approve                       as an accepted MATCH on the candidate;
                                                  no candidate: refused (ConflictError)
================  ==============================  =====================================

    >>> from taxgate.disclosure.fields import load_catalogue
    >>> from taxgate.types import MatchResult, RuleDecision
    >>> rule = RuleDecision("R1", "accepted", tax_years=(2022,), fields=("last_name",))
    >>> held = MatchResult("R1", "REVIEW", tin="900000001", probability=0.995)
    >>> pending = final_decision(rule, held, [], load_catalogue())
    >>> pending.status, pending.candidate
    ('PENDING_REVIEW', '900000001')
    >>> rows = [{"tax_year": 2022, "last_name": "Example"}]
    >>> approved = final_decision(rule, held, rows, load_catalogue(),
    ...                           review=ReviewAction("approve", "rev", "checked"))
    >>> approved.status, dict(approved.disclosed)
    ('DISCLOSED', {'last_name': 'Example'})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from taxgate.disclosure.fields import Catalogue
from taxgate.disclosure.plan import plan_disclosure
from taxgate.errors import ConflictError
from taxgate.types import (
    STATUSES,
    FinalDecision,
    MatchResult,
    MatchVerdict,
    Outcome,
    Reason,
    ReviewAction,
    RuleCheck,
    RuleDecision,
    Status,
    WithheldField,
)

MATCH, REVIEW = "MATCH", "REVIEW"

#: 6103(i)(6): the code of a request whose candidate taxpayer is held back.
HOLDBACK = "D-HOLDBACK"
HOLDBACK_MESSAGE = (
    "held back under 26 U.S.C. 6103(i)(6): disclosure would identify a confidential informant "
    "or seriously impair a civil or criminal tax investigation; the agency is told M-NONE"
)

VERDICT_STATUS: Mapping[str, Status] = {
    "M-AMBIGUOUS": "AMBIGUOUS",
    "M-NONE": "NO_MATCH",
    "M-ADDRESS": "NO_MATCH",
    REVIEW: "PENDING_REVIEW",
}

MATCH_MESSAGES: Mapping[str, str] = {
    "M-AMBIGUOUS": "several taxpayers match the request: nothing is disclosed",
    "M-NONE": "no taxpayer matches the request with enough confidence: nothing is disclosed",
    "M-ADDRESS": "the address given is not one the taxpayer used in the requested periods",
}


def _verdict(match: MatchResult | None) -> MatchVerdict | None:
    if match is None:
        return None
    held = match.verdict in (MATCH, REVIEW)
    return MatchVerdict(
        verdict=match.verdict,
        probability=match.probability,
        second_probability=match.second_probability,
        candidates=match.candidates,
        evidence=match.evidence,
        candidate=(match.tin or None) if held else None,
        runner_up=(match.runner_up or None) if held else None,
    )


def final_decision(
    rule: RuleDecision,
    match: MatchResult | None,
    rows: Sequence[Mapping[str, object]],
    catalogue: Catalogue,
    review: ReviewAction | None = None,
    *,
    citations: Mapping[str, str] | None = None,
    rulebook_version: str | None = None,
    held: bool = False,
) -> FinalDecision:
    """The final decision on one request.

    Args:
        rule: the rule stage's verdict (its fields and tax years are what may go out).
        match: the match result, ``None`` for a rejected request.
        rows: the candidate taxpayer's records rows (all years; empty when there is none).
        catalogue: the field catalogue.
        review: a reviewer's action on a request held for review.
        citations: the rulebook's code -> citation.
        rulebook_version: the rulebook that decides (default: the rule stage's).
        held: the candidate taxpayer is under the 6103(i)(6) holdback: nothing is disclosed,
            the decision is NO_MATCH with D-HOLDBACK (internal) and M-NONE (what the agency
            is told), whatever the match or a reviewer says.

    Raises:
        ConflictError: a review of a request that is not held for review, or an approval
            of one that has no candidate taxpayer.
    """
    cites = citations or {}
    verdict = _verdict(match)
    reasons: list[Reason] = list(rule.reasons)
    disclosed: Mapping[str, object] = {}
    withheld: tuple[WithheldField, ...] = ()
    name = verdict.verdict if verdict else "M-NONE"
    status: Status
    if rule.outcome == "rejected":
        status = "REJECTED"
    elif held:
        status = "NO_MATCH"
        reasons.append(Reason(HOLDBACK, cites.get(HOLDBACK, ""), HOLDBACK_MESSAGE))
        reasons.append(Reason("M-NONE", cites.get("M-NONE", ""), MATCH_MESSAGES["M-NONE"]))
    elif name not in (MATCH, REVIEW):
        status = VERDICT_STATUS.get(name, "NO_MATCH")
        if name.startswith("M-"):
            reasons.append(Reason(name, cites.get(name, ""), MATCH_MESSAGES.get(name, "")))
    elif rule.outcome == "review" or name == REVIEW:
        status = "PENDING_REVIEW"
    else:
        status, disclosed, withheld, more = _disclose(rule, rows, catalogue, cites)
        reasons.extend(more)
    if review is not None and not held:  # a held request stays held whatever is approved
        if status != "PENDING_REVIEW":
            raise ConflictError(
                f"request `{rule.request_id}` is not pending review (it is {status})",
                reason="not_pending",
            )
        if review.action == "refuse":
            status = "WITHHELD"
        elif verdict is None or verdict.candidate is None:
            raise ConflictError(
                f"request `{rule.request_id}` has no candidate taxpayer: approval refused",
                reason="no_candidate",
            )
        else:
            status, disclosed, withheld, more = _disclose(rule, rows, catalogue, cites)
            reasons.extend(more)
    return FinalDecision(
        request_id=rule.request_id,
        status=status,
        rule_outcome=rule.outcome,
        tax_years=tuple(rule.tax_years),
        reasons=tuple(reasons),
        trace=tuple(rule.trace),
        match=verdict,
        disclosed=disclosed,
        withheld=withheld,
        rulebook_version=rule.rulebook_version if rulebook_version is None else rulebook_version,
        model_version=match.model_version if match else "",
        review=review,
    )


def _disclose(
    rule: RuleDecision,
    rows: Sequence[Mapping[str, object]],
    catalogue: Catalogue,
    citations: Mapping[str, str],
) -> tuple[Status, Mapping[str, object], tuple[WithheldField, ...], tuple[Reason, ...]]:
    plan = plan_disclosure(rule.fields, rule.tax_years, "DISCLOSED", rows, catalogue, citations)
    status: Status = "DISCLOSED" if plan.disclosed else "WITHHELD"
    return status, dict(plan.disclosed), plan.withheld, plan.reasons


# ------------------------------------------------------------------ the one serialisation


def _match_block(v: MatchVerdict | None) -> dict[str, Any]:
    if v is None:
        return {"verdict": None, "probability": None, "candidates": 0}
    return {
        "verdict": v.verdict,
        "probability": round(v.probability, 6),
        "second_probability": round(v.second_probability, 6),
        "candidates": v.candidates,
        "evidence": dict(v.evidence),
    }


def to_body(d: FinalDecision, audit_index: int | None = None) -> dict[str, Any]:
    """The decision as its ``decisions.jsonl`` line (no TIN: candidates stay in the store).

    >>> body = to_body(FinalDecision("R1", "REJECTED", "rejected", rulebook_version="v1"))
    >>> body["status"], body["match"], body["audit_index"]
    ('REJECTED', {'verdict': None, 'probability': None, 'candidates': 0}, None)
    >>> from_body(body) == FinalDecision("R1", "REJECTED", "rejected", rulebook_version="v1")
    True
    """
    body: dict[str, Any] = {
        "request_id": d.request_id,
        "status": d.status,
        "tax_years": list(d.tax_years),
        "reasons": [r.as_dict() for r in d.reasons],
        "match": _match_block(d.match),
        "disclosed_fields": sorted(d.disclosed),
        "withheld_fields": [{"field": w.field, "code": w.code} for w in d.withheld],
        "rulebook_version": d.rulebook_version,
        "model_version": d.model_version,
        "audit_index": audit_index,
        "trace": [{"code": t.code, "passed": t.passed, "detail": t.detail} for t in d.trace],
    }
    if d.review is not None:
        body["review"] = {"action": d.review.action, "user": d.review.user, "note": d.review.note}
    return body


def from_body(
    body: Mapping[str, Any],
    *,
    candidate: str = "",
    runner_up: str = "",
    disclosed: Mapping[str, object] | None = None,
) -> FinalDecision:
    """A stored decision line read back; the store supplies the TINs and disclosed values.

    The rule outcome is not a field of the line: a rejected request is REJECTED, and a
    request the rule stage did not accept carries that stage's reasons (``R-`` codes).
    """
    status = str(body["status"])
    if status not in STATUSES:
        raise ValueError(f"unknown status `{status}`")
    reasons = tuple(
        Reason(str(r["code"]), str(r.get("citation", "")), str(r.get("message", "")))
        for r in body.get("reasons", [])
    )
    outcome: Outcome
    if status == "REJECTED":
        outcome = "rejected"
    elif any(r.code.startswith("R-") for r in reasons):
        outcome = "review"
    else:
        outcome = "accepted"
    m = body.get("match") or {}
    verdict = None
    if m.get("verdict") is not None:
        verdict = MatchVerdict(
            verdict=str(m["verdict"]),
            probability=float(m.get("probability") or 0.0),
            second_probability=float(m.get("second_probability") or 0.0),
            candidates=int(m.get("candidates") or 0),
            evidence=dict(m.get("evidence") or {}),
            candidate=candidate or None,
            runner_up=runner_up or None,
        )
    names = list(body.get("disclosed_fields", []))
    values = disclosed if disclosed is not None else dict.fromkeys(names)
    rv = body.get("review")
    return FinalDecision(
        request_id=str(body["request_id"]),
        status=status,  # checked against STATUSES above
        rule_outcome=outcome,
        tax_years=tuple(int(y) for y in body.get("tax_years", [])),
        reasons=reasons,
        trace=tuple(
            RuleCheck(str(t["code"]), bool(t["passed"]), str(t.get("detail", "")))
            for t in body.get("trace", [])
        ),
        match=verdict,
        disclosed={k: values.get(k) for k in names},
        withheld=tuple(
            WithheldField(str(w["field"]), str(w["code"])) for w in body.get("withheld_fields", [])
        ),
        rulebook_version=str(body.get("rulebook_version", "")),
        model_version=str(body.get("model_version", "")),
        review=ReviewAction(rv["action"], str(rv.get("user", "")), str(rv.get("note", "")))
        if isinstance(rv, Mapping)
        else None,
    )


def rule_of(d: FinalDecision, fields: Sequence[str]) -> RuleDecision:
    """The rule-stage verdict a stored decision was made from (for a review's recompute)."""
    rule_reasons = tuple(r for r in d.reasons if r.code.startswith("R-"))
    return RuleDecision(
        d.request_id,
        d.rule_outcome,
        rule_reasons,
        d.trace,
        d.tax_years,
        tuple(fields),
        d.rulebook_version,
    )


def match_of(d: FinalDecision) -> MatchResult | None:
    """The match result a stored decision was made from (for a review's recompute)."""
    v = d.match
    if v is None:
        return None
    return MatchResult(
        request_id=d.request_id,
        verdict=v.verdict,
        tin=v.candidate,
        probability=v.probability,
        candidates=v.candidates,
        second_probability=v.second_probability,
        evidence=dict(v.evidence),
        model_version=d.model_version,
        runner_up=v.runner_up,
    )
