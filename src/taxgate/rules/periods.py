"""R-PERIOD: the taxable periods a request names.

``tax_periods`` is ``;``-separated; each element a year ``YYYY`` or a closed range
``YYYY-YYYY``. Every year must have ended (at most ``today.year - 1``), none before the
rulebook's ``earliest_year``, and the whole span at most ``max_period_span_years``.
Full-width digits are folded (Unicode compatibility form); any other script's digits
("٢٠٢٢") are not a year: the contract's years are ASCII, and a year a reviewer reads one
way and the matcher another has no place in a request.

Example:
    >>> parse_periods("2020;2022-2023", current_year=2026, earliest_year=2000, max_span=6)
    ((2020, 2022, 2023), ())
    >>> parse_periods("2020-", current_year=2026, earliest_year=2000, max_span=6)[1]
    ('a tax period is open-ended',)
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_YEAR = re.compile(r"^(\d{4})$", re.ASCII)
_RANGE = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$", re.ASCII)
_OPEN = re.compile(
    r"^\d{4}\s*[-–]\s*(?:$|present|current|now|ongoing|today|\.\.\.)|^(?:ongoing|present)$",
    re.IGNORECASE,
)


@lru_cache(maxsize=8192)
def parse_periods(
    text: str, *, current_year: int, earliest_year: int, max_span: int
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The sorted distinct years named, and every problem found (messages without values).

    Args:
        text: the ``tax_periods`` column.
        current_year: ``today.year``; a tax year has ended only when it is before this.
        earliest_year: no year before this.
        max_span: ``max(year) - min(year) + 1`` may not exceed this.
    """
    text = unicodedata.normalize("NFKC", text)
    years: set[int] = set()
    problems: list[str] = []
    # `;` is the contract's separator; a spreadsheet's "2022, 2023" means the same years
    parts = [p.strip() for p in re.split(r"[;,]", text)] if text.strip() else []
    if not any(parts):
        return (), ("no tax period is given",)
    for part in parts:
        if not part:
            problems.append("a tax period is empty")
            continue
        if m := _YEAR.match(part):
            years.add(int(m.group(1)))
        elif m := _RANGE.match(part):
            start, end = int(m.group(1)), int(m.group(2))
            if start > end:
                problems.append("a tax period range ends before it starts")
            elif end - start + 1 > max(max_span, 1) + 1:
                problems.append(f"the tax periods span more than {max_span} years")
                years.update((start, end))
            else:
                years.update(range(start, end + 1))
        elif _OPEN.match(part):
            problems.append("a tax period is open-ended")
        else:
            problems.append("a tax period is not a year YYYY or a range YYYY-YYYY")
    if years:
        if max(years) > current_year - 1:
            problems.append("a tax period has not ended yet (future tax year)")
        if min(years) < earliest_year:
            problems.append(f"a tax period is before {earliest_year}")
        span = max(years) - min(years) + 1
        if span > max_span and not any("span" in p for p in problems):
            problems.append(f"the tax periods span more than {max_span} years")
    return tuple(sorted(years)), tuple(dict.fromkeys(problems))
