"""A batch written by its forked writer process (taxgate.writer) on each store: the log
verifies, the lines are the stored decisions (a resubmission is answered with exactly
them), and another agency reusing the ids still gets only its own answers."""

from __future__ import annotations

import pytest

from tests.integrity.conftest import AGENCY_B, Site, read_rows
from tests.integrity.test_request_ids import STRANGER, verify


@pytest.fixture(autouse=True)
def _forked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXGATE_WRITER_FROM", "0")  # every batch, however small
    monkeypatch.setenv("TAXGATE_CHUNK_SIZE", "7")  # many chunks, the last one short


def test_forked_writer_keeps_every_promise_on_each_store(site: Site) -> None:
    first = site.process(site.world.batch, site.root / "out-a")
    lines = site.decisions(site.root / "out-a")
    assert first.new == len(lines) == 60
    assert [d["request_id"] for d in lines] == [
        r["request_id"] for r in read_rows(site.world.batch)
    ]
    indexes = [d["audit_index"] for d in lines]
    assert all(isinstance(i, int) for i in indexes) and len(set(indexes)) == len(indexes)
    verify(site)
    # the same batch again is answered from the store: the stored bodies are the lines
    again = site.process(site.world.batch, site.root / "out-again")
    assert again.new == 0 and again.repeated == 60
    assert site.decisions(site.root / "out-again") == lines
    # another agency reusing A's ids for other people gets its own answers, none of A's
    rows = [{**r, **STRANGER} for r in read_rows(site.world.batch)]
    batch_b = site.batch("b-forked", rows, agency=AGENCY_B, key=site.world.root / "b.key")
    site.process(batch_b, site.root / "out-b")
    decided_b = site.decisions(site.root / "out-b")
    assert len(decided_b) == 60
    assert not any(d["status"] == "DISCLOSED" for d in decided_b)
    assert site.response(site.root / "out-b") == []
    verify(site)
