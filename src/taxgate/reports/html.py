"""Render :class:`~taxgate.reports.aggregate.ReportData` as one self-contained HTML page.

No external assets and no JavaScript: styles are inline, charts are inline SVG drawn
from :mod:`taxgate.reports.charts`. Every value goes through Jinja2 autoescaping.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import jinja2

from taxgate.reports.aggregate import ReportData, status_key
from taxgate.reports.charts import bar_chart, histogram
from taxgate.reports.codes import CODE_EXPLANATIONS, STATUS_EXPLANATIONS

TEMPLATES = Path(__file__).resolve().parent / "templates"
AUDIT_LABELS: Mapping[str, str] = {
    "tree_size": "Tree size",
    "root_hash": "Root hash",
    "checkpoint": "Signed checkpoint",
}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


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


def render_html(data: ReportData) -> str:
    """The oversight report page.

    Shows the summary numbers, bar charts of final statuses and of codes, tables by
    agency and by statute, a histogram of match probabilities, fields disclosed and
    withheld, one explanation line per code (with its citation), the audit log's head
    and checkpoint, and the rulebook versions.

    Args:
        data: the aggregated numbers (see :func:`~taxgate.reports.aggregate.aggregate`).

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
    template = _environment().get_template("report.html")
    return template.render(
        data=data,
        summary=summary,
        disclosure_rate=(f"{100 * disclosed / data.requests:.1f}%" if data.requests else "n/a"),
        status_chart=bar_chart(list(data.totals.items())),
        status_rows=[(s, data.totals[s], STATUS_EXPLANATIONS.get(s, "")) for s in statuses],
        code_chart=bar_chart(list(data.by_code.items())) if data.by_code else None,
        code_rows=_code_rows(data),
        status_columns=status_columns,
        probability_chart=histogram(data.match_probabilities),
        field_rows=_fields_rows(data),
        audit_rows=_audit_rows(data.audit),
    )
