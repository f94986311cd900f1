"""Safeguards (26 U.S.C. 6103(p)(4)): an agency receives return information only while it
keeps the safeguards the statute requires and reports on them.

    "(4) Safeguards. Any Federal agency ... shall, as a condition for receiving returns or
    return information ... (E) furnish a report to the Secretary ... which describes the
    procedures established and utilized by such agency ... for ensuring the confidentiality
    of returns and return information required by this paragraph ..."

Each agency's last safeguard report, its open findings and whether it has a corrective
action plan are registered (``taxgate agencies safeguards``). R-SAFEGUARDS judges a batch
against them: a report older than the rulebook's ``safeguards.max_report_age_days``, or open
findings without a corrective action plan, hold the batch's would-be disclosures for a person
(``safeguards.action: review``) or refuse them (``refuse``). An agency with no registered
status is held too unless the rulebook says ``unregistered: allow`` (a transition setting).

Pure: the status and today's date come from the caller.

Example:
    >>> from datetime import date
    >>> s = SafeguardStatus(date(2026, 1, 1), open_findings=2, corrective_plan=False)
    >>> safeguard_problem(s, date(2026, 6, 1), SafeguardPolicy())
    'the agency has 2 open safeguard findings and no corrective action plan (6103(p)(4))'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

ACTIONS: tuple[str, ...] = ("review", "refuse")
UNREGISTERED: tuple[str, ...] = ("allow", "hold")
CODE = "R-SAFEGUARDS"


@dataclass(frozen=True)
class SafeguardStatus:
    """An agency's registered safeguard status.

    Attributes:
        last_report: the date of its last safeguard report.
        open_findings: findings of the last review still open.
        corrective_plan: whether a corrective action plan covers them.
    """

    last_report: date
    open_findings: int
    corrective_plan: bool


@dataclass(frozen=True)
class SafeguardPolicy:
    """The rulebook's ``safeguards`` section.

    Attributes:
        max_report_age_days: a report older than this many days is out of date.
        action: ``review`` (a person decides) or ``refuse`` when the status fails.
        unregistered: ``allow`` or ``hold`` (as a failing status) an agency with none.
    """

    max_report_age_days: int = 365
    action: str = "review"
    unregistered: str = "allow"


def safeguard_problem(
    status: SafeguardStatus | None, today: date, policy: SafeguardPolicy
) -> str | None:
    """Why disclosures to the agency are held (R-SAFEGUARDS), ``None`` when they are not."""
    if status is None:
        if policy.unregistered == "allow":
            return None
        return "no safeguard report (6103(p)(4)) is registered for the agency"
    age = (today - status.last_report).days
    if age > policy.max_report_age_days:
        return (
            f"the agency's last safeguard report (6103(p)(4)) is older than "
            f"{policy.max_report_age_days} days"
        )
    if status.open_findings > 0 and not status.corrective_plan:
        return (
            f"the agency has {status.open_findings} open safeguard findings and no corrective "
            "action plan (6103(p)(4))"
        )
    return None


_KEYS = frozenset({"max_report_age_days", "action", "unregistered"})


def compile_safeguards(section: Any, problems: list[str]) -> SafeguardPolicy:
    """The rulebook's ``safeguards`` section, validated (problems appended)."""
    if section is None:
        return SafeguardPolicy()
    if not isinstance(section, Mapping):
        problems.append("`safeguards` must be a mapping")
        return SafeguardPolicy()
    problems.extend(f"unknown key `safeguards.{k}`" for k in section if k not in _KEYS)
    default = SafeguardPolicy()
    age = section.get("max_report_age_days", default.max_report_age_days)
    if isinstance(age, bool) or not isinstance(age, int) or age < 1:
        problems.append("`safeguards.max_report_age_days` must be a whole number of days, >= 1")
        age = default.max_report_age_days
    action = section.get("action", default.action)
    if action not in ACTIONS:
        problems.append(
            f"`safeguards.action` must be one of {', '.join(ACTIONS)} (6103(p)(4) is a "
            "condition of receiving return information: it cannot be switched off)"
        )
        action = default.action
    unregistered = section.get("unregistered", default.unregistered)
    if unregistered not in UNREGISTERED:
        problems.append("`safeguards.unregistered` must be one of " + ", ".join(UNREGISTERED))
        unregistered = default.unregistered
    return SafeguardPolicy(age, str(action), str(unregistered))
