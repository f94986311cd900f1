"""Oversight reports: pure aggregation of decisions, then rendering.

``aggregate``  decisions -> :class:`~taxgate.reports.aggregate.ReportData` (counts and codes only)
``charts``     pure SVG chart geometry
``html``       ReportData -> one self-contained HTML page (Jinja2, autoescaped, inline SVG)
"""

from taxgate.reports.aggregate import ReportData, aggregate
from taxgate.reports.html import render_html

__all__ = ["ReportData", "aggregate", "render_html"]
