"""response.jsonl and its signed manifest: a round trip, and every tampering refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.canonical import canonical_json
from taxgate.disclosure.fields import load_catalogue
from taxgate.disclosure.plan import plan_disclosure
from taxgate.disclosure.response import (
    MANIFEST_FILE,
    RESPONSE_FILE,
    key_id_for,
    response_bytes,
    response_line,
    verify_response,
    write_response,
)
from taxgate.errors import InputError

KEY = Ed25519PrivateKey.generate()
KEY_ID = key_id_for(KEY.public_key())
LINES = [
    {
        "request_id": "R-1",
        "tin": "900-00-0001",
        "fields": {"wages": {"2022": 1}},
        "tax_years": [2022],
    },
    {"request_id": "R-2", "fields": {"last_name": "Synthetic"}, "tax_years": [2021, 2022]},
    {"request_id": "R-3", "fields": {}, "tax_years": [2020]},
]


@pytest.fixture
def out(tmp_path: Path) -> Path:
    write_response(tmp_path, "B-1", "AGENCY", LINES, KEY, KEY_ID, created_at="2026-01-02T03:04:05")
    return tmp_path


def test_round_trip(out: Path) -> None:
    assert verify_response(out, KEY.public_key()) == len(LINES)
    lines = (out / RESPONSE_FILE).read_bytes().splitlines()
    assert [json.loads(line) for line in lines] == LINES
    assert all(line == canonical_json(json.loads(line)) for line in lines)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["count"] == 3 and manifest["batch_id"] == "B-1"
    assert manifest["agency"] == "AGENCY" and manifest["key_id"] == KEY_ID
    assert manifest["created_at"] == "2026-01-02T03:04:05"
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_empty_response_verifies(tmp_path: Path) -> None:
    write_response(tmp_path, "B-2", "AGENCY", [], KEY, KEY_ID)
    assert (tmp_path / RESPONSE_FILE).read_bytes() == b""
    assert verify_response(tmp_path, KEY.public_key()) == 0


def test_rewrite_replaces_both_files(out: Path) -> None:
    write_response(out, "B-1", "AGENCY", LINES[:1], KEY, KEY_ID)
    assert verify_response(out, KEY.public_key()) == 1


def _edit_lines(out: Path, edit: str) -> None:
    path = out / RESPONSE_FILE
    lines = path.read_text().splitlines(keepends=True)
    if edit == "change":
        lines[1] = lines[1].replace("Synthetic", "Synthetik")
    elif edit == "remove":
        del lines[2]
    elif edit == "add":
        lines.append(lines[0])
    elif edit == "reorder":
        lines.reverse()
    path.write_text("".join(lines))


@pytest.mark.parametrize("edit", ["change", "remove", "add", "reorder"])
def test_a_changed_response_is_refused(out: Path, edit: str) -> None:
    _edit_lines(out, edit)
    with pytest.raises(InputError) as caught:
        verify_response(out, KEY.public_key())
    assert RESPONSE_FILE in str(caught.value) and "response_sha256" in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("count", 2),
        ("count", 4),
        ("agency", "OTHER"),
        ("batch_id", "B-9"),
        ("created_at", "2030-01-01T00:00:00"),
        ("key_id", "0000"),
        ("response_sha256", "0" * 64),
        ("signature", "AAAA"),
        ("signature", "not base64!"),
    ],
)
def test_a_changed_manifest_is_refused(out: Path, key: str, value: object) -> None:
    path = out / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest[key] = value
    path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="signature does not verify") as caught:
        verify_response(out, KEY.public_key())
    assert MANIFEST_FILE in str(caught.value)


def test_a_response_and_manifest_hash_updated_together_still_fail_the_signature(
    out: Path,
) -> None:
    _edit_lines(out, "remove")
    path = out / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["response_sha256"] = hashlib.sha256((out / RESPONSE_FILE).read_bytes()).hexdigest()
    manifest["count"] = 2
    path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="signature"):
        verify_response(out, KEY.public_key())


def test_the_wrong_key_is_refused(out: Path) -> None:
    with pytest.raises(InputError, match="signature does not verify"):
        verify_response(out, Ed25519PrivateKey.generate().public_key())


def test_a_resigned_forgery_is_refused_under_the_real_key(out: Path) -> None:
    write_response(
        out,
        "B-1",
        "AGENCY",
        LINES + [{"request_id": "R-4", "fields": {}}],
        Ed25519PrivateKey.generate(),
        KEY_ID,
    )
    with pytest.raises(InputError, match="signature"):
        verify_response(out, KEY.public_key())


@pytest.mark.parametrize("missing", [MANIFEST_FILE, RESPONSE_FILE])
def test_missing_files_are_named(out: Path, missing: str) -> None:
    (out / missing).unlink()
    with pytest.raises(InputError, match=missing.replace(".", r"\.")):
        verify_response(out, KEY.public_key())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not a readable JSON manifest"),
        ("[1]", "expected a JSON object"),
        ('{"batch_id": "B"}', "missing key"),
    ],
)
def test_malformed_manifests_are_named(out: Path, text: str, words: str) -> None:
    (out / MANIFEST_FILE).write_text(text)
    with pytest.raises(InputError, match=words) as caught:
        verify_response(out, KEY.public_key())
    assert MANIFEST_FILE in str(caught.value)


def test_an_extra_manifest_key_is_refused(out: Path) -> None:
    path = out / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["note"] = "x"
    path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="unexpected key"):
        verify_response(out, KEY.public_key())


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ([{"fields": {}}], "missing `request_id`"),
        ([{"request_id": "R-1"}], "`fields` must be a mapping"),
        ([{"request_id": "R-1", "fields": {}, "first_name": "X"}], "unexpected keys `first_name`"),
        ([{"request_id": "R-1", "fields": {}}, {"request_id": "R-1", "fields": {}}], "twice"),
    ],
)
def test_malformed_lines_are_refused_before_anything_is_written(
    tmp_path: Path, lines: list[dict[str, object]], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        write_response(tmp_path, "B", "A", lines, KEY, KEY_ID)
    assert not list(tmp_path.iterdir())


def test_response_bytes_are_one_canonical_line_each() -> None:
    body = response_bytes(LINES)
    assert body.count(b"\n") == len(LINES) and body.endswith(b"\n")
    assert body.splitlines() == [canonical_json(line) for line in LINES]


def test_a_signed_manifest_with_a_wrong_count_is_refused(out: Path) -> None:
    import base64

    path = out / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    del manifest["signature"]
    manifest["count"] = 7
    manifest["signature"] = base64.b64encode(KEY.sign(canonical_json(manifest))).decode()
    path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="holds 3 lines, the manifest says 7"):
        verify_response(out, KEY.public_key())


def test_a_plan_becomes_a_response_line_that_round_trips(tmp_path: Path) -> None:
    rows = [{"tax_year": 2022, "wages": 5, "phone": "x", "last_name": "Synthetic"}]
    plan = plan_disclosure(
        ["wages", "phone", "last_name"], [2022], "DISCLOSED", rows, load_catalogue()
    )
    line = response_line("R-9", plan, [2022, 2022])
    assert line == {
        "request_id": "R-9",
        "fields": {"wages": {"2022": 5}, "last_name": "Synthetic"},
        "tax_years": [2022],
    }
    assert plan.disclosed_fields == ("wages", "last_name")
    assert plan.withheld_dicts() == [{"field": "phone", "code": "D-TRI"}]
    write_response(tmp_path, "B", "A", [line], KEY, KEY_ID)
    assert verify_response(tmp_path, KEY.public_key()) == 1
    assert json.loads((tmp_path / RESPONSE_FILE).read_text()) == line
    assert "tin" in response_line("R-9", plan, [2022], tin="900-00-0009")
