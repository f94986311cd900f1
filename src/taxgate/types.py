"""The data that flows through the pipeline: frozen, typed, free of I/O.

A batch flows intake -> rules -> match -> disclose -> audit -> report; these
are the values passed between the stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

REQUEST_COLUMNS: tuple[str, ...] = (
    "request_id",
    "case_number",
    "officer",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
    "tax_periods",
    "statute",
    "reason",
    "info_requested",
)

#: the columns of a taxpayer-year row that say who and where the taxpayer was (what matching
#: compares); the rest are the year's return information
IDENTITY_COLUMNS: tuple[str, ...] = (
    "tin",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "dob",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
)

RECORD_COLUMNS: tuple[str, ...] = (
    *IDENTITY_COLUMNS,
    "tax_year",
    "filing_status",
    "adjusted_gross_income",
    "dependents",
    "phone",
    "employer_name",
    "employer_ein",
    "wages",
    "audit_status",
    "balance_due",
)

Status = Literal["REJECTED", "NO_MATCH", "AMBIGUOUS", "PENDING_REVIEW", "WITHHELD", "DISCLOSED"]
STATUSES: tuple[Status, ...] = (
    "REJECTED",
    "NO_MATCH",
    "AMBIGUOUS",
    "PENDING_REVIEW",
    "WITHHELD",
    "DISCLOSED",
)
Outcome = Literal["accepted", "rejected", "review"]


@dataclass(frozen=True, slots=True)
class Request:
    """One row of a batch's ``requests.csv``, as strings exactly as sent (stripped).

    ``row`` is the 1-based line number in the file (the header is line 1).
    """

    request_id: str
    case_number: str = ""
    officer: str = ""
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    suffix: str = ""
    date_of_birth: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    tax_periods: str = ""
    statute: str = ""
    reason: str = ""
    info_requested: str = ""
    row: int = 0

    def as_dict(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in REQUEST_COLUMNS}


@dataclass(frozen=True, slots=True)
class Official:
    name: str
    title: str


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """A batch's manifest, once its signature has been checked."""

    batch_id: str
    agency: str
    official: Official
    submitted_at: str
    requests_sha256: str
    signature: str


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a request was refused or a field withheld."""

    code: str
    citation: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "citation": self.citation, "message": self.message}


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule evaluated on one request, pass or fail, for the "why" views."""

    code: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RuleDecision:
    """The rule stage's verdict on one request."""

    request_id: str
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    trace: tuple[RuleCheck, ...] = ()
    tax_years: tuple[int, ...] = ()
    fields: tuple[str, ...] = ()
    rulebook_version: str = ""


@dataclass(frozen=True, slots=True)
class WithheldField:
    field: str
    code: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Cross-verification of one accepted request against the taxpayer records.

    ``verdict`` is ``MATCH``, ``M-AMBIGUOUS``, ``M-ADDRESS``, ``M-NONE`` or
    ``REVIEW`` (probability between the ambiguity and match thresholds). ``tin`` is the
    candidate taxpayer on MATCH and REVIEW, ``runner_up`` the second-best taxpayer then.
    """

    request_id: str
    verdict: str
    tin: str | None = None
    probability: float = 0.0
    candidates: int = 0
    second_probability: float = 0.0
    evidence: dict[str, object] = field(default_factory=dict)
    model_version: str = ""
    runner_up: str | None = None


ReviewKind = Literal["approve", "refuse"]


@dataclass(frozen=True, slots=True)
class ReviewAction:
    """A reviewer's action on a request held for review, with the note saying why."""

    action: ReviewKind
    user: str
    note: str


@dataclass(frozen=True, slots=True)
class MatchVerdict:
    """What cross-verification said, as the final decision keeps it.

    ``candidate`` (the taxpayer a MATCH or a REVIEW is about) and ``runner_up`` are TINs:
    they are kept in the store for the reviewer, never written into a decision's body.
    """

    verdict: str
    probability: float = 0.0
    second_probability: float = 0.0
    candidates: int = 0
    evidence: Mapping[str, object] = field(default_factory=dict)
    candidate: str | None = None
    runner_up: str | None = None


@dataclass(frozen=True, slots=True)
class FinalDecision:
    """The final decision on one request: the one value every front door reads.

    Computed only by :func:`taxgate.decision.final_decision`; serialised only by
    :func:`taxgate.decision.to_body` (the ``decisions.jsonl`` line).
    """

    request_id: str
    status: Status
    rule_outcome: Outcome
    tax_years: tuple[int, ...] = ()
    reasons: tuple[Reason, ...] = ()
    trace: tuple[RuleCheck, ...] = ()
    match: MatchVerdict | None = None
    disclosed: Mapping[str, object] = field(default_factory=dict)
    withheld: tuple[WithheldField, ...] = ()
    rulebook_version: str = ""
    model_version: str = ""
    review: ReviewAction | None = None

    @property
    def candidate(self) -> str:
        """The candidate taxpayer's TIN, ``""`` when there is none."""
        return (self.match.candidate or "") if self.match else ""

    @property
    def runner_up(self) -> str:
        return (self.match.runner_up or "") if self.match else ""

    def response_line(self) -> dict[str, Any] | None:
        """The ``response.jsonl`` line when something goes out, else ``None``."""
        if self.status != "DISCLOSED":
            return None
        return {
            "request_id": self.request_id,
            "tax_years": list(self.tax_years),
            "fields": dict(self.disclosed),
        }
