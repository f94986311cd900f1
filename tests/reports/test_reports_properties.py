"""Properties of aggregation and rendering over random decisions."""

from __future__ import annotations

import html
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from taxgate.reports.aggregate import aggregate
from taxgate.reports.html import render_html
from taxgate.types import STATUSES

CODES = st.sampled_from(["R-ADDRESS", "R-NAME", "M-NONE", "M-AMBIGUOUS", "D-TRI", "X-NEW"])
AGENCIES = st.sampled_from(["DHS", "DOJ", "TREAS"])
FIELDS = st.sampled_from(["wages", "tin", "last_known_address", "phone"])
# personal-looking values that must never reach a report, some with markup in them
SECRETS = st.text(alphabet=string.ascii_letters + " <>&'\"", min_size=4, max_size=12).map(
    lambda s: "QZX" + s
)


@st.composite
def decisions(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]], list[str]]:
    out: list[dict[str, Any]] = []
    meta: dict[str, dict[str, str]] = {}
    secrets: list[str] = []
    for i in range(draw(st.integers(0, 25))):
        secret = draw(SECRETS)
        secrets.append(secret)
        request_id = f"{secret}-{i}"  # request ids may carry anything: never shown
        out.append(
            {
                "request_id": request_id,
                "status": draw(st.sampled_from(STATUSES)),
                "reasons": [
                    {"code": code, "citation": "c", "message": secret}
                    for code in draw(st.lists(CODES, max_size=3))
                ],
                "match": {
                    "probability": draw(st.floats(0, 1)),
                    "candidates": [{"name": secret}],
                    "evidence": {"address": secret},
                },
                "disclosed_fields": dict.fromkeys(draw(st.lists(FIELDS, max_size=3)), secret),
                "withheld_fields": [
                    {"field": f, "code": "D-TRI", "value": secret}
                    for f in draw(st.lists(FIELDS, max_size=2))
                ],
                "first_name": secret,
                "rulebook_version": "v1",
            }
        )
        meta[request_id] = {"agency": draw(AGENCIES), "statute": "18 U.S.C. 1343", "who": secret}
    return out, meta, secrets


@settings(max_examples=60, deadline=None)
@given(decisions())
def test_counts_add_up(
    case: tuple[list[dict[str, Any]], dict[str, dict[str, str]], list[str]],
) -> None:
    items, meta, secrets = case
    data = aggregate(items, meta, title="T", generated_at="G")
    n = len(items)
    assert data.requests == n and sum(data.totals.values()) == n
    for group in (data.by_agency, data.by_statute):
        assert sum(row["requests"] for row in group.values()) == n
    for status in STATUSES:
        assert sum(row[status.lower()] for row in data.by_agency.values()) == data.totals[status]
    for code, count in data.by_code.items():
        assert count == sum(
            1
            for d in items
            if code in {r["code"] for r in d["reasons"]} | {w["code"] for w in d["withheld_fields"]}
        )
    assert len(data.match_probabilities) == sum(1 for d in items if d["status"] != "REJECTED")


@settings(max_examples=12, deadline=None)  # each page draws four matplotlib charts
@given(decisions())
def test_no_secret_reaches_the_page(
    case: tuple[list[dict[str, Any]], dict[str, dict[str, str]], list[str]],
) -> None:
    items, meta, secrets = case
    page = render_html(aggregate(items, meta, title="T", generated_at="G"))
    for secret in secrets:
        assert secret not in page and html.escape(secret) not in page
        assert "QZX" not in page
