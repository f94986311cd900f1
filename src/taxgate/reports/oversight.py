"""Pure aggregation for the oversight report: what the batch report shows, plus a period,
trends by month and agency, statutes grouped by section, reviews, re-audit findings,
batches refused whole, the batches themselves and the audit log's verification.

Inputs are plain rows the caller read from the store; nothing here reads a store, a file
or the clock. Only ids, codes, counts, times and citations are kept: no personal data.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from taxgate.errors import UsageError
from taxgate.reports.congress import AgencyYear
from taxgate.rules.statutes import display_subsections, section_label, split_citation

NOT_A_CITATION = "(not a recognised citation)"


@dataclass(frozen=True, slots=True)
class Period:
    """A span of time by UTC date: ``since`` inclusive, ``until`` exclusive (ISO dates).

    Example:
        >>> Period.of(year=2026).label
        '2026'
        >>> Period.of(since="2026-03-01", until="2026-03-31").until
        '2026-04-01'
    """

    since: str | None = None
    until: str | None = None
    label: str = "everything recorded"

    @classmethod
    def of(
        cls, *, year: int | None = None, since: str | None = None, until: str | None = None
    ) -> Period:
        """From ``--year`` or ``--since``/``--until`` (both dates inclusive, YYYY-MM-DD)."""
        if year is not None and (since or until):
            raise UsageError("say `--year` or `--since`/`--until`, not both")
        if year is not None:
            if not 1900 <= year <= 9998:
                raise UsageError(f"`--year` must be a calendar year, not `{year}`")
            return cls(f"{year:04d}-01-01", f"{year + 1:04d}-01-01", str(year))
        start = _date(since, "--since") if since else None
        end = _date(until, "--until") if until else None
        if start and end and end < start:
            raise UsageError("`--until` is before `--since`")
        if not start and not end:
            return cls()
        label = f"{start.isoformat() if start else 'the beginning'} to " + (
            end.isoformat() if end else "now"
        )
        return cls(
            start.isoformat() if start else None,
            (end + timedelta(days=1)).isoformat() if end else None,
            label,
        )

    def contains(self, when: str) -> bool:
        """Whether an ISO timestamp falls in the period (compared as UTC text)."""
        return (self.since is None or when >= self.since) and (
            self.until is None or when < self.until
        )


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"`{option}` must be a date like 2026-03-31, not `{text}`") from None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def section_of(citation: str, labels: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(section, subsection)`` of a U.S.C. citation, or None when it is not one.

    The section is normalised as the statute catalog normalises it (so "8 USC 1324", "8
    U.S.C. § 1324(a)(1)(A)" and "Title 8, United States Code, Section 1324" are one
    section), and printed as ``labels`` (the catalog's spelling) has it.

    Example:
        >>> section_of("8 USC § 1324(a)(1)(A)"), section_of("21 U.S.C. 841")
        (('8 U.S.C. 1324', '(a)(1)(A)'), ('21 U.S.C. 841', ''))
        >>> section_of("John Smith") is None
        True
    """
    split = split_citation(citation)
    if split is None:
        return None
    key, sub = split
    label = (labels or {}).get(key) or section_label(key)
    return label, display_subsections(sub)


@dataclass(frozen=True, slots=True)
class StatuteGroup:
    """Requests under one section, with a row per subsection cited."""

    section: str
    requests: int
    disclosed: int
    rejected: int
    subsections: tuple[tuple[str, int], ...]


