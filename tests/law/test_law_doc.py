"""docs/law.md is exact: every test, file and corpus it names exists, every rule code the
rulebook knows is there, and every statutory rule is listed as law, every other as policy."""

from __future__ import annotations

import re
from pathlib import Path

from taxgate.rules.rulebook import OTHER_CODES, RULE_CODES, STATUTORY

ROOT = Path(__file__).resolve().parents[2]
LAW = (ROOT / "docs" / "law.md").read_text(encoding="utf-8")
TICKED = re.findall(r"`([^`]+)`", LAW)


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^def (test_\w+)", path.read_text("utf-8"), re.MULTILINE))
    return names


def test_every_named_test_exists() -> None:
    known = _test_names()
    named = {t.rsplit("::", 1)[-1] for t in TICKED if re.fullmatch(r"(?:\S+::)?test_\w+", t)}
    assert len(named) > 40
    assert named - known == set()


def test_every_named_file_and_corpus_exists() -> None:
    for ticked in TICKED:
        path = ticked.split("::", 1)[0]
        if path.startswith(("tests/", "src/", "docs/")):
            assert list(ROOT.glob(path)), path


def test_every_named_corpus_prefix_has_cases() -> None:
    cases = {p.name for p in (ROOT / "tests" / "rules" / "cases").glob("*.json")}
    for ticked in TICKED:
        m = re.fullmatch(r"([a-z0-9-]+)-\*(?:\.json)?", ticked)
        if m:
            assert any(c.startswith(m.group(1) + "-") for c in cases), ticked


def test_every_code_is_in_the_document() -> None:
    for code in (*RULE_CODES, *OTHER_CODES):
        assert code in LAW, code


def test_policy_section_lists_no_statutory_rule() -> None:
    """A statutory rule may appear there only for a policy part of it ("R-REASON's ...")."""
    policy = LAW.split("## Policy, not law", 1)[1].split("\n## ", 1)[0]
    for code in STATUTORY:
        assert re.search(rf"\b{code}\b(?!'s)", policy) is None, code


def test_every_named_case_exists() -> None:
    cases = {p.stem for p in (ROOT / "tests" / "rules" / "cases").glob("*.json")}
    prefixes = ("requester", "purpose", "statute", "valid", "officer", "address", "name",
                "period", "info", "engagement")  # fmt: skip
    named = {
        t for t in TICKED if re.fullmatch(r"[a-z0-9]+-[a-z0-9-]+", t) and t.startswith(prefixes)
    }
    assert len(named) > 30
    assert named - cases == set()
