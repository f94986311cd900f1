"""Judge a batch of requests against a rulebook: pure, no files, clock or database.

Each request is checked on its own as the batch streams past (case, officer, name, address,
periods, statute, reason length, information requested); only small keys are kept. Then the
batch-level rules count across the batch and the agency's history: R-ENGAGEMENT (requests
per case, cases per officer), R-REASON boilerplate, and R-DUPLICATE within the batch.

A request collects every failing rule. Deny by default: a request is ``accepted`` only when
every evaluated rule passes; a failing rule switched to ``review`` sends it to a human
(``review``) unless another failing rule is ``on`` (``rejected``); a rule switched ``off``
is skipped and its trace entry says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import count
from types import MappingProxyType

from taxgate import collector
from taxgate.rules.checks import RequestJudge, case_key
from taxgate.rules.names import ONE_WORD_NAME, officer_key
from taxgate.rules.neardup import ShingleTable
from taxgate.rules.reasons import (
    boilerplate_in_table,
    merge_placeholders,
    reason_key,
)
from taxgate.rules.rulebook import Rulebook
from taxgate.rules.safeguards import SafeguardStatus, safeguard_problem
from taxgate.rules.shingles import select_sets
from taxgate.rules.stage import NO_REASON, Stage, default_workers, judged
from taxgate.rules.statutes import StatuteCatalog
from taxgate.types import Outcome, Reason, Request, RuleCheck, RuleDecision

_EMPTY_MAP: Mapping[str, int] = MappingProxyType({})
_EMPTY_SETS: Mapping[str, frozenset[str]] = MappingProxyType({})

__all__ = [
    "CHECKED_RULES",
    "BatchContext",
    "History",
    "case_key",
    "evaluate_batch",
    "evaluate_stream",
    "officer_key",
    "reason_key",
    "requester_check",
]

#: Rules the engine evaluates, in trace order (R-SIGNATURE is decided at intake).
CHECKED_RULES: tuple[str, ...] = (
    "R-REQUESTER",
    "R-SAFEGUARDS",
    "R-CASE",
    "R-OFFICER",
    "R-NAME",
    "R-ADDRESS",
    "R-PERIOD",
    "R-STATUTE",
    "R-REASON",
    "R-PURPOSE",
    "R-INFO",
    "R-ENGAGEMENT",
    "R-DUPLICATE",
)


@dataclass(frozen=True)
class History:
    """What the store knows of the agency's last ``history_days`` days, before this batch.

    Attributes:
        reason_keys: normalised reasons (:func:`reason_key`) of earlier requests, one each.
        case_counts: normalised case number (:func:`case_key`) -> earlier requests.
        officer_cases: normalised officer (:func:`officer_key`) -> distinct normalised cases.
        officer_requests: normalised officer -> earlier requests, whatever their case numbers.
        agency_requests: the agency's requests in the rulebook's ``agency_period_days``.
    """

    reason_keys: Sequence[str] = ()
    case_counts: Mapping[str, int] = field(default_factory=lambda: _EMPTY_MAP)
    officer_cases: Mapping[str, frozenset[str]] = field(default_factory=lambda: _EMPTY_SETS)
    officer_requests: Mapping[str, int] = field(default_factory=lambda: _EMPTY_MAP)
    agency_requests: int = 0


@dataclass(frozen=True)
class BatchContext:
    """What the rules need to know about the batch besides its requests.

    Attributes:
        agency: the requesting agency's code.
        requester_authorized: the manifest's official is registered and active (R-REQUESTER).
        today: the date the batch is judged on ("current year" is ``today.year``).
        field_names: the field catalogue's names (``fields.yaml``); ``last_known_address``
            is always allowed.
        requester_authority: the signing official's registered authority (one of
            :data:`taxgate.rules.authority.AUTHORITIES`); none (``""``) fails R-REQUESTER.
        safeguards: the agency's registered 6103(p)(4) safeguard status (R-SAFEGUARDS);
            ``None``: none registered.
    """

    agency: str
    requester_authorized: bool
    today: date
    field_names: frozenset[str]
    requester_authority: str = ""
    safeguards: SafeguardStatus | None = None


def safeguards_check(ctx: BatchContext, rulebook: Rulebook) -> RuleCheck:
    """R-SAFEGUARDS for the whole batch (6103(p)(4)): the agency's safeguard status."""
    problem = safeguard_problem(ctx.safeguards, ctx.today, rulebook.safeguards)
    if problem is not None:
        return RuleCheck("R-SAFEGUARDS", False, problem)
    if ctx.safeguards is None:
        return RuleCheck("R-SAFEGUARDS", True, "no safeguard status registered (allowed)")
    return RuleCheck(
        "R-SAFEGUARDS", True, f"last safeguard report {ctx.safeguards.last_report.isoformat()}"
    )


