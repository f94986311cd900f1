"""Re-audit: every past DISCLOSED request judged again, from its stored request data, under
another rulebook, as of the day its batch was received. Answers "which past disclosures
were unlawful under this reading" in one command; the re-audit is itself logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from taxgate.pipeline import rule_history
from taxgate.rules.evaluate import BatchContext, evaluate_batch
from taxgate.rules.rulebook import load_rulebook
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.types import REQUEST_COLUMNS, Request
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class Finding:
    request_id: str
    batch_id: str
    agency: str
    codes: tuple[str, ...]
    original_rulebook: str
    why: tuple[str, ...] = ()  # "CODE: message" per reason, free of personal data


@dataclass(frozen=True, slots=True)
class ReauditResult:
    rulebook_version: str
    disclosed: int
    refused: list[Finding]
    audit_index: int


def _received(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def reaudit(ws: Workspace, rulebook_file: Path) -> ReauditResult:
    rb = load_rulebook(rulebook_file)
    findings: list[Finding] = []
    disclosed = 0
    with ws.transaction() as (s, _):
        batch_ids = list(
            s.scalars(
                select(m.Decision.batch_id).where(m.Decision.status == "DISCLOSED").distinct()
            )
        )
        for batch_id in sorted(batch_ids):
            batch = s.get(m.Batch, batch_id)
            assert batch is not None
            rows = repo.batch_request_rows(s, batch_id)
            requests = [
                Request(**{c: str(r.payload.get(c, "")) for c in REQUEST_COLUMNS}, row=r.row)
                for r in rows
            ]
            decisions = repo.stored_decisions(s, batch.agency_code, [r.request_id for r in rows])
            received = _received(batch.received_at)
            hist = rule_history(s, batch.agency_code, rb, batch_id, at=received)
            ctx = BatchContext(
                agency=batch.agency_code,
                requester_authorized=True,
                today=received.date(),
                field_names=ws.catalogue.names(),
                requester_authority=batch.official_authority,
            )
            for d in evaluate_batch(requests, ctx, rb, ws.statutes, hist):
                stored = decisions.get(d.request_id)
                if stored is None or stored.status != "DISCLOSED":
                    continue
                disclosed += 1
                if d.outcome != "accepted":
                    findings.append(
                        Finding(
                            d.request_id,
                            batch_id,
                            batch.agency_code,
                            tuple(r.code for r in d.reasons) or ("review",),
                            stored.rulebook_version,
                            tuple(f"{r.code}: {r.message}" for r in d.reasons)
                            or ("a rule would send it to human review",),
                        )
                    )
    with ws.transaction() as (_, log):
        idx = log.append(
            "reaudit",
            rb.version,
            {
                "rulebook_version": rb.version,
                "disclosed_examined": disclosed,
                "would_refuse": len(findings),
                "request_ids": [f.request_id for f in findings],
            },
        )
    return ReauditResult(rb.version, disclosed, findings, idx)
