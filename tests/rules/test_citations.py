"""The citation corpus: spellings a clerk or a hostile agency writes, judged by R-STATUTE and
grouped by the oversight report under their normalised section."""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_h

from taxgate.reports.oversight import group_statutes, section_of
from taxgate.rules import StatuteCatalog
from taxgate.rules import statutes as st
from taxgate.rules.checks import RequestJudge
from taxgate.rules.rulebook import load_rulebook
from taxgate.rules.statutes import load_statutes

CORPUS = json.loads(
    (Path(__file__).parent / "citations" / "spellings.json").read_text(encoding="utf-8")
)["cases"]
PROBLEMS = {
    None: None,
    "civil": st.CIVIL,
    "tax": st.TAX,
    "unlisted": st.UNLISTED_PART,
    "numbering": st.BAD_SUBSECTION,
    "not_citation": st.NOT_A_CITATION,
    "not_in_catalog": st.NOT_IN_CATALOG,
    "range": st.RANGE,
}


def test_corpus_holds_both_sides() -> None:
    assert len(CORPUS) >= 40
    assert {c["outcome"] for c in CORPUS} == {"allowed", "refused"}
    assert {c["problem"] for c in CORPUS} == set(PROBLEMS)


@pytest.mark.parametrize("case", CORPUS, ids=[c["citation"] for c in CORPUS])
def test_citation(case: dict[str, Any], statutes: StatuteCatalog) -> None:
    problem = statutes.problem(case["citation"])
    assert problem == PROBLEMS[case["problem"]], case["description"]
    assert (problem is None) == (case["outcome"] == "allowed")
    got = section_of(case["citation"], statutes.section_labels())
    assert (got[0] if got else None) == case["section"], case["description"]


def test_the_issues_civil_subsections_are_refused_and_criminal_ones_pass(
    statutes: StatuteCatalog,
) -> None:
    for civil in ("8 U.S.C. 1325(b)", "18 U.S.C. 1956(b)"):
        found = statutes.lookup(civil)
        assert found is not None and not found.criminal and not found.allowed
    for criminal in ("8 U.S.C. 1325(a)", "18 U.S.C. 1956(a)", "18 U.S.C. 1956(h)"):
        found = statutes.lookup(criminal)
        assert found is not None and found.allowed


def test_report_rows_are_grouped_by_normalised_section(statutes: StatuteCatalog) -> None:
    same = [c["citation"] for c in CORPUS if c["section"] == "18 U.S.C. 1956"]
    rows = {c: {"requests": 1, "disclosed": 0, "rejected": 1} for c in same}
    rows["8 U.S.C. 1324"] = {"requests": 2, "disclosed": 1, "rejected": 0}
    rows["8 USC 1324"] = {"requests": 1, "disclosed": 1, "rejected": 0}
    rows["8 U.S.C. § 1324(a)(1)(A)"] = {"requests": 4, "disclosed": 2, "rejected": 0}
    groups = {g.section: g for g in group_statutes(rows, statutes.section_labels())}
    assert set(groups) == {"8 U.S.C. 1324", "18 U.S.C. 1956"}
    assert groups["18 U.S.C. 1956"].requests == len(same) > 10
    g = groups["8 U.S.C. 1324"]
    assert (g.requests, g.disclosed) == (7, 4)
    assert dict(g.subsections) == {"(section itself)": 3, "(a)(1)(A)": 4}


# --- several citations in one field: a civil or tax one is never carried by the others ----

CRIMINAL = ["18 U.S.C. 1956(a)", "18 U.S.C. 1956(h)", "8 U.S.C. 1324(a)", "8 U.S.C. 1325(a)",
            "21 U.S.C. 841", "18 U.S.C. 1957"]  # fmt: skip
FORBIDDEN = ["8 U.S.C. 1325(b)", "18 U.S.C. 1956(b)", "8 U.S.C. 1324(b)", "26 U.S.C. 7201",
             "18 U.S.C. 1956 et seq.", "8 U.S.C. 1324 et seq."]  # fmt: skip
JOINERS = ["; ", ";", "\n", ", ", " and ", " AND ", " & ", ",  and "]


@functools.cache
def _request_judge() -> RequestJudge:
    return RequestJudge(date(2026, 11, 25), frozenset(), load_rulebook(), load_statutes())


def _judge(text: str, statutes: StatuteCatalog) -> str | None:
    judge = _request_judge()
    judge.statute_cache.clear()
    return judge.statute(text)


@settings(max_examples=100, deadline=None)
@given(
    crim=st_h.lists(st_h.sampled_from(CRIMINAL), min_size=1, max_size=3),
    bad=st_h.sampled_from(FORBIDDEN),
    at=st_h.integers(0, 3),
    joiner=st_h.sampled_from(JOINERS),
)
def test_a_forbidden_citation_joined_to_criminal_ones_is_refused(
    crim: list[str], bad: str, at: int, joiner: str, statutes: StatuteCatalog
) -> None:
    parts = [*crim]
    parts.insert(min(at, len(parts)), bad)
    assert _judge(joiner.join(parts), statutes) is not None


@settings(max_examples=100, deadline=None)
@given(
    crim=st_h.lists(st_h.sampled_from(CRIMINAL), min_size=1, max_size=4),
    joiner=st_h.sampled_from(JOINERS),
)
def test_criminal_citations_joined_any_way_pass(
    crim: list[str], joiner: str, statutes: StatuteCatalog
) -> None:
    assert _judge(joiner.join(crim), statutes) is None


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("18 U.S.C. §§ 1956, 1957", ["18 usc 1956", "18 usc 1957"]),
        ("8 U.S.C. 1324(a), (b)", ["8 usc 1324(a)", "8 usc 1324(b)"]),
        ("8 U.S.C. 1324, 1325(b)", ["8 usc 1324", "8 usc 1325(b)"]),
        ("21 U.S.C. 841(a)(1) and 846", ["21 usc 841(a)(1)", "21 usc 846"]),
        ("Title 18, U.S. Code, Section 1956", ["Title 18, U.S. Code, Section 1956"]),
        ("18 U.S.C. 1956 et seq., 1957", ["18 U.S.C. 1956 et seq., 1957"]),
        ("18 U.S.C. 1956 or 1957", ["18 U.S.C. 1956 or 1957"]),
        ("1956, 1957", ["1956, 1957"]),
        (" ; \n ;", []),
    ],
)  # fmt: skip
def test_split_statutes(text: str, parts: list[str]) -> None:
    assert st.split_statutes(text) == parts
