"""The review queue: a rule marked `review` sends matched requests to a person; approval
needs a second person; a refusal withholds; every action is logged and verifiable."""

from __future__ import annotations

import getpass
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import World, new_batch, policy_review_config, taxgate


@pytest.fixture(scope="module")
def reviewed(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> tuple[World, Path, Path, Path]:
    root = tmp_path_factory.mktemp("review")
    config = policy_review_config(root)
    wd = root / "work"
    shutil.copytree(world.workdir, wd)
    batch = new_batch(world, root, seed=5, workdir=wd)
    taxgate("process", batch, "--out", root / "out", "--workdir", wd, "--config", config)
    return world, wd, batch, root


def test_review_switch_sends_requests_to_review(reviewed: tuple[World, Path, Path, Path]) -> None:
    world, wd, _, root = reviewed
    pending = [d for d in world.decisions(root / "out") if d["status"] == "PENDING_REVIEW"]
    assert pending
    # R-CASE switched to review (beside co-defendants over the per-case cap and the matcher's
    # named discrepancies): each waiting request says why
    assert all(
        d["reasons"]
        or d["match"].get("verdict") == "REVIEW"
        or d["match"]["evidence"]["best"]["discrepancies"]
        for d in pending
    )
    assert any("R-CASE" in {r["code"] for r in d["reasons"]} for d in pending)
    listed = taxgate("review", "list", "--workdir", wd).stdout
    assert all(d["request_id"] in listed for d in pending)
    # each line names the candidate taxpayer the request was held for (stored, not in the line)
    candidates = _candidates(wd)
    by_id = {line.split("\t")[0]: line.split("\t") for line in listed.splitlines()}
    for d in pending:
        assert by_id[d["request_id"]][5] == candidates[d["request_id"]]


def _candidates(wd: Path) -> dict[str, str]:
    con = sqlite3.connect(wd / "taxgate.sqlite")
    rows = con.execute(
        "SELECT request_id, matched_tin FROM decisions WHERE status = 'PENDING_REVIEW'"
    ).fetchall()
    con.close()
    return dict(rows)


def test_two_people_and_refusal(reviewed: tuple[World, Path, Path, Path]) -> None:
    world, wd, batch, root = reviewed
    pending = [
        d["request_id"] for d in world.decisions(root / "out") if d["status"] == "PENDING_REVIEW"
    ]
    assert len(pending) >= 2
    candidates = _candidates(wd)
    first = next(r for r in pending if candidates[r])  # held with a candidate taxpayer
    second = next(r for r in pending if r != first)
    me = getpass.getuser()
    selfie = taxgate(
        "review",
        "decide",
        first,
        "--approve",
        "--note",
        "looks right",
        "--as",
        me,
        "--workdir",
        wd,
        check=False,
    )
    assert selfie.returncode == 1 and "another person must approve" in selfie.stderr
    con = sqlite3.connect(wd / "taxgate.sqlite")
    refusals = con.execute(
        "SELECT entry FROM audit_entries WHERE event_type = 'review' AND object_id = ?", (first,)
    ).fetchall()
    con.close()
    assert len(refusals) == 1 and b'"outcome":"failure"' in refusals[0][0]
    no_note = taxgate(
        "review", "decide", first, "--approve", "--as", "reviewer2", "--workdir", wd, check=False
    )
    assert no_note.returncode == 2
    taxgate(
        "review",
        "decide",
        first,
        "--approve",
        "--note",
        "confirmed",
        "--as",
        "reviewer2",
        "--workdir",
        wd,
    )
    taxgate(
        "review",
        "decide",
        second,
        "--refuse",
        "--note",
        "statute is civil",
        "--as",
        "reviewer2",
        "--workdir",
        wd,
    )
    again = taxgate(
        "review",
        "decide",
        second,
        "--approve",
        "--note",
        "x",
        "--as",
        "reviewer3",
        "--workdir",
        wd,
        check=False,
    )
    assert again.returncode == 1 and "not pending review" in again.stderr
    taxgate("process", batch, "--out", root / "out2", "--workdir", wd)
    after = {d["request_id"]: d for d in world.decisions(root / "out2")}
    # approval discloses the candidate's permitted fields, recorded under the candidate's TIN
    assert after[first]["status"] == "DISCLOSED" and after[first]["disclosed_fields"]
    assert after[first]["review"]["user"] == "reviewer2"
    assert after[second]["status"] == "WITHHELD"
    lines = {
        x["request_id"]: x
        for x in map(json.loads, (root / "out2" / "response.jsonl").read_text().splitlines())
    }
    assert sorted(lines[first]["fields"]) == after[first]["disclosed_fields"]
    assert all(v not in (None, {}) for v in lines[first]["fields"].values())
    assert second not in lines
    record = taxgate("disclosures", "--tin", candidates[first], "--workdir", wd).stdout
    assert first in {json.loads(x)["request_id"] for x in record.splitlines()}
    taxgate("audit", "verify", "--workdir", wd)
