"""Pure aggregation of decisions into the numbers an oversight report shows.

Only counts, codes, citations, field names, match probabilities and rulebook versions
are read from a decision; request ids are used only to look up the agency and statute
and are never kept. Nothing else in a decision (messages, evidence, any value) is read,
so no personal data can reach a report through :func:`aggregate`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from taxgate.types import STATUSES

UNKNOWN = "(unknown)"
OTHER_FIELD = "(other)"
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class ReportData:
    """Everything an oversight report shows: counts and codes, never personal data.

    Attributes:
        title: the report's title.
        generated_at: when it was made (given by the caller; aggregation reads no clock).
        rulebook_versions: every rulebook version that made one of the decisions, sorted.
        totals: final status -> number of requests; every status, zero included.
        by_code: code -> number of requests whose decision carries it (as a reason or
            as the code of a withheld field).
        by_agency: agency -> {"requests": n, "rejected": n, ..., "disclosed": n}
            (6103(p)(3)(C) counts requests and disclosures by agency).
        by_statute: statute -> the same counters.
        fields_disclosed: field -> number of requests that disclosed it.
        fields_withheld: field -> number of requests that withheld it.
        match_probabilities: the match probability of every request that reached
            cross-verification (rejected requests never did).
        audit: the audit log's head (``tree_size``, ``root_hash``, ``checkpoint``), if given.
        citations: code -> the citation the decisions gave for it.
    """

    title: str
    generated_at: str
    rulebook_versions: tuple[str, ...]
    totals: Mapping[str, int]
    by_code: Mapping[str, int]
    by_agency: Mapping[str, Mapping[str, int]]
    by_statute: Mapping[str, Mapping[str, int]]
    fields_disclosed: Mapping[str, int]
    fields_withheld: Mapping[str, int]
    match_probabilities: tuple[float, ...]
    audit: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    citations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def requests(self) -> int:
        """The number of decisions aggregated."""
        return sum(self.totals.values())


def status_key(status: str) -> str:
    """The counter name of a status inside ``by_agency`` rows: ``NO_MATCH`` -> ``no_match``."""
    return status.lower()


def _text(value: object, default: str = UNKNOWN) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else default


def _field_name(value: object) -> str | None:
    """A field name as reported; anything that does not look like one is ``(other)``.

    A withheld "field" is whatever the agency wrote in ``info_requested``; it could hold
    anything, so only identifier-like names are shown.
    """
    if not isinstance(value, str):
        return None
    name = value.strip()
    return name if _FIELD_NAME.fullmatch(name) else OTHER_FIELD


def _disclosed_names(value: object) -> list[str]:
    """Field names from ``disclosed_fields``: a list of names, or a mapping (keys only)."""
    if isinstance(value, Mapping):
        items: Iterable[object] = value.keys()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return []
    return sorted({n for n in map(_field_name, items) if n is not None})


def _probability(match: object) -> float | None:
    if not isinstance(match, Mapping):
        return None
    value = match.get("probability")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _group_rows(
    counters: Mapping[str, Counter[str]], statuses: Iterable[str]
) -> Mapping[str, Mapping[str, int]]:
    keys = ["requests", *(status_key(s) for s in statuses)]
    return MappingProxyType(
        {
            group: MappingProxyType({k: counter.get(k, 0) for k in keys})
            for group, counter in sorted(counters.items())
        }
    )


def _frozen(counter: Counter[str]) -> Mapping[str, int]:
    """Most frequent first, then by name."""
    return MappingProxyType(dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))))


class Tally:
    """The counts of a report, taken one decision at a time (a batch's decisions counted as
    they are made, never read back from their file); :meth:`report` gives the numbers.

    >>> t = Tally()
    >>> t.add({"status": "REJECTED", "reasons": [{"code": "R-CASE"}, {"code": "R-CASE"}]},
    ...       {"agency": "DHS"})
    >>> data = t.report(title="t", generated_at="now")
    >>> list(data.by_agency), dict(data.by_code), dict(t.reasons)
    (['DHS'], {'R-CASE': 1}, {'R-CASE': 2})
    """

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter(dict.fromkeys(STATUSES, 0))
        self.by_code: Counter[str] = Counter()
        #: every reason's code, once per reason (the command line's summary)
        self.reasons: Counter[str] = Counter()
        self._by_agency: dict[str, Counter[str]] = {}
        self._by_statute: dict[str, Counter[str]] = {}
        self._disclosed: Counter[str] = Counter()
        self._withheld: Counter[str] = Counter()
        self._probabilities: list[float] = []
        self._versions: set[str] = set()
        self._citations: dict[str, str] = {}

    def add(self, decision: Mapping[str, Any], request_meta: Mapping[str, str]) -> None:
        """Count one decision line; ``request_meta``: its request's agency and statute."""
        status = _text(decision.get("status"))
        self.totals[status] += 1
        for counters, key in ((self._by_agency, "agency"), (self._by_statute, "statute")):
            counter = counters.setdefault(_text(request_meta.get(key)), Counter())
            counter["requests"] += 1
            counter[status_key(status)] += 1

        codes: set[str] = set()
        for reason in decision.get("reasons") or ():
            if isinstance(reason, Mapping) and _text(reason.get("code"), "") != "":
                code = _text(reason.get("code"))
                codes.add(code)
                self.reasons[code] += 1
                citation = _text(reason.get("citation"), "")
                if citation and code not in self._citations:
                    self._citations[code] = citation
        withheld_names: set[str] = set()
        for item in decision.get("withheld_fields") or ():
            if not isinstance(item, Mapping):
                continue
            name = _field_name(item.get("field"))
            if name is not None:
                withheld_names.add(name)
            if _text(item.get("code"), "") != "":
                codes.add(_text(item.get("code")))
        self.by_code.update(codes)
        self._withheld.update(withheld_names)
        self._disclosed.update(_disclosed_names(decision.get("disclosed_fields")))

        probability = _probability(decision.get("match"))
        if probability is not None and status != "REJECTED":
            self._probabilities.append(probability)
        version = _text(decision.get("rulebook_version"), "")
        if version:
            self._versions.add(version)

    def report(
        self, *, title: str, generated_at: str, audit: Mapping[str, object] | None = None
    ) -> ReportData:
        """The report's numbers of the decisions counted so far."""
        totals = self.totals
        statuses = [*STATUSES, *sorted(set(totals) - set(STATUSES))]
        return ReportData(
            title=title,
            generated_at=generated_at,
            rulebook_versions=tuple(sorted(self._versions)),
            totals=MappingProxyType({s: totals[s] for s in statuses}),
            by_code=_frozen(self.by_code),
            by_agency=_group_rows(self._by_agency, statuses),
            by_statute=_group_rows(self._by_statute, statuses),
            fields_disclosed=_frozen(self._disclosed),
            fields_withheld=_frozen(self._withheld),
            match_probabilities=tuple(self._probabilities),
            audit=MappingProxyType(dict(audit or {})),
            citations=MappingProxyType(dict(sorted(self._citations.items()))),
        )


