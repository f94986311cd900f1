"""What reports and outputs show (issue 13, item 5), on both stores.

- ``decisions.jsonl`` and the stored decision bodies carry no TIN: the match evidence once
  held the best and second candidates' TINs (an AMBIGUOUS decision named two taxpayers);
- the oversight report and the transparency counts key requests by (agency, request id):
  two agencies reusing one id were once counted four times under one agency.
"""

from __future__ import annotations

from sqlalchemy import select

from taxgate.services.oversight import report_data
from taxgate.storage import tables as m
from taxgate.transparency import year_counts
from tests.integrity.conftest import AGENCY_B, Site, read_rows


def _store_tins(site: Site) -> set[str]:
    with site.ws().transaction() as (s, _):
        rows = s.execute(select(m.Decision.matched_tin, m.Decision.runner_up_tin)).all()
        disclosed = set(s.scalars(select(m.Disclosure.tin)))
    return {t for r in rows for t in r if t} | disclosed


def test_decisions_carry_no_tin(site: Site) -> None:
    out = site.root / "out-a"
    site.process(site.world.batch, out)
    tins = _store_tins(site)
    assert len(tins) >= 5, "the world must match taxpayers for the test to mean anything"
    text = (out / "decisions.jsonl").read_text(encoding="utf-8")
    assert not [t for t in tins if t in text]
    with site.ws().transaction() as (s, _):
        bodies = [str(b) for b in s.scalars(select(m.Decision.body))]
    assert not [t for t in tins if any(t in b for b in bodies)]
    # the disclosed TINs go out where they belong: in the response, to the agency
    disclosed = {str(d["request_id"]) for d in site.decisions(out) if d["status"] == "DISCLOSED"}
    response = site.response(out)
    assert disclosed and {str(r["request_id"]) for r in response} == disclosed


def test_oversight_counts_each_agencys_request_once(site: Site) -> None:
    site.process(site.world.batch, site.root / "out-a")
    rows = read_rows(site.world.batch)
    batch_b = site.batch("b-same-ids", rows, agency=AGENCY_B, key=site.world.root / "b.key")
    site.process(batch_b, site.root / "out-b")  # B's requests reuse A's ids: other requests
    n = len(rows)
    data = report_data(site.ws())
    assert data.requests == 2 * n
    assert data.by_agency[site.agency_a]["requests"] == n
    assert data.by_agency[AGENCY_B]["requests"] == n
    with site.ws().transaction() as (s, _):
        year = int(
            s.scalars(select(m.RequestRow.received_at)).first()[:4]  # type: ignore[index]
        )
        counts = year_counts(s, year)
    assert sum(counts.outcomes.values()) == 2 * n
    assert counts.agencies[AGENCY_B]["requests"] == n
