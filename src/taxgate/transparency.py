"""The public transparency report (``taxgate transparency``): counts from the store,
released with differential privacy against a yearly privacy budget.

A release happens inside one store transaction that first takes the audit log's write
lock (so two releases of one year cannot both pass the budget check), then checks the
year's budget, draws the noise, writes the page to a temporary file, and records the
spend and its audit entry. Only after the commit does the page take its name. A release
that would overspend is refused before any noise is drawn: nothing is written, nothing
is spent, and the refusal is logged.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from taxgate.config import read_settings_file
from taxgate.errors import BudgetError, ConfigError, NotFoundError, UsageError
from taxgate.reports.dp import Bands, check_epsilon
from taxgate.reports.transparency import (
    TransparencyReport,
    YearCounts,
    build_report,
    render_html,
    render_json,
)
from taxgate.storage import tables as m
from taxgate.storage.control import require_control
from taxgate.storage.repo import now_iso
from taxgate.types import STATUSES
from taxgate.workspace import Workspace

CONFIG_FILE = "transparency.yaml"
EVENT = "transparency_release"
# spends are sums of floats: allow for rounding, never for a real overspend
_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class TransparencyConfig:
    """The yearly privacy budget and the banding of small counts."""

    epsilon_per_year: float = 1.0
    bands: Bands = Bands()


def load_config(config_dir: Path) -> TransparencyConfig:
    """``transparency.yaml`` from the configuration folder, else the shipped one."""
    raw, path = read_settings_file(config_dir, CONFIG_FILE)
    problems = []
    budget = raw.get("epsilon_per_year", 1.0)
    if (
        isinstance(budget, bool)
        or not isinstance(budget, int | float)
        or not math.isfinite(budget)
        or budget <= 0
    ):
        problems.append("`epsilon_per_year` must be a positive number")
        budget = 1.0
    bands = raw.get("bands") or {}
    below, width = (
        (bands.get("below", 100), bands.get("width", 25))
        if isinstance(bands, dict)
        else (None, None)
    )
    if not (isinstance(below, int) and not isinstance(below, bool) and below >= 0):
        problems.append("`bands.below` must be a whole number at least 0")
    if not (isinstance(width, int) and not isinstance(width, bool) and width >= 1):
        problems.append("`bands.width` must be a whole number at least 1")
    if problems:
        raise ConfigError(problems, str(path))
    assert isinstance(below, int) and isinstance(width, int)
    return TransparencyConfig(float(budget), Bands(below=below, width=width))


def _year_bounds(year: int) -> tuple[str, str]:
    return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"


def year_counts(s: Session, year: int) -> YearCounts:
    """The true counts of one calendar year (UTC), every registered agency and status."""
    start, end = _year_bounds(year)
    agencies = list(s.scalars(select(m.Agency.code).where(m.Agency.created_at < end)))
    rows = {a: {"requests": 0, "disclosures": 0, "taxpayers": 0} for a in agencies}
    in_year = (m.RequestRow.received_at >= start) & (m.RequestRow.received_at < end)
    for agency, n in s.execute(
        select(m.RequestRow.agency_code, func.count())
        .where(in_year)
        .group_by(m.RequestRow.agency_code)
    ):
        if agency in rows:
            rows[agency]["requests"] = int(n)
    disclosed_in_year = (m.Disclosure.disclosed_at >= start) & (m.Disclosure.disclosed_at < end)
    for agency, n, tins in s.execute(
        select(m.Disclosure.agency_code, func.count(), func.count(distinct(m.Disclosure.tin)))
        .where(disclosed_in_year)
        .group_by(m.Disclosure.agency_code)
    ):
        if agency in rows:
            rows[agency]["disclosures"] = int(n)
            rows[agency]["taxpayers"] = int(tins)
    outcomes: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for status, n in s.execute(
        select(m.Decision.status, func.count())
        .join(
            m.RequestRow,
            (m.RequestRow.agency_code == m.Decision.agency_code)
            & (m.RequestRow.request_id == m.Decision.request_id),
        )
        .where(in_year)
        .group_by(m.Decision.status)
    ):
        if status in outcomes:
            outcomes[status] = int(n)
    return YearCounts(year=year, agencies=rows, outcomes=outcomes)


def spent(s: Session, year: int) -> float:
    """The privacy budget the year's earlier releases spent."""
    total = s.scalar(select(func.sum(m.PrivacySpend.epsilon)).where(m.PrivacySpend.year == year))
    return float(total or 0.0)


def spends(s: Session, year: int | None = None) -> list[m.PrivacySpend]:
    """The recorded releases, oldest first (of one year, when given)."""
    q = select(m.PrivacySpend).order_by(m.PrivacySpend.id)
    if year is not None:
        q = q.where(m.PrivacySpend.year == year)
    return list(s.scalars(q))


def _check_year(year: int) -> int:
    if not 1900 <= year <= 9998:
        raise UsageError(f"`--year` must be a calendar year, not `{year}`")
    return year