def aggregate(
    decisions: Iterable[Mapping[str, Any]],
    requests_meta: Mapping[str, Mapping[str, str]] | None = None,
    *,
    metas: Iterable[Mapping[str, str]] | None = None,
    title: str,
    generated_at: str,
    audit: Mapping[str, object] | None = None,
) -> ReportData:
    """Count decisions by status, code, agency, statute and field.

    Each decision line counts as one request. A status outside the six known ones is
    counted under its own name; a missing one as ``(unknown)``.

    Args:
        decisions: decisions.jsonl dicts (``request_id, status, reasons, match,
            disclosed_fields, withheld_fields, rulebook_version, ...``).
        requests_meta: request_id -> {"agency": ..., "statute": ...}; requests not in
            it are counted under ``(unknown)``. Only for decisions of one agency (a
            batch): request ids are unique within an agency, not across agencies.
        metas: instead of ``requests_meta``, one {"agency", "statute"} per decision, in
            the decisions' order (for decisions of several agencies).
        title: the report title.
        generated_at: the report timestamp (text, as the caller wants it shown).
        audit: the audit log's head, shown as given (``tree_size``, ``root_hash``,
            ``checkpoint``).

    Returns:
        The report's numbers.

    Example:
        >>> data = aggregate([{"request_id": "Q1", "status": "REJECTED",
        ...                    "reasons": [{"code": "R-CASE", "citation": "c"}]}],
        ...                  title="t", generated_at="now")
        >>> data.totals["REJECTED"], dict(data.by_code)
        (1, {'R-CASE': 1})
    """
    meta = requests_meta or {}
    tally = Tally()
    aligned = iter(metas) if metas is not None else None
    for decision in decisions:
        if aligned is not None:
            request_meta = next(aligned, {})
        else:
            request_meta = meta.get(str(decision.get("request_id", "")), {})
        tally.add(decision, request_meta)
    return tally.report(title=title, generated_at=generated_at, audit=audit)
