"""Intake: the batch folder contract, refusals naming file, row and column, never a value."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxgate.errors import InputError
from taxgate.intake.batch import MAX_FIELD_CHARS, parse_manifest, read_raw, read_requests
from taxgate.types import REQUEST_COLUMNS

ROW = {
    "request_id": "R-1",
    "case_number": "HSI-2025-000101",
    "officer": "Dana K. Whitfield",
    "first_name": "Zorava",
    "last_name": "Quillingham",
    "address_line1": "12 Elm St",
    "city": "Austin",
    "state": "TX",
    "zip": "78701",
    "tax_periods": "2022",
    "statute": "8 U.S.C. 1324",
    "reason": "a specific reason",
    "info_requested": "tin",
}
MANIFEST = {
    "batch_id": "B-1",
    "agency": "DHS",
    "official": {"name": "Avery Quinn", "title": "Director"},
    "submitted_at": "2026-01-01T00:00:00Z",
    "requests_sha256": "",
    "signature": "",
}


def write_batch(folder: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    buf = io.StringIO()
    cols = header or list(REQUEST_COLUMNS)
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in cols})
    (folder / "requests.csv").write_text(buf.getvalue(), encoding="utf-8")
    return folder


def test_reads_requests_with_row_numbers(tmp_path: Path) -> None:
    b = write_batch(tmp_path / "b", [ROW, {**ROW, "request_id": "R-2", "first_name": " Ana "}])
    reqs = read_requests(read_raw(b))
    assert [r.request_id for r in reqs] == ["R-1", "R-2"]
    assert [r.row for r in reqs] == [2, 3]
    assert reqs[1].first_name == "Ana"
    assert parse_manifest(read_raw(b)).official.name == "Avery Quinn"


def test_missing_column_names_it(tmp_path: Path) -> None:
    cols = [c for c in REQUEST_COLUMNS if c != "statute"]
    b = write_batch(tmp_path / "b", [ROW], header=cols)
    with pytest.raises(InputError) as e:
        read_requests(read_raw(b))
    assert e.value.row == 1 and e.value.column == "statute"
    assert "requests.csv" in str(e.value)


def test_header_names_in_a_spreadsheets_case_are_the_contracts(tmp_path: Path) -> None:
    b = tmp_path / "b"
    write_batch(b, [ROW])
    text = (b / "requests.csv").read_text(encoding="utf-8")
    head, rest = text.split("\n", 1)
    (b / "requests.csv").write_text(head.upper() + "\n" + rest, encoding="utf-8")
    reqs = read_requests(read_raw(b))
    assert [r.request_id for r in reqs] == [ROW["request_id"]]
    assert reqs[0].statute == ROW["statute"]
    # folding case never makes two columns one: a header naming one twice is still refused
    (b / "requests.csv").write_text(
        head + ",Request_ID\n" + rest.replace("\n", ",X\n"), encoding="utf-8"
    )
    with pytest.raises(InputError) as e:
        read_requests(read_raw(b))
    assert e.value.row == 1


def test_unexpected_column_refused(tmp_path: Path) -> None:
    b = write_batch(tmp_path / "b", [ROW], header=[*REQUEST_COLUMNS, "ssn"])
    with pytest.raises(InputError) as e:
        read_requests(read_raw(b))
    assert e.value.row == 1 and "column 18 not in the contract" in str(e.value)
    assert "ssn" not in str(e.value)  # a name read from the file is never quoted


def test_wrong_encoding_names_row_and_column(tmp_path: Path) -> None:
    b = write_batch(tmp_path / "b", [ROW, {**ROW, "request_id": "R-2", "city": "Sao Paulo"}])
    data = (b / "requests.csv").read_bytes().replace(b"Sao Paulo", "São Paulo".encode("latin-1"))
    (b / "requests.csv").write_bytes(data)
    with pytest.raises(InputError) as e:
        read_requests(read_raw(b))
    assert (e.value.row, e.value.column) == (3, "city")
    assert "S\ufffdo" not in str(e.value) and "Paulo" not in str(e.value)


def test_huge_field_refused_without_echoing_it(tmp_path: Path) -> None:
    secret = "Zorava" * (MAX_FIELD_CHARS // 6 + 10)
    b = write_batch(tmp_path / "b", [ROW, {**ROW, "request_id": "R-9", "reason": secret}])
    with pytest.raises(InputError) as e:
        read_requests(read_raw(b))
    assert (e.value.row, e.value.column) == (3, "reason")
    assert "Zorava" not in str(e.value)


def test_ragged_row_and_control_characters(tmp_path: Path) -> None:
    b = write_batch(tmp_path / "b", [ROW])
    with (b / "requests.csv").open("a", encoding="utf-8") as f:
        f.write("R-2,only,three\n")
    with pytest.raises(InputError) as e:
        read_requests(read_raw(b))
    assert e.value.row == 3
    b2 = write_batch(tmp_path / "c", [{**ROW, "last_name": "Quill\x07ingham"}])
    with pytest.raises(InputError) as e2:
        read_requests(read_raw(b2))
    assert (e2.value.row, e2.value.column) == (2, "last_name")


def test_nul_byte_and_empty_request_id(tmp_path: Path) -> None:
    b = write_batch(tmp_path / "b", [ROW])
    (b / "requests.csv").write_bytes(
        (b / "requests.csv").read_bytes().replace(b"Austin", b"Aus\x00tin")
    )
    with pytest.raises(InputError, match="NUL") as e:
        read_requests(read_raw(b))
    assert e.value.row == 2
    b2 = write_batch(tmp_path / "c", [{**ROW, "request_id": ""}])
    with pytest.raises(InputError) as e2:
        read_requests(read_raw(b2))
    assert e2.value.column == "request_id"


def test_injection_text_is_data_not_code(tmp_path: Path) -> None:
    hostile = {**ROW, "last_name": "=cmd|' /C calc'!A0", "reason": "'); DROP TABLE requests;--"}
    b = write_batch(tmp_path / "b", [hostile])
    (r,) = read_requests(read_raw(b))
    assert r.last_name == "=cmd|' /C calc'!A0"
    assert r.reason == "'); DROP TABLE requests;--"


@pytest.mark.parametrize(
    ("manifest", "column"),
    [
        ({k: v for k, v in MANIFEST.items() if k != "agency"}, "agency"),
        ({**MANIFEST, "official": "Avery"}, "official"),
        ({**MANIFEST, "batch_id": ""}, "batch_id"),
    ],
)
def test_manifest_problems_named(tmp_path: Path, manifest: dict[str, object], column: str) -> None:
    b = write_batch(tmp_path / "b", [ROW])
    (b / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError) as e:
        parse_manifest(read_raw(b))
    assert e.value.column == column


def test_manifest_not_json(tmp_path: Path) -> None:
    b = write_batch(tmp_path / "b", [ROW])
    (b / "manifest.json").write_text("{\n  'batch_id': 1", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON") as e:
        read_raw(b)
    assert e.value.row == 2


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a batch folder"):
        read_raw(tmp_path / "nope")
    (tmp_path / "b").mkdir()
    with pytest.raises(InputError, match="missing"):
        read_raw(tmp_path / "b")


def test_the_contract_columns_are_the_request_fields_in_order() -> None:
    """The reader builds a Request from the cells by position: the contract's columns must
    be its fields, in the same order (a reordering would swap, say, first and last names)."""
    from dataclasses import fields

    from taxgate.types import REQUEST_COLUMNS, Request

    assert tuple(f.name for f in fields(Request)) == (*REQUEST_COLUMNS, "row")


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(["a", ",", '"', "\r", "\n", " ", "é", "\x0c", "\u2028", "\x85"]),
        max_size=60,
    )
)
def test_the_reader_sees_the_lines_a_newline_free_stringio_gives(text: str) -> None:
    """The batch is read line by line without StringIO's copy of it: the lines, and so every
    row, cell, error and line number the CSV reader makes of them, are StringIO's (line
    ends \\r, \\n and \\r\\n, and none of the other characters str.splitlines breaks at)."""
    from taxgate.intake.batch import text_lines

    assert list(text_lines(text)) == list(io.StringIO(text, newline=""))

    def rows(lines: Iterable[str]) -> tuple[list[list[str]], int, str]:
        reader = csv.reader(lines, strict=True)
        out: list[list[str]] = []
        try:
            out.extend(reader)
        except csv.Error as e:
            return out, reader.line_num, str(e)
        return out, reader.line_num, ""

    assert rows(text_lines(text)) == rows(io.StringIO(text, newline=""))
