"""The HTML report: well formed, complete, escaped, self-contained, and free of personal data."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from taxgate.reports.aggregate import aggregate
from taxgate.reports.charts import bar_chart, bin_counts, histogram, monthly_chart
from taxgate.reports.codes import CODE_EXPLANATIONS
from taxgate.reports.html import render_html
from taxgate.types import STATUSES

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source"}
HOSTILE = "<script>alert(1)</script>"


class Checker(HTMLParser):
    """Checks that every element is closed in order; collects tables' rows and all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._caption: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "table":
            self._caption = ""
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()
        if tag == "caption":
            self._in_caption = False
            self.tables[self._caption or ""] = []
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._caption is not None:
            self.tables[self._caption].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_caption:
            self._caption = (self._caption or "") + data
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


def _decisions() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    plan = {"REJECTED": 4, "NO_MATCH": 2, "AMBIGUOUS": 1, "DISCLOSED": 3, "WITHHELD": 1}
    n = 0
    for status, count in plan.items():
        for _ in range(count):
            n += 1
            codes = {"REJECTED": ["R-ADDRESS"], "NO_MATCH": ["M-NONE"], "AMBIGUOUS": []}
            out.append(
                {
                    "request_id": f"Q{n}",
                    "status": status,
                    "reasons": [
                        {"code": c, "citation": "§6103(i)(2)(B)(i)"} for c in codes.get(status, [])
                    ],
                    "match": {"probability": n / 12, "candidates": 1},
                    "disclosed_fields": ["wages"] if status == "DISCLOSED" else [],
                    "withheld_fields": [{"field": "phone", "code": "D-TRI"}]
                    if status == "DISCLOSED"
                    else [],
                    "rulebook_version": "6103i2-1",
                }
            )
    return out


def _page(decisions: list[dict[str, Any]] | None = None, **meta: Any) -> tuple[str, Checker]:
    data = aggregate(
        _decisions() if decisions is None else decisions,
        meta.get("requests_meta"),
        title="Oversight report",
        generated_at="2026-11-25T00:00:00Z",
        audit=meta.get("audit"),
    )
    page = render_html(data)
    return page, parse(page)


def test_the_page_is_well_formed_and_self_contained() -> None:
    page, checker = _page()
    assert page.startswith("<!DOCTYPE html>")
    tags = [t for t, _ in checker.tags]
    assert tags.count("svg") == 4  # statuses, refusal codes, withheld fields, histogram
    assert "script" not in tags and "link" not in tags and "img" not in tags
    for _, attrs in checker.tags:
        assert "src" not in attrs and "href" not in attrs


def test_every_status_and_code_appears_with_its_count() -> None:
    _, checker = _page()
    statuses = {row[0]: row[1] for row in checker.tables["Requests by final status"][1:]}
    expected = {"REJECTED": "4", "NO_MATCH": "2", "AMBIGUOUS": "1", "PENDING_REVIEW": "0"}
    expected |= {"DISCLOSED": "3", "WITHHELD": "1"}
    assert statuses == expected
    assert set(statuses) == set(STATUSES)
    codes = {row[0]: row[1:] for row in checker.tables["What each code means"][1:]}
    assert set(codes) == {"R-ADDRESS", "M-NONE", "D-TRI"}
    assert codes["R-ADDRESS"][:2] == ["4", "§6103(i)(2)(B)(i)"]
    assert codes["M-NONE"][0] == "2"
    assert codes["D-TRI"][:2] == ["3", CODE_EXPLANATIONS["D-TRI"][0]]  # fallback citation
    assert all(row[2] for row in codes.values())  # an explanation line per code
    fields = {
        row[0]: row[1:]
        for row in checker.tables["Requests that disclosed or withheld each field"][1:]
    }
    assert fields == {"phone": ["0", "3"], "wages": ["3", "0"]}


def test_agency_and_statute_tables_and_audit_head() -> None:
    meta = {
        f"Q{i}": {"agency": "DHS" if i % 2 else "DOJ", "statute": "18 U.S.C. 1343"}
        for i in range(1, 12)
    }
    checkpoint = "taxgate.example/log\n11\nq83abc=\n\n— taxgate xyz\n"
    page, checker = _page(
        requests_meta=meta,
        audit={"tree_size": 11, "root_hash": "ab" * 32, "checkpoint": checkpoint},
    )
    agencies = {row[0]: row[1:] for row in checker.tables["By requesting agency"][1:]}
    header = checker.tables["By requesting agency"][0]
    assert header[:2] == ["agency", "requests"] and set(STATUSES) <= set(header)
    assert agencies["DHS"][0] == "6" and agencies["DOJ"][0] == "5"
    disclosed_col = header.index("DISCLOSED") - 1
    assert int(agencies["DHS"][disclosed_col]) + int(agencies["DOJ"][disclosed_col]) == 3
    assert checker.tables["By statute cited"][1][:2] == ["18 U.S.C. 1343", "11"]
    assert checkpoint in "".join(checker.text)
    assert "ab" * 32 in page and "6103i2-1" in page


