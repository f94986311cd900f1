"""The match evidence in words: a request beside a taxpayer's record, element by element.

A reviewer judges a held request by reading what the agency sent beside what the record
on file says. Each identity element gets its agreement level from the evidence
(:mod:`taxgate.matching.elements`) and a verdict in plain words: it *agrees*, it *differs*
(the rulebook sends the discrepancy to a person), it *disagrees* (the rulebook vetoes a
disclosure on it), or it was *not supplied*. Colour on a page only repeats the words.

Example:
    >>> rows = compare(
    ...     {"first_name": "Bill", "last_name": "Stone", "address_line1": "12 Oak St",
    ...      "city": "Reno", "state": "NV", "zip": "89501"},
    ...     {"first_name": "William", "last_name": "Stone", "address_line1": "21 Oak St",
    ...      "city": "Reno", "state": "NV", "zip": "89501"},
    ...     {"elements": {"first_name": "nickname", "last_name": "exact",
    ...                   "house_number": "transposed"}, "discrepancies": ["house_number"]})
    >>> [(r.label, r.request, r.record, r.verdict, r.level_words) for r in rows[:1]]
    [('First name', 'Bill', 'William', 'agrees', 'a known nickname of the recorded name')]
    >>> next(r for r in rows if r.element == "house_number").verdict
    'differs'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taxgate.matching.standardise import standardise_address
from taxgate.rules.identity import ELEMENTS

LABELS: Mapping[str, str] = {
    "first_name": "First name",
    "middle_name": "Middle name",
    "last_name": "Last name",
    "suffix": "Suffix",
    "dob": "Date of birth",
    "house_number": "House number",
    "street": "Street",
    "unit": "Unit",
    "city": "City",
    "zip": "ZIP code",
}

#: Each agreement level (:data:`taxgate.rules.identity.LEVELS`) in plain words.
LEVEL_WORDS: Mapping[str, str] = {
    "exact": "the same",
    "nickname": "a known nickname of the recorded name",
    "typo": "one keystroke apart",
    "initial": "an initial of the recorded name",
    "partial": "shares one of several given names",
    "close": "similar, but spelled as another name",
    "swapped": "first and last name entered in each other's place",
    "not_on_record": "the record has none",
    "other": "different",
    "particles": "the same surname, particles differ",
    "hyphenation": "the same surname, spaced or hyphenated differently",
    "second_surname_dropped": "the second surname is missing",
    "surname_part": "shares one part of the surname",
    "conflict": "a different suffix",
    "transposed": "the same digits in another order",
    "type_differs": "the same street name, another street type",
    "not_given": "the agency did not supply it",
}

#: Verdict words, worst first; a page colours them (``fail``, ``warn``, ``pass``, ``muted``).
VERDICT_CLASS: Mapping[str, str] = {
    "disagrees": "fail",
    "differs": "warn",
    "agrees": "pass",
    "not supplied": "muted",
    "not compared": "muted",
}


@dataclass(frozen=True, slots=True)
class ElementRow:
    """One identity element: what the request says, what the record says, and the verdict."""

    element: str
    label: str
    request: str
    record: str
    level: str
    level_words: str
    verdict: str  # agrees | differs | disagrees | not supplied | not compared

    @property
    def css(self) -> str:
        return VERDICT_CLASS.get(self.verdict, "muted")


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _street(a: Any) -> str:
    return " ".join(p for p in (a.predirectional, a.street_name, a.suffix, a.postdirectional) if p)


def element_values(row: Mapping[str, Any], *, dob_key: str) -> dict[str, str]:
    """The values of each identity element of a request (``dob_key`` ``date_of_birth``) or
    of a record row (``dob``); the address is parsed as the matcher parses it."""
    addr = standardise_address(
        _s(row.get("address_line1")),
        _s(row.get("address_line2")),
        _s(row.get("city")),
        _s(row.get("state")),
        _s(row.get("zip")),
    )
    return {
        "first_name": _s(row.get("first_name")),
        "middle_name": _s(row.get("middle_name")),
        "last_name": _s(row.get("last_name")),
        "suffix": _s(row.get("suffix")),
        "dob": _s(row.get(dob_key)),
        "house_number": addr.house_number,
        "street": _street(addr),
        "unit": addr.unit,
        "city": _s(row.get("city")),
        "zip": _s(row.get("zip")),
    }


def verdict(element: str, level: str, vetoes: Sequence[str], discrepancies: Sequence[str]) -> str:
    """The verdict word for one element's level under the decision's vetoes and discrepancies.

    >>> verdict("dob", "other", ["dob"], [])
    'disagrees'
    >>> verdict("dob", "not_given", [], []), verdict("zip", "", [], [])
    ('not supplied', 'not compared')
    """
    if element in vetoes:
        return "disagrees"
    if element in discrepancies:
        return "differs"
    if level == "not_given":
        return "not supplied"
    if not level:
        return "not compared"
    return "agrees"


def compare(
    request: Mapping[str, Any], record: Mapping[str, Any] | None, evidence: Mapping[str, Any]
) -> list[ElementRow]:
    """The request beside ``record`` (a taxpayer's records row, or None when there is none),
    element by element, with the levels, vetoes and discrepancies of ``evidence`` (one
    candidate's evidence: ``elements``, ``vetoes``, ``discrepancies``)."""
    levels = evidence.get("elements") or {}
    vetoes = list(evidence.get("vetoes") or [])
    discrepancies = list(evidence.get("discrepancies") or [])
    req = element_values(request, dob_key="date_of_birth")
    rec = element_values(record, dob_key="dob") if record is not None else {}
    rows = []
    for e in ELEMENTS:
        level = str(levels.get(e, ""))
        rows.append(
            ElementRow(
                element=e,
                label=LABELS[e],
                request=req[e],
                record=rec.get(e, ""),
                level=level,
                level_words=LEVEL_WORDS.get(level, level),
                verdict=verdict(e, level, vetoes, discrepancies),
            )
        )
    return rows


def record_for_years(rows: Sequence[Mapping[str, Any]], years: Sequence[int]) -> Mapping[str, Any]:
    """The row a reviewer compares against: the latest of the requested tax years the
    taxpayer filed for, else the latest row on file.

    >>> record_for_years([{"tax_year": 2021}, {"tax_year": 2023}], [2021, 2022])["tax_year"]
    2021
    >>> record_for_years([{"tax_year": 2021}, {"tax_year": 2023}], [2019])["tax_year"]
    2023
    """
    wanted = set(years)
    inside = [r for r in rows if int(r.get("tax_year") or 0) in wanted]
    pool = inside or list(rows)
    return max(pool, key=lambda r: int(r.get("tax_year") or 0))
