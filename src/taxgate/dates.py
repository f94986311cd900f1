"""Dates of birth as requests write them: the formats the rules accept are exactly the
formats the matcher reads, so a date the rules let through is never unreadable to the
matcher, and one the matcher would read is never refused by the rules.

ISO (``1962-04-07``) is the contract's form; a United States agency's spreadsheet writes
``04/07/1962`` or ``4/7/1962`` (month first, four-digit year). A day-first date
(``17/05/1980``) is not a month-first one and is refused, never guessed.

    >>> parse_dob("4/7/1962"), parse_dob("1962-04-07"), parse_dob("17/05/1980")
    (datetime.date(1962, 4, 7), datetime.date(1962, 4, 7), None)
"""

from __future__ import annotations

from datetime import date, datetime

#: strptime formats, tried in order (DuckDB's ``try_strptime`` reads the same ones).
DOB_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d", "%m-%d-%Y", "%Y/%m/%d")


def parse_dob(text: str) -> date | None:
    """The date ``text`` writes in one of :data:`DOB_FORMATS`; ``None`` if none reads it."""
    value = text.strip()
    if not value or not value.isascii():
        return None
    for fmt in DOB_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None
