"""The hostile requests.csv corpus read by intake: each refusal points at file, row and
column (by the contract's name and header position) and quotes no cell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.hostile_input import SENTINEL, Case, cases, write_folder

from taxgate.errors import InputError
from taxgate.intake.batch import parse_manifest, read_raw, read_requests

MANIFEST = {
    "batch_id": "B-1",
    "agency": "DHS",
    "official": {"name": "Avery Quinn", "title": "Director"},
    "submitted_at": "2026-01-01T00:00:00Z",
    "requests_sha256": "",
    "signature": "",
}
CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "b", case, MANIFEST)
    if case.accept is not None:
        assert len(read_requests(read_raw(folder))) == case.accept
        return
    assert case.expect is not None
    with pytest.raises(InputError) as e:
        read_requests(read_raw(folder))
    err = e.value
    assert SENTINEL not in str(err) and SENTINEL not in repr(err.args)
    assert err.file.endswith("requests.csv") and "requests.csv" in str(err)
    assert err.row == case.expect["row"], str(err)
    assert (err.column or None) == case.expect["column"], str(err)
    assert err.position == case.expect["position"], str(err)
    assert case.expect["reason"] in err.reason, str(err)
    assert len(str(err)) <= case.expect.get("max_message", 600)


def test_corpus_files_hold_sentinels() -> None:
    """The corpus means something only if its files really carry the sentinels."""
    for case in CASES:
        if case.name == "utf16":
            assert SENTINEL.encode("utf-16-le") in case.data
        elif case.name != "header-only":
            assert SENTINEL.encode() in case.data, case.name


def test_corpus_is_documented() -> None:
    for c in json.loads(
        Path(__file__).with_name("hostile").joinpath("requests_cases.json").read_text()
    )["cases"]:
        assert c["description"] and ("expect" in c) != ("accept" in c), c["name"]


MANIFEST_CORPUS = Path(__file__).with_name("hostile") / "manifest_cases.json"
MANIFEST_CASES = json.loads(MANIFEST_CORPUS.read_text(encoding="utf-8"))["cases"]


def _manifest_bytes(case: dict[str, object]) -> bytes:
    text = str(case["text"])
    if "number" in case:
        digit, times = str(case["number"]).split("*")
        text = text.replace("{NUMBER}", digit * int(times))
    if "deep" in case:
        n = int(str(case["deep"]))
        text = text.replace("{DEEP}", "[" * n + "]" * n)
    if "pad" in case:
        text = text.replace("{PAD}", "SENTINEL-PII-" + "x" * int(str(case["pad"])))
    return text.encode(str(case.get("encoding", "utf-8")))


@pytest.mark.parametrize("case", MANIFEST_CASES, ids=[c["name"] for c in MANIFEST_CASES])
def test_manifest_corpus_case(case: dict[str, Any], tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "b", CASES[0], MANIFEST)
    (folder / "manifest.json").write_bytes(_manifest_bytes(case))
    with pytest.raises(InputError) as e:
        parse_manifest(read_raw(folder))
    err = e.value
    assert err.file.endswith("manifest.json"), str(err)
    assert (err.column or None) == case["expect"]["column"], str(err)
    assert case["expect"]["reason"] in err.reason, str(err)
    assert SENTINEL not in str(err) and len(str(err)) < 400
