"""The final decision, computed by one pure function: every rule outcome x match verdict x
review action, against a table written out by hand (not derived from the code)."""

from __future__ import annotations

import itertools

import pytest

from taxgate.decision import final_decision, from_body, match_of, rule_of, to_body
from taxgate.disclosure.fields import load_catalogue
from taxgate.errors import ConflictError
from taxgate.types import (
    FinalDecision,
    MatchResult,
    Reason,
    ReviewAction,
    RuleCheck,
    RuleDecision,
)

CATALOGUE = load_catalogue()
TIN, RUNNER = "900000001", "900000002"
ROWS = [{"tax_year": 2022, "last_name": "Example", "wages": 10, "phone": "555"}]
FIELDS = ("last_name", "wages", "phone")  # phone is taxpayer return information: D-TRI
RULE_REASON = Reason("R-STATUTE", "6103(i)(2)(A)", "sent to review")

OUTCOMES = ("accepted", "review", "rejected")
VERDICTS = (None, "MATCH", "REVIEW", "M-AMBIGUOUS", "M-NONE", "M-ADDRESS")
ACTIONS = (None, "approve", "refuse")

# status before review, by (rule outcome, verdict); "rejected" is never matched
BEFORE = {
    ("accepted", "MATCH"): "DISCLOSED",
    ("accepted", "REVIEW"): "PENDING_REVIEW",
    ("review", "MATCH"): "PENDING_REVIEW",
    ("review", "REVIEW"): "PENDING_REVIEW",
    ("accepted", "M-AMBIGUOUS"): "AMBIGUOUS",
    ("review", "M-AMBIGUOUS"): "AMBIGUOUS",
    ("accepted", "M-NONE"): "NO_MATCH",
    ("review", "M-NONE"): "NO_MATCH",
    ("accepted", "M-ADDRESS"): "NO_MATCH",
    ("review", "M-ADDRESS"): "NO_MATCH",
    ("accepted", None): "NO_MATCH",
    ("review", None): "NO_MATCH",
}


def _rule(outcome: str) -> RuleDecision:
    reasons = () if outcome == "accepted" else (RULE_REASON,)
    trace = (RuleCheck("R-STATUTE", outcome == "accepted"),)
    return RuleDecision("R1", outcome, reasons, trace, (2022,), FIELDS, "rb-1")  # type: ignore[arg-type]


def _match(verdict: str | None, *, candidate: bool = True) -> MatchResult | None:
    if verdict is None:
        return None
    names = verdict in ("MATCH", "REVIEW") and candidate
    return MatchResult(
        "R1",
        verdict,
        tin=TIN if names else None,
        probability=0.995,
        candidates=2,
        second_probability=0.1,
        evidence={"why": "test"},
        model_version="m-1",
        runner_up=RUNNER if names else None,
    )


@pytest.mark.parametrize(
    ("outcome", "verdict", "action"), list(itertools.product(OUTCOMES, VERDICTS, ACTIONS))
)
def test_every_rule_outcome_verdict_and_review_action(
    outcome: str, verdict: str | None, action: str | None
) -> None:
    rule, match = _rule(outcome), _match(None if outcome == "rejected" else verdict)
    review = ReviewAction(action, "rev", "why") if action else None  # type: ignore[arg-type]
    before = "REJECTED" if outcome == "rejected" else BEFORE[(outcome, verdict)]
    if review is not None and before != "PENDING_REVIEW":
        with pytest.raises(ConflictError) as e:
            final_decision(rule, match, ROWS, CATALOGUE, review)
        assert e.value.reason == "not_pending"
        return
    got = final_decision(rule, match, ROWS, CATALOGUE, review)
    want = before
    if action == "refuse":
        want = "WITHHELD"
    elif action == "approve":
        want = "DISCLOSED"
    assert got.status == want
    codes = [r.code for r in got.reasons]
    if outcome != "accepted":
        assert codes[0] == "R-STATUTE"
    if verdict and verdict.startswith("M-") and outcome != "rejected":
        assert verdict in codes  # the match says why nothing went out
    if got.status == "DISCLOSED":
        assert dict(got.disclosed) == {"last_name": "Example", "wages": {"2022": 10}}
        assert [(w.field, w.code) for w in got.withheld] == [("phone", "D-TRI")]
        assert got.response_line() == {
            "request_id": "R1",
            "tax_years": [2022],
            "fields": {"last_name": "Example", "wages": {"2022": 10}},
        }
    else:
        assert dict(got.disclosed) == {} and got.response_line() is None
    held = verdict in ("MATCH", "REVIEW") and outcome != "rejected"
    assert (got.candidate, got.runner_up) == ((TIN, RUNNER) if held else ("", ""))
    assert got.review == review and got.rulebook_version == "rb-1"