@pytest.mark.parametrize("where", ["code", "agency", "statute", "status", "version", "field"])
def test_hostile_values_are_escaped(where: str) -> None:
    decision: dict[str, Any] = {
        "request_id": "Q1",
        "status": HOSTILE if where == "status" else "DISCLOSED",
        "reasons": [{"code": HOSTILE if where == "code" else "R-CASE", "citation": HOSTILE}],
        "match": {"probability": 0.5},
        "disclosed_fields": ["wages"],
        "withheld_fields": [{"field": HOSTILE if where == "field" else "phone", "code": "D-TRI"}],
        "rulebook_version": HOSTILE if where == "version" else "v1",
    }
    meta = {
        "Q1": {
            "agency": HOSTILE if where == "agency" else "A",
            "statute": HOSTILE if where == "statute" else "S",
        }
    }
    page, checker = _page([decision], requests_meta=meta, audit={"root_hash": HOSTILE})
    assert "<script" not in page.lower()
    assert "script" not in [t for t, _ in checker.tags]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    if where != "field":  # a non-field-name is reported as "(other)", never shown
        assert HOSTILE in "".join(checker.text)


def test_no_personal_data_or_request_id_reaches_the_page() -> None:
    secrets = [
        "Zebulon",
        "Quimby",
        "742 Evergreen Terrace",
        "900-11-2222",
        "1970-01-01",
        "REQSECRET",
    ]
    decisions: list[dict[str, Any]] = [
        {
            "request_id": "REQSECRET-1",
            "status": "DISCLOSED",
            "first_name": "Zebulon",
            "last_name": "Quimby",
            "tin": "900-11-2222",
            "reasons": [
                {
                    "code": "R-NAME",
                    "citation": "c",
                    "message": "Zebulon Quimby",
                    "detail": "742 Evergreen Terrace",
                }
            ],
            "match": {
                "probability": 0.99,
                "candidates": [{"name": "Zebulon Quimby"}],
                "evidence": {"dob": "1970-01-01"},
            },
            "disclosed_fields": {
                "last_known_address": "742 Evergreen Terrace",
                "tin": "900-11-2222",
            },
            "withheld_fields": [{"field": "phone", "code": "D-TRI", "value": "Quimby"}],
            "response": {"fields": {"last_name": "Quimby"}},
            "rulebook_version": "v1",
        }
    ]
    page, _ = _page(
        decisions,
        requests_meta={"REQSECRET-1": {"agency": "A", "statute": "S", "officer": "Zebulon"}},
    )
    for secret in secrets:
        assert secret not in page
    assert "last_known_address" in page  # the field name, not its value


def test_an_empty_report_renders() -> None:
    page, checker = _page([])
    assert "no requests" in page and "No audit log head" in page
    assert {row[1] for row in checker.tables["Requests by final status"][1:]} == {"0"}


def test_histogram_bins() -> None:
    nan = float("nan")
    assert bin_counts([0.0, 0.01, 0.5, 1.0, 1.5, -1.0, nan], 10) == [3, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    assert bin_counts([0.05, 0.0499999], 20) == [1, 1] + [0] * 18
    assert bin_counts([], 4) == [0, 0, 0, 0]


def _svg_text(svg: str) -> list[str]:
    checker = parse(svg)
    return [t.strip() for t in checker.text if t.strip()]


def test_charts_have_titles_axis_titles_values_and_threshold_marks() -> None:
    svg = bar_chart(
        [("DISCLOSED", 12), ("REJECTED", 3)], title="By status", xlabel="requests (count)"
    )
    text = _svg_text(svg)
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-label="By status"' in svg
    assert {"By status", "requests (count)", "DISCLOSED", "REJECTED", "12", "3"} <= set(text)
    hist = histogram(
        [0.1] * 12 + [0.95, 0.9995],
        thresholds={"disclose at 0.999": 0.999, "review at 0.9": 0.9},
        title="Match probability",
        xlabel="match probability",
        ylabel="requests (count)",
    )
    text = _svg_text(hist)
    assert {"Match probability", "match probability", "requests (count)"} <= set(text)
    assert "disclose at 0.999" in text and "review at 0.9" in text
    assert sum(t.isdigit() for t in text) >= 4  # more than two y-axis ticks
    monthly = monthly_chart(
        ["2026-01", "2026-02"], {"disclosed": [3, 4], "refused": [1, 0]}, title="M", ylabel="n"
    )
    assert {"2026-01", "2026-02", "disclosed", "refused", "month received (UTC)"} <= set(
        _svg_text(monthly)
    )


def test_charts_are_deterministic_and_draw_labels_literally() -> None:
    items = [("$x^2$ <b>&", 3), ("a" * 80, 1)]
    one = bar_chart(items, title="T <i>", xlabel="x")
    assert one == bar_chart(items, title="T <i>", xlabel="x")
    assert "<b>" not in one and "<i>" not in one and "&lt;b&gt;" in one
    assert "$x^2$" in one  # no mathtext
    assert "a" * 80 not in one and "a" * 31 + "…" in one  # long labels are cut
