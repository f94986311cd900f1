"""Render :class:`~taxgate.reports.aggregate.ReportData` as one self-contained HTML page.

No external assets and no JavaScript: styles are inline and charts are inline SVG drawn
by matplotlib (:mod:`taxgate.reports.charts`). Every value goes through Jinja2
autoescaping; the charts' SVG is made by matplotlib, which escapes its labels.

The same template makes a batch's report and, given
:class:`~taxgate.reports.oversight.OversightExtras`, the oversight report over a period.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup

from taxgate.reports.aggregate import ReportData, status_key
from taxgate.reports.charts import bar_chart, histogram, monthly_chart
from taxgate.reports.codes import CODE_EXPLANATIONS, STATUS_EXPLANATIONS
from taxgate.reports.jinja import environment
from taxgate.reports.oversight import OversightExtras

AUDIT_LABELS: Mapping[str, str] = {
    "tree_size": "Tree size",
    "root_hash": "Root hash",
    "checkpoint": "Signed checkpoint",
    "checkpoint_signed_at": "Checkpoint signed at (UTC)",
}
# codes that withhold a field while the rest of the request may go: not refusals
FIELD_CODES = frozenset({"D-TRI", "D-NOT-REQUESTED"})


def _code_rows(data: ReportData) -> list[dict[str, object]]:
    rows = []
    for code, count in data.by_code.items():
        fallback_citation, explanation = CODE_EXPLANATIONS.get(code, ("", ""))
        rows.append(
            {
                "code": code,
                "count": count,
                "citation": data.citations.get(code) or fallback_citation,
                "explanation": explanation or "no explanation recorded for this code",
                "withholds_field": code in FIELD_CODES,
            }
        )
    return rows


def _fields_rows(data: ReportData) -> list[dict[str, object]]:
    names = sorted(set(data.fields_disclosed) | set(data.fields_withheld))
    return [
        {
            "field": name,
            "disclosed": data.fields_disclosed.get(name, 0),
            "withheld": data.fields_withheld.get(name, 0),
        }
        for name in names
    ]


def _audit_rows(audit: Mapping[str, object]) -> list[dict[str, object]]:
    known = [k for k in AUDIT_LABELS if k in audit]
    others = sorted(str(k) for k in audit if k not in AUDIT_LABELS)
    return [
        {
            "label": AUDIT_LABELS.get(key, key),
            "value": "" if audit[key] is None else str(audit[key]),
            "block": key == "checkpoint" or "\n" in str(audit[key]),
        }
        for key in [*known, *others]
    ]


def _hours(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def render_html(
    data: ReportData,
    extras: OversightExtras | None = None,
    *,
    thresholds: Mapping[str, float] | None = None,
) -> str:
    """The report page.

    Shows the summary numbers, charts of final statuses, of refusal codes and of fields
    withheld (kept apart: a withheld field is not a refused request), tables by agency
    and statute, a histogram of match probabilities with the thresholds marked, fields
    disclosed and withheld, one explanation line per code (with its citation), the audit
    log's head and checkpoint, and the rulebook versions. With ``extras`` (the oversight
    report), also the period, the log's verification, the batches, monthly trends,
    statutes by section, reviews, re-audit findings and batches refused whole.

    Args:
        data: the aggregated numbers (see :func:`~taxgate.reports.aggregate.aggregate`).
        extras: the oversight report's other sections, if this is one.
        thresholds: label -> match probability marked on the histogram (the oversight
            report takes them from ``extras``).

    Returns:
        A complete HTML5 document.
    """
    statuses = list(data.totals)
    status_columns = [(status_key(s), s) for s in statuses]
    disclosed = data.totals.get("DISCLOSED", 0)
    summary = [
        ("Requests", data.requests),
        ("Disclosed", disclosed),
        ("Refused by the rules", data.totals.get("REJECTED", 0)),
        (
            "Not matched or ambiguous",
            data.totals.get("NO_MATCH", 0) + data.totals.get("AMBIGUOUS", 0),
        ),
        ("Requests with taxpayer return information withheld", data.by_code.get("D-TRI", 0)),
    ]
    refusals = [(c, n) for c, n in data.by_code.items() if c not in FIELD_CODES]
    marks = dict(extras.thresholds if extras is not None else thresholds or {})
    charts = {
        "status": bar_chart(
            list(data.totals.items()),
            title="Requests by final status",
            xlabel="requests (count)",
        ),
        "codes": bar_chart(
            refusals,
            title="Requests refused or held back, by code",
            xlabel="requests carrying the code (count)",
            color="red",
        )
        if refusals
        else "",
        "withheld": bar_chart(
            list(data.fields_withheld.items()),
            title="Fields withheld (the rest may go)",
            xlabel="requests withholding the field (count)",
            color="amber",
        )
        if data.fields_withheld
        else "",
        "probability": histogram(
            data.match_probabilities,
            thresholds=marks,
            title="Match probability of the best candidate",
            xlabel="match probability (0 to 1, bins of 0.05)",
            ylabel="requests (count)",
        ),
    }
    if extras is not None and extras.trend.months:
        charts["months"] = monthly_chart(
            extras.trend.months,
            extras.trend.by_outcome,
            title="Requests received per month, by outcome",
            ylabel="requests (count)",
        )
    template = environment().get_template("report.html")
    return template.render(
        data=data,
        extras=extras,
        summary=summary,
        disclosure_rate=(f"{100 * disclosed / data.requests:.1f}%" if data.requests else "n/a"),
        charts={k: Markup(v) for k, v in charts.items()},  # noqa: S704 - matplotlib's escaped SVG
        status_rows=[(s, data.totals[s], STATUS_EXPLANATIONS.get(s, "")) for s in statuses],
        code_rows=_code_rows(data),
        status_columns=status_columns,
        field_rows=_fields_rows(data),
        audit_rows=_audit_rows(data.audit),
        marks=marks,
        hours=_hours,
    )
