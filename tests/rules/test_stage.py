"""The per-request stage gives the same decisions in one process or several (forked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxgate.rules import BatchContext, Rulebook, StatuteCatalog, evaluate_stream
from taxgate.rules import stage as stage_module
from taxgate.types import Request

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))


def _corpus_requests() -> list[Request]:
    out: list[Request] = []
    for path in CASES:
        case = json.loads(path.read_text(encoding="utf-8"))
        c = case.get("context", {})
        for r in [*c.get("batch_before", []), case["request"], *c.get("batch", [])]:
            out.append(Request(**r))
    return out


@pytest.mark.skipif(stage_module.default_workers() < 2, reason="needs fork and 2 CPUs")
def test_forked_workers_give_the_same_decisions(
    monkeypatch: pytest.MonkeyPatch,
    ctx: BatchContext,
    rulebook: Rulebook,
    statutes: StatuteCatalog,
) -> None:
    batch = _corpus_requests()
    monkeypatch.setattr(stage_module, "CHUNK", 16)
    monkeypatch.setattr(stage_module, "PARALLEL_MIN", 64)
    serial = evaluate_stream(iter(batch), ctx, rulebook, statutes, workers=1)
    forked = evaluate_stream(iter(batch), ctx, rulebook, statutes, workers=2)
    assert len(batch) > 8 * 16
    assert forked == serial
    assert {d.outcome for d in serial} == {"accepted", "rejected"}
    assert any(r.code == "R-DUPLICATE" for d in serial for r in d.reasons)
