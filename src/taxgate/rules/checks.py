"""Per-request checks: the rules that look at one request alone.

Each check returns the problems it found as messages that never carry the value itself.
:class:`RequestJudge` holds per-batch caches for the values that repeat across a batch
(statutes, information requested, periods).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from taxgate.rules.address import ZIP3, address_problems
from taxgate.rules.names import (
    ONE_WORD_NAME,
    dob_problem,
    full_name_problem,
    name_problem,
    officer_problem,
    one_word_name,
)
from taxgate.rules.periods import parse_periods
from taxgate.rules.purpose import purpose_problem
from taxgate.rules.rulebook import Rulebook
from taxgate.rules.statutes import NO_STATUTE, StatuteCatalog, split_statutes
from taxgate.types import Request

_HAS_DIGIT = re.compile(r"\d")
DERIVED_FIELDS: frozenset[str] = frozenset({"last_known_address"})
CASE_PLACEHOLDERS: frozenset[str] = frozenset(
    {"na", "n/a", "none", "unknown", "tbd", "0", "-", "?", "null", "nil", "xxx", "pending"}
)
SUFFIXES: frozenset[str] = frozenset(
    {"jr", "sr", "ii", "iii", "iv", "v", "vi", "vii", "viii", "2nd", "3rd", "4th"}
)


def _fold_case(case_number: str) -> str:
    return "".join(case_number.casefold().replace("-", " ").replace("–", " ").split())


@lru_cache(maxsize=65536)
def case_key(case_number: str) -> str:
    """Normalised case number for counting: casefold, spaces and dashes dropped.

    A value that fails R-CASE itself (empty, a placeholder, no digit) is no case at all:
    its key is ``""`` and it is counted neither in the batch nor in the store's history.

    >>> case_key("ICE - 2025-004417")
    'ice2025004417'
    >>> case_key("N/A")
    ''
    """
    if case_problem(case_number) is not None:
        return ""
    return _fold_case(case_number)


@lru_cache(maxsize=65536)
def case_problem(case_number: str) -> str | None:
    """R-CASE: present, not a placeholder, with at least one digit."""
    text = case_number.strip()
    if not text:
        return "no case number is given"
    if text.casefold() in CASE_PLACEHOLDERS or _fold_case(text) in CASE_PLACEHOLDERS:
        return "case number is a placeholder"
    if _HAS_DIGIT.search(text) is None:
        return "case number has no digit"
    return None


def _name_problems(r: Request, today: date) -> list[str]:
    if one_word_name(r.first_name, r.last_name):
        out = [ONE_WORD_NAME]
    else:
        out = [
            p
            for p in (
                name_problem(r.first_name, "first name"),
                name_problem(r.last_name, "last name"),
            )
            if p is not None
        ]
    if not out and (p := full_name_problem(r.first_name, r.last_name)) is not None:
        out.append(p)
    if r.middle_name.strip():
        p = name_problem(r.middle_name, "middle name")
        if p is not None and not p.endswith("placeholder"):
            out.append(p)
    if r.suffix.strip() and r.suffix.strip().casefold().rstrip(".") not in SUFFIXES:
        out.append("suffix is not a generational suffix (Jr, Sr, II, III, IV)")
    if r.date_of_birth.strip() and (p := dob_problem(r.date_of_birth, today)) is not None:
        out.append(p)
    return out


class RequestJudge:
    """Per-request checks with per-batch caches for the values that repeat."""

    def __init__(
        self, today: date, field_names: frozenset[str], rulebook: Rulebook, statutes: StatuteCatalog
    ) -> None:
        self.today, self.rb, self.statutes = today, rulebook, statutes
        self.allowed_fields = frozenset(field_names) | DERIVED_FIELDS
        self.statute_cache: dict[str, str | None] = {}
        self.info_cache: dict[str, tuple[tuple[str, ...], str | None]] = {}
        self.checks: dict[str, Callable[[Request], list[str]]] = {
            "R-CASE": lambda r: opt(case_problem(r.case_number)),
            "R-OFFICER": lambda r: opt(officer_problem(r.officer)),
            "R-NAME": lambda r: _name_problems(r, today),
            "R-ADDRESS": lambda r: list(
                address_problems(r.address_line1, r.city, r.state, r.zip, ZIP3)
            ),
            "R-STATUTE": lambda r: opt(self.statute(r.statute)),
            "R-PURPOSE": lambda r: opt(purpose_problem(r.reason)),
            "R-INFO": lambda r: opt(self.info(r.info_requested)[1]),
        }
        self.active = [c for c in self.checks if rulebook.switch(c) != "off"]

    def statute(self, text: str) -> str | None:
        if text in self.statute_cache:
            return self.statute_cache[text]
        problem: str | None = None
        parts = split_statutes(text)
        if not parts:
            problem = NO_STATUTE
        for part in parts:
            problem = self.statutes.problem(part)
            if problem:
                break
        self.statute_cache[text] = problem
        return problem

    def info(self, text: str) -> tuple[tuple[str, ...], str | None]:
        got = self.info_cache.get(text)
        if got is None:
            names = requested_fields(text)
            problem = None
            if not names:
                problem = "no information is requested"
            elif any(n not in self.allowed_fields for n in names):
                problem = "a requested field is not in the field catalogue"
            got = self.info_cache[text] = (names, problem)
        return got

    def periods(self, text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
        return parse_periods(
            text,
            current_year=self.today.year,
            earliest_year=self.rb.earliest_year,
            max_span=self.rb.max_period_span_years,
        )


def requested_fields(text: str) -> tuple[str, ...]:
    """The field names of ``info_requested``, in order, blanks and repeats dropped; an
    ASCII name is lowercased (the catalogue's names are), so "Wages" and "WAGES" are
    ``wages`` once. Any other name is kept as written (a full-width or look-alike letter
    names no field and is refused by R-INFO).

    >>> requested_fields(" last_name ;wages;;LAST_NAME;Wages")
    ('last_name', 'wages')
    """
    names = (p.strip() for p in text.split(";"))
    return tuple(dict.fromkeys(n.lower() if n.isascii() else n for n in names if n))


def opt(problem: str | None) -> list[str]:
    return [] if problem is None else [problem]