@pytest.mark.parametrize("verdict", ["MATCH", "REVIEW"])
def test_approval_without_a_candidate_is_refused(verdict: str) -> None:
    rule = _rule("review" if verdict == "MATCH" else "accepted")
    with pytest.raises(ConflictError) as e:
        final_decision(
            rule,
            _match(verdict, candidate=False),
            ROWS,
            CATALOGUE,
            ReviewAction("approve", "r", "n"),
        )
    assert e.value.reason == "no_candidate"


@pytest.mark.parametrize("rows", [[], [{"tax_year": 2019, "last_name": "Other year"}]])
def test_no_disclosed_status_without_a_disclosed_value(rows: list[dict[str, object]]) -> None:
    """A match, or an approval, whose candidate has no row in the requested years."""
    plain = final_decision(_rule("accepted"), _match("MATCH"), rows, CATALOGUE)
    approved = final_decision(
        _rule("accepted"), _match("REVIEW"), rows, CATALOGUE, ReviewAction("approve", "r", "n")
    )
    for d in (plain, approved):
        assert d.status == "WITHHELD" and dict(d.disclosed) == {} and d.response_line() is None


@pytest.mark.parametrize(("outcome", "verdict"), sorted(BEFORE, key=str))
def test_the_stored_line_reads_back_to_the_same_decision(outcome: str, verdict: str | None) -> None:
    d = final_decision(_rule(outcome), _match(verdict), ROWS, CATALOGUE)
    body = to_body(d, audit_index=7)
    assert "900000001" not in repr(body)  # no TIN in the line
    back = from_body(body, candidate=d.candidate, runner_up=d.runner_up, disclosed=d.disclosed)
    assert back == d
    if d.status == "PENDING_REVIEW":  # what a review recomputes from
        again = final_decision(rule_of(back, FIELDS), match_of(back), ROWS, CATALOGUE)
        assert again == d


def test_from_body_refuses_an_unknown_status() -> None:
    body = to_body(FinalDecision("R1", "REJECTED", "rejected"))
    with pytest.raises(ValueError, match="unknown status"):
        from_body({**body, "status": "MAYBE"})


@pytest.mark.parametrize(
    ("outcome", "verdict"), [("accepted", "MATCH"), ("review", "MATCH"), ("accepted", "REVIEW")]
)
@pytest.mark.parametrize("action", [None, "approve"])
def test_a_held_back_taxpayer_is_never_disclosed(
    outcome: str, verdict: str, action: str | None
) -> None:
    """6103(i)(6): whatever the match or a reviewer says, a held-back candidate reads as
    NO_MATCH, D-HOLDBACK inside and M-NONE to the agency; the same request not held would
    go out (or wait for a person), so the hold is what stops it."""
    review = None if action is None else ReviewAction(action, "rivera", "checked")  # type: ignore[arg-type]
    free = final_decision(_rule(outcome), _match(verdict), ROWS, CATALOGUE)
    assert free.status in ("DISCLOSED", "PENDING_REVIEW")
    fd = final_decision(_rule(outcome), _match(verdict), ROWS, CATALOGUE, review, held=True)
    assert fd.status == "NO_MATCH" and not fd.disclosed
    assert [r.code for r in fd.reasons][-2:] == ["D-HOLDBACK", "M-NONE"]
    assert fd.response_line() is None


def test_rejected_stays_rejected_when_held() -> None:
    fd = final_decision(_rule("rejected"), None, ROWS, CATALOGUE, held=True)
    assert fd.status == "REJECTED" and "D-HOLDBACK" not in [r.code for r in fd.reasons]