def requester_check(ctx: BatchContext, rulebook: Rulebook) -> RuleCheck:
    """R-REQUESTER for the whole batch: registered, active, and holding an authority the
    statute and the rulebook let request for this agency. The trace names the authority."""
    if not ctx.requester_authorized:
        return RuleCheck(
            "R-REQUESTER", False, "the requesting official is not registered as authorized"
        )
    problem = rulebook.requester_problem(ctx.requester_authority, ctx.agency)
    if problem is not None:
        return RuleCheck("R-REQUESTER", False, problem)
    return RuleCheck("R-REQUESTER", True, f"authority: {ctx.requester_authority}")


#: request id, failures, years, fields, case, officer and reason index (-1: none), duplicate,
#: beyond the agency's cap for the period.
_Pending = tuple[
    str, dict[str, list[str]] | None, tuple[int, ...], tuple[str, ...], int, int, int, bool, bool
]


def evaluate_batch(
    requests: Sequence[Request],
    ctx: BatchContext,
    rulebook: Rulebook,
    statutes: StatuteCatalog,
    history: History = History(),  # noqa: B008 - frozen, never mutated
) -> list[RuleDecision]:
    """Judge every request of a batch.

    Args:
        requests: the batch, in file order.
        ctx: agency, requester authorisation, today's date, field catalogue.
        rulebook: the compiled rulebook; its version is named in every decision.
        statutes: the statute catalog.
        history: the agency's earlier requests within ``rulebook.history_days``.

    Returns:
        One :class:`~taxgate.types.RuleDecision` per request, in order.
    """
    return evaluate_stream(requests, ctx, rulebook, statutes, history)


def evaluate_stream(
    requests: Iterable[Request],
    ctx: BatchContext,
    rulebook: Rulebook,
    statutes: StatuteCatalog,
    history: History = History(),  # noqa: B008 - frozen, never mutated
    *,
    workers: int | None = None,
) -> list[RuleDecision]:
    """:func:`evaluate_batch` over an iterable read once (requests need not fit in memory).

    Args:
        requests: the batch, in file order, read once.
        ctx: see :func:`evaluate_batch`.
        rulebook: see :func:`evaluate_batch`.
        statutes: see :func:`evaluate_batch`.
        history: see :func:`evaluate_batch`.
        workers: processes for the per-request checks of a large batch (``None``: one per
            CPU; ``1``: this process only). The decisions do not depend on it.
    """
    # the stage keeps a million small tuples alive and allocates many more, none in a cycle:
    # full collections walking them all again were a sixth of its time (and the forked
    # workers inherit the pause)
    with collector.paused():
        return _evaluate(requests, ctx, rulebook, statutes, history, workers)


