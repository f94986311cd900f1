"""The oversight report's own sections: period, trends, statutes by section, reviews,
re-audit findings, batches refused whole and the log's verification."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.conftest import World, new_batch, statute_review_config, taxgate
from tests.reports.test_reports_html import parse

from taxgate.errors import UsageError
from taxgate.reports.oversight import (
    NOT_A_CITATION,
    Period,
    ReviewRow,
    group_statutes,
    reviews_by_reviewer,
    section_of,
    trends,
)


def test_period_from_year_and_dates() -> None:
    p = Period.of(year=2025)
    assert (p.since, p.until, p.label) == ("2025-01-01", "2026-01-01", "2025")
    assert p.contains("2025-12-31T23:59:59.999999Z") and not p.contains("2026-01-01T00:00:00Z")
    assert not p.contains("2024-12-31T23:59:59Z")
    q = Period.of(since="2026-02-01", until="2026-02-28")
    assert q.until == "2026-03-01" and q.contains("2026-02-28T23:00:00Z")
    assert Period.of().contains("1999-01-01T00:00:00Z")
    assert Period.of(until="2026-01-31").label == "the beginning to 2026-01-31"
    for bad in (
        {"year": 2025, "since": "2025-01-01"},
        {"since": "2026-02-30"},
        {"since": "yesterday"},
        {"since": "2026-03-01", "until": "2026-02-01"},
        {"year": 12},
    ):
        with pytest.raises(UsageError):
            Period.of(**bad)  # type: ignore[arg-type]


def test_statutes_grouped_by_section() -> None:
    assert section_of("8 U.S.C. 1324(a)(1)(A)") == ("8 U.S.C. 1324", "(a)(1)(A)")
    assert section_of("8 USC § 1324") == ("8 U.S.C. 1324", "")
    assert section_of("18 U.S.C. 1028A") == ("18 U.S.C. 1028A", "")
    for not_one in ("", "Jane Roe", "8 U.S.C.", "<script>", "1324"):
        assert section_of(not_one) is None
    groups = group_statutes(
        {
            "8 U.S.C. 1324(a)(1)(A)": {"requests": 3, "disclosed": 1, "rejected": 1},
            "8 USC 1324": {"requests": 2, "disclosed": 2, "rejected": 0},
            "21 U.S.C. 841": {"requests": 1, "disclosed": 0, "rejected": 1},
            "Jane Roe": {"requests": 4, "disclosed": 0, "rejected": 4},
            "18 U.S.C. 1343": {"requests": 5, "disclosed": 5, "rejected": 0},
        }
    )
    assert [g.section for g in groups] == [
        "8 U.S.C. 1324",
        "18 U.S.C. 1343",
        "21 U.S.C. 841",
        NOT_A_CITATION,
    ]
    g = groups[0]
    assert (g.requests, g.disclosed, g.rejected) == (5, 3, 1)
    assert dict(g.subsections) == {"(a)(1)(A)": 3, "(section itself)": 2}
    assert groups[-1].subsections == ()  # what is not a citation is never shown


def test_reviews_by_reviewer_and_time_to_decision() -> None:
    rows = [
        ReviewRow("rivera", "approve", "2026-01-01T02:00:00Z", "2026-01-01T00:00:00Z"),
        ReviewRow("rivera", "refuse", "2026-01-01T05:00:00Z", "2026-01-01T00:00:00Z"),
        ReviewRow("rivera", "approve", "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"),
        ReviewRow("okafor", "refuse", "2026-01-01T00:30:00Z", "2026-01-01T00:00:00Z"),
    ]
    lines = {x.reviewer: x for x in reviews_by_reviewer(rows)}
    assert (lines["rivera"].approved, lines["rivera"].refused) == (2, 1)
    assert lines["rivera"].median_hours == pytest.approx(5.0)
    assert lines["rivera"].longest_hours == pytest.approx(24.0)
    assert lines["okafor"].median_hours == pytest.approx(0.5)
    assert lines["all reviewers"].approved == 2 and lines["all reviewers"].refused == 2
    assert reviews_by_reviewer([]) == []


def test_trends_fill_empty_months_and_cross_years() -> None:
    t = trends(
        [
            ("2025-11-30T23:00:00Z", "DOJ", "DISCLOSED"),
            ("2026-02-01T00:00:00Z", "DHS", "REJECTED"),
            ("2026-02-03T00:00:00Z", "DHS", "NO_MATCH"),
        ]
    )
    assert t.months == ("2025-11", "2025-12", "2026-01", "2026-02")
    assert t.by_outcome["disclosed"] == (1, 0, 0, 0)
    assert t.by_outcome["refused by the rules"] == (0, 0, 0, 1)
    assert t.by_outcome["other outcomes"] == (0, 0, 0, 1)
    assert t.by_agency == {"DHS": (0, 0, 0, 2), "DOJ": (1, 0, 0, 0)}
    assert trends([]).months == ()


def _sections(page: str) -> dict[str, list[list[str]]]:
    return parse(page).tables


@pytest.mark.slow
def test_oversight_report_over_a_period_with_reviews_reaudit_and_a_refused_batch(
    world: World, tmp_path: Path
) -> None:
    wd = world.copy_workdir(tmp_path / "work")
    config = statute_review_config(tmp_path)
    # a second batch whose statute problems go to review, and two reviews of it
    batch = new_batch(world, tmp_path / "b2", seed=71, requests=120, workdir=wd)
    taxgate("process", batch, "--out", tmp_path / "out2", "--workdir", wd, "--config", config)
    taxgate("users", "add", "rivera", "--role", "reviewer", "--workdir", wd)
    listed = taxgate("review", "list", "--workdir", wd).stdout.splitlines()
    ids = [line.split("\t")[0] for line in listed if line.startswith("SYN-")][:2]
    assert ids, "the review configuration sent nothing to review"
    for rid, flag in zip(ids, ("--approve", "--refuse"), strict=False):
        taxgate(
            "review", "decide", rid, flag, "--note", "checked", "--as", "rivera", "--workdir", wd
        )
    taxgate(
        "reaudit", "--rulebook", "src/taxgate/data/rulebooks/6103i2-strict.yaml", "--workdir", wd
    )
    # a batch refused whole: its requests changed after signing
    tampered = tmp_path / "tampered"
    shutil.copytree(world.batch, tampered)
    manifest = json.loads((tampered / "manifest.json").read_text(encoding="utf-8"))
    manifest["batch_id"] = "TAMPERED-1"
    (tampered / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refused = taxgate("process", tampered, "--out", tmp_path / "o3", "--workdir", wd, check=False)
    assert refused.returncode == 1

    year = datetime.now(UTC).year
    taxgate("report", "--year", year, "--out", tmp_path / "r.html", "--workdir", wd)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    tables = _sections(page)
    assert "Verified" in page and "Did NOT verify" not in page
    batches = tables["Batches received in the period, oldest first"][1:]
    assert len(batches) == 2
    reviews = {
        r[0]: r
        for r in tables[next(t for t in tables if t.startswith("Decisions by reviewers"))][1:]
    }
    assert reviews["rivera"][1:3] == ["1", str(len(ids) - 1)]
    reaudit = tables["Past disclosures judged again under another rulebook"][1]
    assert "6103i2-strict" in " ".join(reaudit)
    refused_rows = tables[next(t for t in tables if t.startswith("Batches refused before"))][1:]
    assert refused_rows[0][1] == "TAMPERED-1"
    statutes = tables[next(t for t in tables if t.startswith("Requests by the section"))]
    assert any(row[0].endswith(" U.S.C. 1324") for row in statutes[1:])
    assert "month received (UTC)" in page and "disclose at 0.999" in page
    # no request's personal data reaches the page
    import csv

    with (world.batch / "requests.csv").open(encoding="utf-8", newline="") as f:
        names = {r["last_name"] for r in csv.DictReader(f) if len(r["last_name"]) > 5}
    assert not [n for n in names if n in page]

    # another period holds nothing; a bad period is a usage error
    taxgate(
        "report", "--until", f"{year - 1}-12-31", "--out", tmp_path / "old.html", "--workdir", wd
    )
    old = (tmp_path / "old.html").read_text(encoding="utf-8")
    assert "no batch was received in the period" in old and "no review was decided" in old
    bad = taxgate(
        "report",
        "--year",
        year,
        "--since",
        "2020-01-01",
        "--out",
        tmp_path / "x.html",
        "--workdir",
        wd,
        check=False,
    )
    assert bad.returncode == 2 and not (tmp_path / "x.html").exists()


def test_a_log_that_does_not_verify_says_so(world: World, tmp_path: Path) -> None:
    import sqlite3

    wd = world.copy_workdir(tmp_path / "work")
    con = sqlite3.connect(wd / "taxgate.sqlite")
    con.execute("UPDATE audit_entries SET entry = CAST('{}' AS BLOB) WHERE idx = 3")
    con.commit()
    con.close()
    taxgate("report", "--out", tmp_path / "r.html", "--workdir", wd)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Did NOT verify" in page and "entry 3" in page
