"""The citation corpus: spellings a clerk or a hostile agency writes, judged by R-STATUTE and
grouped by the oversight report under their normalised section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxgate.reports.oversight import group_statutes, section_of
from taxgate.rules import StatuteCatalog
from taxgate.rules import statutes as st

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
