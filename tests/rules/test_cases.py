"""The rule corpus: every JSON case in ``cases/`` judged, outcome and codes compared."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from taxgate.rules import BatchContext, History, Rulebook, StatuteCatalog, evaluate_batch
from taxgate.rules.evaluate import reason_key
from taxgate.types import Request

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))


def _request(d: dict[str, str]) -> Request:
    return Request(**d)


def _history(h: dict[str, Any]) -> History:
    return History(
        reason_keys=[reason_key(_request(r)) for r in h.get("reason_requests", [])],
        case_counts=h.get("case_counts", {}),
        officer_cases={k: frozenset(v) for k, v in h.get("officer_cases", {}).items()},
        officer_requests=h.get("officer_requests", {}),
        agency_requests=h.get("agency_requests", 0),
    )


def judge(
    case: dict[str, Any], ctx: BatchContext, rulebook: Rulebook, statutes: StatuteCatalog
) -> tuple[str, list[str]]:
    c = case.get("context", {})
    ctx = dataclasses.replace(
        ctx,
        today=date.fromisoformat(c.get("today", ctx.today.isoformat())),
        requester_authorized=c.get("requester_authorized", True),
        requester_authority=c.get("requester_authority", ctx.requester_authority),
        agency=c.get("agency", ctx.agency),
    )
    if "switches" in c:
        rulebook = dataclasses.replace(rulebook, enabled={**rulebook.enabled, **c["switches"]})
    before = [_request(r) for r in c.get("batch_before", [])]
    after = [_request(r) for r in c.get("batch", [])]
    batch = [*before, _request(case["request"]), *after]
    decisions = evaluate_batch(batch, ctx, rulebook, statutes, _history(c.get("history", {})))
    d = decisions[len(before)]
    assert d.request_id == case["request"]["request_id"]
    assert d.rulebook_version == rulebook.version
    return d.outcome, sorted(r.code for r in d.reasons)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 80
    outcomes = {json.loads(p.read_text("utf-8"))["expect"]["outcome"] for p in CASES}
    assert outcomes == {"accepted", "rejected", "review"}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path, ctx: BatchContext, rulebook: Rulebook, statutes: StatuteCatalog) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    outcome, codes = judge(case, ctx, rulebook, statutes)
    assert (outcome, codes) == (case["expect"]["outcome"], sorted(case["expect"]["codes"])), case[
        "description"
    ]