def _evaluate(
    requests: Iterable[Request],
    ctx: BatchContext,
    rulebook: Rulebook,
    statutes: StatuteCatalog,
    history: History,
    workers: int | None,
) -> list[RuleDecision]:
    workers = default_workers() if workers is None else workers
    judge = RequestJudge(ctx.today, ctx.field_names, rulebook, statutes)
    on = {code: rulebook.switch(code) != "off" for code in CHECKED_RULES}
    seen_ids: set[str] = set()
    cases: dict[str, int] = {}
    officers: dict[str, int] = {}
    reasons: dict[int, int] = {}  # hash of the normalised reason's words -> index in `table`
    table = ShingleTable()
    case_n: list[int] = []
    reason_n: list[int] = []
    officer_cases: list[set[int]] = []
    officer_n: list[int] = []
    agency_n = history.agency_requests
    agency_cap = rulebook.max_requests_per_agency
    pending: list[_Pending] = []
    hist_reason: list[int] = []
    for key in history.reason_keys:
        key = merge_placeholders(key)
        if key:
            hk = hash(key)
            k = reasons.get(hk, -1)
            if k < 0:
                k = reasons[hk] = table.add_joined(key)
                reason_n.append(0)
                hist_reason.append(0)
            hist_reason[k] += 1
    stage = Stage(judge, rulebook)
    for *columns, sets in judged(requests, stage, workers):
        fresh: list[int] = []  # positions of reasons new to the table, in order
        for j, rid, failures, years, fields, ck, ok, hk in zip(count(), *columns, strict=False):
            duplicate = rid in seen_ids
            seen_ids.add(rid)
            c = o = k = -1
            over_agency = False
            if not duplicate:
                agency_n += 1
                over_agency = agency_n > agency_cap
                if ck:
                    c = cases.setdefault(ck, len(cases))
                    if c == len(case_n):
                        case_n.append(0)
                    case_n[c] += 1
                if ok:
                    o = officers.setdefault(ok, len(officers))
                    if o == len(officer_cases):
                        officer_cases.append(set())
                        officer_n.append(0)
                    officer_n[o] += 1
                    if c >= 0:
                        officer_cases[o].add(c)
                if hk is not None:
                    k = reasons.get(hk, -1)
                    if k < 0:
                        k = reasons[hk] = len(reason_n)
                        fresh.append(j)
                        reason_n.append(0)
                        hist_reason.append(0)
                    reason_n[k] += 1
            pending.append((rid, failures, years, fields, c, o, k, duplicate, over_agency))
        if fresh:
            table.add_sets(select_sets(sets, fresh))

    bad_cases, bad_officers = _engagement(
        cases, officers, case_n, officer_cases, officer_n, history, rulebook
    )
    bad_reasons: set[int] = set()
    if on["R-REASON"] and len(table):
        bad_reasons = boilerplate_in_table(
            table,
            reason_n,
            hist_reason,
            threshold=rulebook.boilerplate_jaccard,
            cap=rulebook.boilerplate_cap,
            threads=workers,
        )
    requester = requester_check(ctx, rulebook)
    safeguard = safeguards_check(ctx, rulebook)
    passes = {
        **_PASS,
        "R-REQUESTER": requester if requester.passed else _PASS["R-REQUESTER"],
        "R-SAFEGUARDS": safeguard if safeguard.passed else _PASS["R-SAFEGUARDS"],
    }
    all_pass = tuple(passes[c] if on[c] else _SKIP[c] for c in CHECKED_RULES)
    clean = (requester.passed or not on["R-REQUESTER"]) and safeguard.passed
    version = rulebook.version
    del seen_ids, cases, officers, reasons, table
    decisions: list[RuleDecision] = []
    verdicts: dict[tuple[tuple[str, tuple[str, ...]], ...], _Verdict] = {}
    pending.reverse()  # consumed from the end, so each entry is freed once decided
    while pending:
        p = pending.pop()
        rid, failures, years, fields, c, o, k, duplicate, over_agency = p
        decisions.append(
            RuleDecision(rid, "accepted", (), all_pass, years, fields, version)
            if clean
            and failures is None
            and not duplicate
            and not over_agency
            and c not in bad_cases
            and o not in bad_officers
            and k not in bad_reasons
            else _decide(
                p,
                (requester, safeguard),
                rulebook,
                on,
                passes,
                bad_cases,
                bad_officers,
                bad_reasons,
                verdicts,
            )
        )
    return decisions


def _engagement(
    cases: Mapping[str, int],
    officers: Mapping[str, int],
    case_n: Sequence[int],
    officer_cases: Sequence[set[int]],
    officer_n: Sequence[int],
    history: History,
    rb: Rulebook,
) -> tuple[dict[int, bool], dict[int, list[str]]]:
    """Cases over the per-case cap (index -> beyond the cap with review: refused) and
    officers over a per-officer cap (index -> the caps they exceed, as messages)."""
    bad_cases: dict[int, bool] = {}
    for key, i in cases.items():
        total = case_n[i] + history.case_counts.get(key, 0)
        if total > rb.max_requests_per_case:
            bad_cases[i] = total > rb.max_requests_per_case_with_review
    names = list(cases)
    bad_officers: dict[int, list[str]] = {}
    for key, i in officers.items():
        mine = officer_cases[i]
        earlier = history.officer_cases.get(key, frozenset())
        total = len(earlier) + sum(1 for c in mine if names[c] not in earlier)
        problems = []
        if total > rb.max_cases_per_officer:
            problems.append(
                f"the officer is behind more than {rb.max_cases_per_officer} distinct cases"
            )
        if officer_n[i] + history.officer_requests.get(key, 0) > rb.max_requests_per_officer:
            problems.append(
                f"the officer is behind more than {rb.max_requests_per_officer} requests, "
                "whatever the case numbers"
            )
        if problems:
            bad_officers[i] = problems
    return bad_cases, bad_officers


