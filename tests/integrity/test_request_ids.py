"""Request ids belong to their agency (issue 13, item 3), on both stores.

Each test failed before: agency B reusing A's ids was answered from A's decisions (B's
signed response carried A's taxpayers' values); a reused id with other content got the old
answer; three rows with one id got the first row's decision.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from taxgate.errors import InputError
from taxgate.storage.audit_log import verify_log
from tests.integrity.conftest import AGENCY_B, Site, read_rows

STRANGER = {
    "first_name": "Zyxwq",
    "middle_name": "",
    "last_name": "Qvorthnax",
    "suffix": "",
    "date_of_birth": "1901-01-01",
}


def _count(site: Site, table: str) -> int:
    if site.env:
        import psycopg

        url = site.env["TAXGATE_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as con:
            row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            return int(row[0]) if row else 0
    con = sqlite3.connect(site.workdir / "taxgate.sqlite")
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def verify(site: Site) -> None:
    ws = site.ws()
    with ws.transaction() as (s, _):
        verify_log(s, ws.agency_key().public_key())


def _first_batch(site: Site) -> tuple[Path, list[dict[str, object]]]:
    out = site.root / "out-a"
    site.process(site.world.batch, out)
    return out, site.decisions(out)


def test_another_agency_reusing_ids_gets_its_own_answers(site: Site) -> None:
    out_a, decided_a = _first_batch(site)
    disclosed_a = {d["request_id"] for d in decided_a if d["status"] == "DISCLOSED"}
    assert disclosed_a, "the world must disclose something for the test to mean anything"
    rows = [{**r, **STRANGER} for r in read_rows(site.world.batch)]  # A's ids, other people
    batch_b = site.batch("b-reuse", rows, agency=AGENCY_B, key=site.world.root / "b.key")
    out_b = site.root / "out-b"
    site.process(batch_b, out_b)
    decided_b = site.decisions(out_b)
    assert {d["request_id"] for d in decided_b} == {r["request_id"] for r in rows}
    assert not any(d["status"] == "DISCLOSED" for d in decided_b)
    assert not any("R-DUPLICATE" in str(d["reasons"]) for d in decided_b)
    assert site.response(out_b) == []
    # A's record is untouched: its decisions and disclosures are still A's alone
    assert _count(site, "disclosures") == len(disclosed_a)
    assert _count(site, "decisions") == len(decided_a) + len(decided_b)
    verify(site)


def test_reused_id_with_other_content_is_refused_not_answered(site: Site) -> None:
    _, decided_a = _first_batch(site)
    rows = read_rows(site.world.batch)[:3]
    rows[1] = {**rows[1], **STRANGER}
    batch = site.batch("a-reuse", rows)
    before = _count(site, "audit_entries"), _count(site, "decisions")
    code, _, err = site.cli("process", batch, "--out", site.root / "out-reuse")
    assert code == 1
    assert "rows 3" in err and "already used" in err
    assert STRANGER["last_name"] not in err
    assert not (site.root / "out-reuse").exists()
    assert _count(site, "decisions") == before[1]
    assert _count(site, "audit_entries") == before[0] + 1  # the refusal, and nothing else
    verify(site)


def test_same_id_same_content_returns_the_earlier_decision(site: Site) -> None:
    _, decided_a = _first_batch(site)
    disclosures = _count(site, "disclosures")
    rows = read_rows(site.world.batch)[:10]
    batch = site.batch("a-again", rows)
    out = site.root / "out-again"
    site.process(batch, out)
    earlier = {d["request_id"]: d for d in decided_a}
    again = site.decisions(out)
    assert [d["request_id"] for d in again] == [r["request_id"] for r in rows]
    for d in again:
        assert d == earlier[d["request_id"]]
    assert _count(site, "disclosures") == disclosures  # nothing disclosed twice


def test_repeated_id_inside_a_batch_refuses_the_batch(site: Site) -> None:
    rows = read_rows(site.world.batch)[:5]
    rows[3] = {**rows[3], "request_id": rows[0]["request_id"]}
    rows[4] = {**rows[4], "request_id": rows[0]["request_id"]}
    batch = site.batch("a-dup", rows)
    code, _, err = site.cli("process", batch, "--out", site.root / "out-dup")
    assert code == 1
    assert "rows 2, 5, 6" in err, err
    assert not (site.root / "out-dup").exists()
    assert _count(site, "decisions") == 0
    assert _count(site, "requests") == 0


def test_empty_batch_is_refused(site: Site) -> None:
    batch = site.batch("a-empty", [])
    with pytest.raises(InputError, match="no requests"):
        site.process(batch)
    assert _count(site, "batches") == 0
