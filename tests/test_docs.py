"""Docs are tested: every rule, threshold and command appears in the documentation."""

from __future__ import annotations

from pathlib import Path

import typer.main
import yaml

from taxgate.cli import app
from taxgate.config import PACKAGE_DATA

ROOT = Path(__file__).resolve().parents[1]


def test_every_rule_code_and_threshold_is_documented() -> None:
    doc = yaml.safe_load((PACKAGE_DATA / "rulebook.yaml").read_text(encoding="utf-8"))
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    codes = [*doc["rules"], *doc.get("citations", {})]
    assert codes
    assert [c for c in codes if f"| {c} |" not in text] == []
    settings = [*doc["thresholds"], *doc["matching"]]
    assert [s for s in settings if f"`{s}`" not in text] == []


def command_paths() -> list[str]:
    def walk(group: object, prefix: str) -> list[str]:
        out = []
        for name, cmd in getattr(group, "commands", {}).items():
            path = f"{prefix} {name}".strip()
            out += walk(cmd, path) if hasattr(cmd, "commands") else [path]
        return out

    return walk(typer.main.get_command(app), "")


def test_every_command_appears_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = command_paths()
    assert "process" in paths and "audit verify" in paths
    missing = [p for p in paths if f"$T {p}" not in readme and f"taxgate {p}" not in readme]
    assert missing == []