def group_statutes(
    by_statute: Mapping[str, Mapping[str, int]], labels: Mapping[str, str] | None = None
) -> list[StatuteGroup]:
    """Statute rows grouped by their normalised title and section (printed as ``labels``,
    the catalog's spellings, has them); anything else under one line."""
    sections: dict[str, Counter[str]] = defaultdict(Counter)
    subs: dict[str, Counter[str]] = defaultdict(Counter)
    for citation, counts in by_statute.items():
        parsed = section_of(citation, labels)
        section, sub = parsed if parsed else (NOT_A_CITATION, "")
        sections[section].update(
            {
                "requests": counts.get("requests", 0),
                "disclosed": counts.get("disclosed", 0),
                "rejected": counts.get("rejected", 0),
            }
        )
        if parsed:
            subs[section][sub or "(section itself)"] += counts.get("requests", 0)

    def order(key: str) -> tuple[int, int, str]:
        if key == NOT_A_CITATION:
            return (1, 0, key)
        title, _, rest = key.partition(" U.S.C. ")
        digits = re.match(r"\d+", rest)
        return (0, int(title) * 10**7 + (int(digits.group()) if digits else 0), key)

    return [
        StatuteGroup(
            section=s,
            requests=sections[s]["requests"],
            disclosed=sections[s]["disclosed"],
            rejected=sections[s]["rejected"],
            subsections=tuple(sorted(subs[s].items())),
        )
        for s in sorted(sections, key=order)
    ]


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One review: who, what, when, and when the request began to wait."""

    reviewer: str
    action: str
    at: str
    waiting_since: str


@dataclass(frozen=True, slots=True)
class ReviewerLine:
    reviewer: str
    approved: int
    refused: int
    median_hours: float | None
    longest_hours: float | None


def _hours(seconds: Iterable[float]) -> tuple[float | None, float | None]:
    values = sorted(seconds)
    if not values:
        return None, None
    return statistics.median(values) / 3600, values[-1] / 3600


def reviews_by_reviewer(rows: Sequence[ReviewRow]) -> list[ReviewerLine]:
    """Per reviewer (then everyone): approvals, refusals, time from pending to decision."""
    by: dict[str, list[ReviewRow]] = defaultdict(list)
    for r in rows:
        by[r.reviewer].append(r)

    def line(name: str, items: Sequence[ReviewRow]) -> ReviewerLine:
        waits = [
            max(0.0, (_at(r.at) - _at(r.waiting_since)).total_seconds())
            for r in items
            if r.waiting_since
        ]
        median, longest = _hours(waits)
        return ReviewerLine(
            name,
            sum(r.action == "approve" for r in items),
            sum(r.action == "refuse" for r in items),
            median,
            longest,
        )

    out = [line(name, by[name]) for name in sorted(by)]
    if len(out) > 1:
        out.append(line("all reviewers", rows))
    return out


@dataclass(frozen=True, slots=True)
class Trend:
    """Requests per month (``YYYY-MM``), overall by outcome and per agency."""

    months: tuple[str, ...]
    by_outcome: Mapping[str, tuple[int, ...]]
    by_agency: Mapping[str, tuple[int, ...]]


def trends(rows: Iterable[tuple[str, str, str]]) -> Trend:
    """From ``(received_at, agency, status)`` rows: counts by month, every month between.

    Example:
        >>> t = trends([("2026-01-05T00:00:00Z", "A", "DISCLOSED"),
        ...             ("2026-03-01T00:00:00Z", "A", "REJECTED")])
        >>> t.months, t.by_outcome["disclosed"], t.by_agency["A"]
        (('2026-01', '2026-02', '2026-03'), (1, 0, 0), (1, 0, 1))
    """
    outcome: dict[str, Counter[str]] = defaultdict(Counter)
    agency: dict[str, Counter[str]] = defaultdict(Counter)
    seen: set[str] = set()
    for received_at, agency_code, status in rows:
        month = received_at[:7]
        seen.add(month)
        kind = (
            "disclosed"
            if status == "DISCLOSED"
            else "refused by the rules"
            if status == "REJECTED"
            else "other outcomes"
        )
        outcome[kind][month] += 1
        agency[agency_code][month] += 1
    months = _month_range(min(seen), max(seen)) if seen else []
    kinds = ("disclosed", "refused by the rules", "other outcomes")
    return Trend(
        months=tuple(months),
        by_outcome={k: tuple(outcome[k][m] for m in months) for k in kinds},
        by_agency={a: tuple(agency[a][m] for m in months) for a in sorted(agency)},
    )


def _month_range(first: str, last: str) -> list[str]:
    y, mo = int(first[:4]), int(first[5:7])
    out: list[str] = []
    while f"{y:04d}-{mo:02d}" <= last and len(out) < 1200:
        out.append(f"{y:04d}-{mo:02d}")
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


@dataclass(frozen=True, slots=True)
class Verification:
    """The audit log's verification when the report was made."""

    ok: bool
    message: str
    size: int = 0
    checkpoints: int = 0
    root: str = ""  # base64, as in the checkpoint text
    unsigned_tail: int = 0
    checkpoint: str = ""


@dataclass(frozen=True, slots=True)
class OversightExtras:
    """Everything the oversight report shows beyond the batch report's numbers."""

    period: Period
    trend: Trend
    statute_groups: tuple[StatuteGroup, ...]
    reviewers: tuple[ReviewerLine, ...]
    reviews: int
    reaudits: tuple[Mapping[str, object], ...]
    refused_batches: tuple[Mapping[str, object], ...]
    batches: tuple[Mapping[str, object], ...]
    verification: Verification
    thresholds: Mapping[str, float] = field(default_factory=dict)
    #: the yearly report to Congress (6103(p)(3)(C)): a line per agency
    congress: tuple[AgencyYear, ...] = ()
    congress_taxpayers: int = 0
