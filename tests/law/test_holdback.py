"""The (i)(6) holdback: a held taxpayer is never disclosed, and the agency sees an M-NONE."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

from taxgate.holdback import agency_view
from tests.conftest import World, taxgate


def test_agency_view_of_a_held_decision_is_an_m_none() -> None:
    none = {"code": "M-NONE", "citation": "accuracy", "message": "no taxpayer matches"}
    held = {
        "request_id": "R1",
        "status": "NO_MATCH",
        "reasons": [{"code": "D-HOLDBACK", "citation": "(i)(6)", "message": "held"}, none],
    }
    plain = {"request_id": "R1", "status": "NO_MATCH", "reasons": [none]}
    assert agency_view(held) == plain
    assert agency_view(plain) == plain


def test_holdback_commands_refuse_bad_input(tmp_path: Path) -> None:
    wd = tmp_path / "w"
    bad = taxgate("holdback", "add", "123456789", "--reason", "curiosity", "--workdir", wd,
                  check=False)  # fmt: skip
    assert bad.returncode == 2
    bad = taxgate("holdback", "add", "not-a-tin", "--reason", "informant", "--workdir", wd,
                  check=False)  # fmt: skip
    assert bad.returncode == 2 and "not-a-tin" not in bad.stderr
    gone = taxgate("holdback", "remove", "123456789", "--workdir", wd, check=False)
    assert gone.returncode == 1
    taxgate("holdback", "add", "123456789", "--reason", "informant", "--workdir", wd)
    listed = taxgate("holdback", "list", "--workdir", wd, env={"COLUMNS": "200"}).stdout
    assert "123456789" in listed and "informant" in listed
    taxgate("holdback", "remove", "123456789", "--workdir", wd)
    assert "123456789" not in taxgate("holdback", "list", "--workdir", wd).stdout
    export = tmp_path / "log.json"
    taxgate("audit", "export", export, "--workdir", wd)
    text = export.read_text()
    entries = [json.loads(base64.b64decode(e)) for e in json.loads(text)["entries"]]
    kinds = [e["event_type"] for e in entries]
    assert "holdback_added" in kinds and "holdback_removed" in kinds
    assert "123456789" not in json.dumps(entries)  # only a salted hash is logged


def test_a_held_taxpayer_reads_as_no_match(world: World, tmp_path: Path) -> None:
    wd = world.copy_workdir(tmp_path / "work")
    lines = [json.loads(x) for x in (world.out / "decisions.jsonl").read_text().splitlines()]
    disclosed = [d["request_id"] for d in lines if d["status"] == "DISCLOSED"]
    assert disclosed
    shown = taxgate("disclosures", "--request", disclosed[0], "--workdir", wd).stdout
    tin = json.loads(shown.splitlines()[0])["tin"]
    taxgate("holdback", "add", tin, "--reason", "tax-investigation", "--workdir", wd)
    # the same requests again under new ids: the held taxpayer is never disclosed
    batch = tmp_path / "batch"
    batch.mkdir()
    manifest = json.loads((world.batch / "manifest.json").read_text())
    manifest["batch_id"] = manifest["batch_id"] + "-again"
    (batch / "manifest.json").write_text(json.dumps(manifest))
    with (world.batch / "requests.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        names, rows = list(reader.fieldnames or []), list(reader)
    with (batch / "requests.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "request_id": "X" + row["request_id"]})
    taxgate("sign", batch, "--key", world.key, "--workdir", wd)
    out = tmp_path / "out"
    taxgate("process", batch, "--out", out, "--workdir", wd)
    text = (out / "decisions.jsonl").read_text(encoding="utf-8")
    again = {d["request_id"]: d for d in map(json.loads, text.splitlines())}
    held = again["X" + disclosed[0]]
    assert held["status"] == "NO_MATCH"
    assert [r["code"] for r in held["reasons"]][-2:] == ["D-HOLDBACK", "M-NONE"]
    response = (out / "response.jsonl").read_text()
    assert "X" + disclosed[0] not in response and tin not in response
    assert "D-HOLDBACK" not in response
    others = [again["X" + r] for r in disclosed[1:]]
    assert any(d["status"] == "DISCLOSED" for d in others)
