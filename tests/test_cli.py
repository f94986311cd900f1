"""The command line as a person meets it: help pages, --version, users, plain-word errors,
shipped rulebooks by name, the record of disclosures a page at a time, the review queue."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from taxgate.audit.entry import decode_entry
from taxgate.cli import command as cli_command
from taxgate.services.users import lookup
from taxgate.storage.tables import AuditEntry
from taxgate.workspace import Workspace
from tests.conftest import World, taxgate
from tests.test_docs import command_paths

_EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]+(Error|Exception)\b")


def test_every_help_page_shows_flags_as_flags_and_arguments_by_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    command = cli_command()

    def help_of(path: str) -> str:
        command.main([*path.split(), "--help"], prog_name="taxgate", standalone_mode=False)
        return capsys.readouterr().out

    for path in command_paths():
        page = help_of(path)
        assert "<bool>" not in page, path
        usage = next(line for line in page.splitlines() if "Usage:" in line)
        assert "{" not in usage and "}" not in usage, (path, usage)
    decide = help_of("review decide")
    assert "REQUEST_ID" in decide and "--approve" in decide


def test_version() -> None:
    proc = taxgate("--version")
    assert re.fullmatch(r"taxgate \d+\.\d+\.\d+\S*\n", proc.stdout)


def test_users_add_list_rotate_disable_and_clear_errors(world: World, tmp_path: Path) -> None:
    wd = world.copy_workdir(tmp_path / "w")
    w = ("--workdir", wd)
    token = taxgate("users", "add", "rivera", "--role", "reviewer", *w).stdout.strip()
    dup = taxgate("users", "add", "rivera", "--role", "auditor", *w, check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    unknown = taxgate("users", "add", "p", "--role", "agency", "--agency", "NOPE", *w, check=False)
    assert unknown.returncode == 1 and "no agency `NOPE`" in unknown.stderr
    for proc in (dup, unknown):
        assert "internal error" not in proc.stderr and not _EXCEPTION_NAME.search(proc.stderr)
    listed = taxgate("users", "list", *w).stdout
    assert "rivera" in listed and "reviewer" in listed and "p " not in listed

    new = taxgate("users", "rotate", "rivera", *w).stdout.strip()
    assert new and new != token
    ws = Workspace.open(wd)
    try:
        with ws.transaction() as (s, _):
            assert lookup(s, token) is None and lookup(s, new) is not None
        assert "disabled" in taxgate("users", "disable", "rivera", *w).stdout
        with ws.transaction() as (s, _):
            assert lookup(s, new) is None
            # logged as the API logs the same change (PATCH /v1/users/NAME active=false)
            changes = [
                decode_entry(bytes(e)).details
                for e in s.scalars(
                    select(AuditEntry.entry)
                    .where(AuditEntry.object_id == "user:rivera")
                    .order_by(AuditEntry.idx)
                )
            ]
        assert [c["action"] for c in changes] == ["user_added", "token_rotated", "user_changed"]
        assert changes[-1]["after"]["active"] is False and changes[-1]["before"]["active"]
    finally:
        ws.close()
    assert "already disabled" in taxgate("users", "disable", "rivera", *w).stdout
    ghost = taxgate("users", "rotate", "ghost", *w, check=False)
    assert ghost.returncode == 1 and "no user `ghost`" in ghost.stderr


def test_reaudit_by_shipped_name_from_anywhere_says_why_per_request(
    world: World, tmp_path: Path
) -> None:
    wd = world.copy_workdir(tmp_path / "w")
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "taxgate.cli", "reaudit", "--rulebook", "strict", "--workdir", wd,
         "--out", tmp_path / "f.json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    lines = [x for x in proc.stdout.splitlines() if x.startswith("SYN-")]
    assert len(lines) == len(doc["refused"])
    for finding, line in zip(doc["refused"], lines, strict=True):
        assert line.startswith(finding["request_id"] + " ")  # the whole id, never cut
        assert finding["why"] and all(w.split(":")[0] in line for w in finding["why"])
    bad = taxgate("reaudit", "--rulebook", "lenient", "--workdir", wd, check=False)
    assert bad.returncode == 2 and "shipped: default, strict" in bad.stderr


def test_disclosures_lists_a_page_at_a_time(world: World) -> None:
    w = ("--workdir", world.workdir)
    disclosed = [d for d in world.decisions() if d["status"] == "DISCLOSED"]
    assert len(disclosed) > 3
    first = taxgate("disclosures", "--limit", 2, *w)
    rows = [json.loads(x) for x in first.stdout.splitlines()]
    assert len(rows) == 2 and "--offset 2" in first.stderr
    second = [
        json.loads(x)
        for x in taxgate("disclosures", "--limit", 2, "--offset", 2, *w).stdout.splitlines()
    ]
    assert {r["request_id"] for r in rows}.isdisjoint(r["request_id"] for r in second)
    # the record holds every request, refused ones too (6103(p)(3)(A)); --status narrows it
    everything = taxgate("disclosures", "--limit", 100000, *w).stdout.splitlines()
    assert len(everything) == len(world.decisions())
    only = taxgate("disclosures", "--status", "DISCLOSED", "--limit", 100000, *w)
    assert len(only.stdout.splitlines()) == len(disclosed)
    agency = rows[0]["agency"]
    assert len(
        taxgate("disclosures", "--agency", agency, "--limit", 100000, *w).stdout.splitlines()
    ) == len(world.decisions())
    assert taxgate("disclosures", "--agency", "NOPE", *w).stdout == ""
    both = taxgate("disclosures", "--tin", "1", "--request", "x", *w, check=False)
    assert both.returncode == 2


@pytest.mark.parametrize("queue", ["empty"])
def test_review_list_says_when_the_queue_is_empty(tmp_path: Path, queue: str) -> None:
    proc = taxgate("review", "list", "--workdir", tmp_path / "w")
    assert proc.stdout.strip() == "no request is waiting for review"


def test_audit_verify_and_checkpoints_show_the_root_in_one_encoding(
    world: World, tmp_path: Path
) -> None:
    wd = world.copy_workdir(tmp_path / "w")
    checkpoint = taxgate("audit", "checkpoint", "--workdir", wd).stdout.splitlines()
    verified = taxgate("audit", "verify", "--workdir", wd).stdout
    assert f"root {checkpoint[2]} (base64" in verified
    taxgate("audit", "export", tmp_path / "log.json", "--workdir", wd)
    exported = taxgate("audit", "verify", "--export", tmp_path / "log.json", "--workdir", wd)
    assert f"root {checkpoint[2]} (base64" in exported.stdout


def test_workdir_is_one_option_taken_before_or_after_the_command(tmp_path: Path) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    taxgate("--workdir", before, "users", "add", "a", "--role", "auditor")
    taxgate("users", "add", "b", "--role", "auditor", "--workdir", after)
    assert "a" in taxgate("users", "list", "--workdir", before).stdout
    listed_after = taxgate("--workdir", after, "users", "list").stdout
    assert " b " in listed_after and " a " not in listed_after
    # stateless commands accept it (scripts pass it everywhere) and say they ignore it
    taxgate("keygen", "--out", tmp_path / "k", "--workdir", tmp_path / "unused")
    assert not (tmp_path / "unused").exists()
    assert "ignores it" in taxgate("keygen", "--help").stdout


def test_an_option_that_would_do_nothing_is_a_usage_error(tmp_path: Path) -> None:
    w = ("--workdir", tmp_path / "w")
    key_alone = taxgate("audit", "verify", "--key", "taxgate+abc", *w, check=False)
    assert key_alone.returncode == 2 and "`--export`" in key_alone.stderr
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    x = tmp_path / "x.json"
    both = taxgate("audit", "verify", "--export", x, "--since", x, *w, check=False)
    assert both.returncode == 2 and "`--since`" in both.stderr


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"entries": [1, 2', "JSON broken at line 1"),  # cut off mid-file
        ("{}", "overseer-copy.json"),  # JSON, but no export
        ("not a checkpoint\n", "overseer-copy.json"),
    ],
)
def test_a_broken_since_file_is_refused_by_name(tmp_path: Path, text: str, said: str) -> None:
    earlier = tmp_path / "overseer-copy.json"
    earlier.write_text(text, encoding="utf-8")
    proc = taxgate("audit", "verify", "--since", earlier, "--workdir", tmp_path / "w", check=False)
    assert proc.returncode == 1, proc.stderr
    assert said in proc.stderr and "Traceback" not in proc.stderr
