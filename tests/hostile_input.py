"""The hostile requests.csv corpus (tests/intake/hostile/requests_cases.json) made into files.

Every personal cell of the base row holds a sentinel, ``SENTINEL-PII-...``; a test passes
only if no refusal, log entry or API body ever shows one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxgate.types import REQUEST_COLUMNS

CORPUS = Path(__file__).parent / "intake" / "hostile" / "requests_cases.json"
SENTINEL = "SENTINEL-PII"

#: A request that passes intake; every cell that would hold personal data is a sentinel.
BASE_ROW = {
    "request_id": "R-1",
    "case_number": "HSI-2025-000101",
    "officer": "SENTINEL-PII-officer Whitfield",
    "first_name": "SENTINEL-PII-first",
    "middle_name": "",
    "last_name": "SENTINEL-PII-last",
    "suffix": "",
    "date_of_birth": "1980-01-01",
    "address_line1": "12 SENTINEL-PII-street St",
    "address_line2": "",
    "city": "SENTINEL-PII-city",
    "state": "TX",
    "zip": "78701",
    "tax_periods": "2022",
    "statute": "8 U.S.C. 1324",
    "reason": "SENTINEL-PII-reason naming an informant",
    "info_requested": "tin",
}


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    data: bytes
    expect: dict[str, Any] | None
    accept: int | None


def _value(v: str) -> str:
    if " *" in v:  # "text *N": the text N times
        text, times = v.rsplit(" *", 1)
        return text * int(times)
    return v


def build(case: dict[str, Any], ids: str = "") -> bytes:
    """The case's file; ``ids`` prefixes every request id (so cases never share one)."""
    header: Sequence[str] | None = list(REQUEST_COLUMNS)
    if "header" in case:
        header = case["header"]
    if header is not None:
        header = [c for c in header if c not in case.get("header_drop", [])]
        header = [*header, *case.get("header_append", [])]
    extra = int(case.get("extra_columns", 0))
    rows = [{**BASE_ROW, **{k: _value(v) for k, v in r.items()}} for r in case["rows"]]
    rows = [{**r, "request_id": ids + r["request_id"] if r["request_id"] else ""} for r in rows]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = header or list(REQUEST_COLUMNS)
    if header is not None:
        w.writerow([*header, *(f"SENTINEL-PII-col{i}" for i in range(extra))])
    for r in rows:
        w.writerow([r.get(c, "") for c in names] + [f"SENTINEL-PII-x{i}" for i in range(extra)])
    text = buf.getvalue() + case.get("raw_append", "")
    newline = case.get("newline", "\n")
    if newline == "\r\n":
        text = text.replace("\n", "\r\n")
    elif newline == "mixed":
        lines = text.split("\n")
        text = "".join(x + ("\r\n" if i % 2 else "\n") for i, x in enumerate(lines[:-1]))
    encoding = case.get("encoding", "utf-8")
    if encoding == "latin-1":
        # the header and ASCII rows stay as they are; only non-ASCII cells change bytes
        data = text.encode("latin-1")
    else:
        data = text.encode(encoding)
    if case.get("bom"):
        data = b"\xef\xbb\xbf" + data
    return data


def cases(*, unique_ids: bool = False) -> list[Case]:
    """The corpus; with ``unique_ids`` each case's request ids start with its name."""
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    return [
        Case(
            c["name"],
            c["description"],
            build(c, f"{c['name']}-" if unique_ids else ""),
            c.get("expect"),
            c.get("accept"),
        )
        for c in corpus["cases"]
    ]


def write_folder(folder: Path, case: Case, manifest: dict[str, Any]) -> Path:
    """A batch folder holding the case's requests.csv and ``manifest`` (unsigned)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "requests.csv").write_bytes(case.data)
    return folder