def codefendants_message(rb: Rulebook) -> str:
    """R-ENGAGEMENT's message for a case between its two caps: a person decides."""
    return (
        f"the case number is behind more than {rb.max_requests_per_case} requests: "
        "co-defendants? a person decides"
    )


_PASS = {code: RuleCheck(code, True) for code in CHECKED_RULES}
_SKIP = {
    code: RuleCheck(code, True, "skipped: switched off in the rulebook") for code in CHECKED_RULES
}


def _decide(
    p: _Pending,
    batch_checks: tuple[RuleCheck, RuleCheck],
    rb: Rulebook,
    on: Mapping[str, bool],
    passes: Mapping[str, RuleCheck],
    bad_cases: Mapping[int, bool],
    bad_officers: Mapping[int, list[str]],
    bad_reasons: set[int],
    verdicts: dict[tuple[tuple[str, tuple[str, ...]], ...], _Verdict],
) -> RuleDecision:
    request_id, found, years, fields, case, officer, reason, duplicate, over_agency = p
    failures = found if found is not None else {}
    requester, safeguard = batch_checks
    if on["R-REQUESTER"] and not requester.passed:
        failures["R-REQUESTER"] = [requester.detail]
    if not safeguard.passed:
        failures["R-SAFEGUARDS"] = [safeguard.detail]
    if on["R-ENGAGEMENT"]:
        problems = []
        if case in bad_cases:
            problems.append(
                f"the case number is behind more than {rb.max_requests_per_case_with_review} "
                "requests"
                if bad_cases[case]
                else codefendants_message(rb)
            )
        problems.extend(bad_officers.get(officer, ()))
        if over_agency:
            problems.append(
                f"the agency has made more than {rb.max_requests_per_agency} requests in "
                f"{rb.agency_period_days} days"
            )
        if problems:
            failures["R-ENGAGEMENT"] = problems
    if reason in bad_reasons:
        failures.setdefault("R-REASON", []).append(
            f"the reason is boilerplate: repeated in more than {rb.boilerplate_cap} requests"
        )
    if on["R-DUPLICATE"] and duplicate:
        failures["R-DUPLICATE"] = ["the request id is repeated within the batch"]
    if not failures:
        all_pass = tuple(passes[c] if on[c] else _SKIP[c] for c in CHECKED_RULES)
        return RuleDecision(request_id, "accepted", (), all_pass, years, fields, rb.version)
    pattern = tuple((code, tuple(msgs)) for code, msgs in failures.items())
    verdict = verdicts.get(pattern)
    if verdict is None:
        verdict = verdicts[pattern] = _verdict(failures, rb, on, passes)
    outcome, reasons, trace = verdict
    return RuleDecision(request_id, outcome, reasons, trace, years, fields, rb.version)


_Verdict = tuple[Outcome, tuple[Reason, ...], tuple[RuleCheck, ...]]

#: Failures that send to review even when their rule is "on" (a person decides).
REVIEW_MESSAGES: frozenset[str] = frozenset({ONE_WORD_NAME})
#: Failures that refuse even when their rule is "review" (the statutory part of the rule).
HARD_MESSAGES: frozenset[str] = frozenset({NO_REASON})


def _verdict(
    failures: Mapping[str, list[str]],
    rb: Rulebook,
    on: Mapping[str, bool],
    passes: Mapping[str, RuleCheck],
) -> _Verdict:
    """Outcome, reasons and trace of a set of failures (frozen, shared by equal verdicts)."""
    reasons: list[Reason] = []
    trace: list[RuleCheck] = []
    hard = False
    review_messages = REVIEW_MESSAGES | {codefendants_message(rb)}
    for code in CHECKED_RULES:
        if not on[code]:
            trace.append(_SKIP[code])
            continue
        failed = failures.get(code)
        if not failed:
            trace.append(passes[code])
            continue
        message = "; ".join(failed)
        reasons.append(Reason(code, rb.citation(code), message))
        trace.append(RuleCheck(code, False, message))
        if rb.switch(code) == "on":
            hard = hard or any(m not in review_messages for m in failed)
        else:
            hard = hard or any(m in HARD_MESSAGES for m in failed)
    return ("rejected" if hard else "review"), tuple(reasons), tuple(trace)