@dataclass(frozen=True, slots=True)
class Budget:
    """One year's privacy budget and what its releases spent."""

    year: int
    budget: float
    spent: float

    @property
    def remaining(self) -> float:
        """What is left, without the dust of float sums (ten spends of 0.1 leave 0)."""
        left = self.budget - self.spent
        return 0.0 if left <= _TOLERANCE else round(left, 9)

    def allows(self, epsilon: float) -> bool:
        """Whether a release spending ``epsilon`` stays within the year's budget.

        >>> Budget(2026, 1.0, 0.75).allows(0.25), Budget(2026, 1.0, 0.75).allows(0.3)
        (True, False)
        """
        return self.spent + epsilon <= self.budget + _TOLERANCE


def budget(ws: Workspace, year: int) -> Budget:
    """The year's budget (configuration) and what its releases spent so far."""
    config = load_config(ws.config)
    with ws.store.session() as s:
        return Budget(year, config.epsilon_per_year, spent(s, year))


@dataclass(frozen=True, slots=True)
class Published:
    """A release as the pages list it (no true count, nothing spent by reading it)."""

    release_id: int
    year: int
    epsilon: float
    mechanism: str
    released_at: str
    released_by: str
    audit_index: int
    output_sha256: str
    kept: bool  # the document is in the store (releases before it was kept: not)


def published(ws: Workspace) -> list[Published]:
    """Every release made, newest first."""
    with ws.store.session() as s:
        return [
            Published(
                r.id,
                r.year,
                r.epsilon,
                r.mechanism,
                r.released_at,
                r.released_by,
                r.audit_index,
                r.output_sha256,
                bool(r.document),
            )
            for r in reversed(spends(s))
        ]


def published_document(ws: Workspace, release_id: int) -> str:
    """The JSON document of one release, as it was published.

    Raises:
        NotFoundError: no such release, or one made before documents were kept.
    """
    with ws.store.session() as s:
        row = s.get(m.PrivacySpend, release_id)
        if row is None or not row.document:
            raise NotFoundError(f"no published transparency report `{release_id}`")
        return row.document


def release(
    ws: Workspace, year: int, epsilon: float, out_file: Path | None = None
) -> TransparencyReport:
    """Release the year's counts to ``out_file`` (HTML, or JSON for ``.json``); with no
    file, the release is only kept in the store (the pages show it from there).

    Raises:
        BudgetError: the release would take the year past its budget (nothing written,
            nothing spent; the refusal is logged).
        UsageError: a bad year or epsilon.
    """
    return _release(ws, year, epsilon, out_file)[0]


def publish(ws: Workspace, year: int, epsilon: float) -> int:
    """Release the year's counts into the store only; the new release's id.

    Raises:
        BudgetError: as :func:`release`.
    """
    return _release(ws, year, epsilon, None)[1]


def _release(
    ws: Workspace, year: int, epsilon: float, out_file: Path | None
) -> tuple[TransparencyReport, int]:
    year = _check_year(year)
    epsilon = check_epsilon(epsilon)
    config = load_config(ws.config)
    as_json = out_file is None or out_file.suffix.lower() == ".json"
    tmp = (
        out_file.with_name(f".{out_file.name}.{os.getpid()}.tmp") if out_file is not None else None
    )
    refusal: tuple[float, float] | None = None
    report: TransparencyReport | None = None
    release_id = 0
    try:
        with ws.transaction() as (s, log):
            # take the log's write lock first: releases of one year are serialised here
            log.lock()
            # a deleted spend is not budget regained
            require_control(s, ("privacy_spend",), signed_by=ws.agency_public_key())
            before = spent(s, year)
            if not Budget(year, config.epsilon_per_year, before).allows(epsilon):
                refusal = (before, config.epsilon_per_year)
            else:
                report = build_report(
                    year_counts(s, year),
                    epsilon=epsilon,
                    bands=config.bands,
                    generated_at=now_iso(),
                    year_budget=config.epsilon_per_year,
                    spent_before=before,
                )
                document = render_json(report)
                data = (document if as_json else render_html(report)).encode("utf-8")
                if out_file is not None and tmp is not None:
                    out_file.parent.mkdir(parents=True, exist_ok=True)
                    tmp.write_bytes(data)
                digest = hashlib.sha256(data).hexdigest()
                index = log.append(
                    EVENT,
                    f"transparency-{year}",
                    {
                        "year": year,
                        "epsilon": report.release.epsilon,
                        "mechanism": report.release.mechanism,
                        "scale": report.release.scale,
                        "budget": config.epsilon_per_year,
                        "spent_before": before,
                        "output_sha256": digest,
                    },
                )
                row = m.PrivacySpend(
                    year=year,
                    epsilon=report.release.epsilon,
                    mechanism=report.release.mechanism,
                    scale=report.release.scale,
                    output_sha256=digest,
                    released_by=ws.user,
                    released_at=now_iso(),
                    audit_index=index,
                    document=document,
                )
                s.add(row)
                s.flush()
                release_id = row.id
        if report is not None and out_file is not None and tmp is not None:
            os.replace(tmp, out_file)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    if refusal is not None:
        before, budget_ = refusal
        with ws.transaction() as (_, log):
            log.append(
                EVENT,
                f"transparency-{year}",
                {"year": year, "epsilon": epsilon, "budget": budget_, "spent_before": before},
                outcome="failure",
            )
        raise BudgetError(
            f"a release with epsilon {epsilon:g} would overspend the privacy budget of "
            f"{year}: {budget_:g} per year, {before:g} already spent, "
            f"{Budget(year, budget_, before).remaining:g} left; nothing was written"
        )
    assert report is not None
    return report, release_id
