"""Statutory rules cannot be switched off or sent to review; policy rules say they are policy.

A rulebook that tries is refused when it is compiled (exit 1, naming the rule and clause),
whichever door it comes through: ``process --config``, ``check --rulebook``, ``reaudit``.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from taxgate.config import PACKAGE_DATA
from taxgate.errors import ConfigError
from taxgate.rules import compile_rulebook
from taxgate.rules.rulebook import REVIEW_ALLOWED, RULE_CODES, STATUTORY
from tests.conftest import World, taxgate

STATUTE_RULES = [c for c in RULE_CODES if c in STATUTORY]
POLICY_RULES = [c for c in RULE_CODES if c not in STATUTORY]


def _doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PACKAGE_DATA / "rulebook.yaml").read_text())
    return copy.deepcopy(loaded)


def test_the_statutory_list() -> None:
    assert set(STATUTE_RULES) == {
        "R-SIGNATURE", "R-REQUESTER", "R-NAME", "R-ADDRESS", "R-PERIOD", "R-STATUTE",
        "R-REASON", "R-PURPOSE",
    }  # fmt: skip
    assert set(POLICY_RULES) == {"R-CASE", "R-OFFICER", "R-ENGAGEMENT", "R-INFO", "R-DUPLICATE"}
    assert "M-ADDRESS" in STATUTORY


@pytest.mark.parametrize("switch", ["off", False, "review"])
@pytest.mark.parametrize("code", STATUTE_RULES)
def test_statutory_rule_cannot_be_turned_off(code: str, switch: str | bool) -> None:
    doc = _doc()
    doc["rules"][code]["switch"] = switch
    if switch == "review" and code in REVIEW_ALLOWED:
        assert compile_rulebook(doc, "x.yaml").switch(code) == "review"
        return
    with pytest.raises(ConfigError) as err:
        compile_rulebook(doc, "x.yaml")
    text = str(err.value)
    assert f"`{code}`" in text and "26 U.S.C. 6103(i)(2)" in text


@pytest.mark.parametrize("switch", ["off", "review"])
def test_m_address_has_no_switch(switch: str) -> None:
    doc = _doc()
    doc["rules"]["M-ADDRESS"] = {"switch": switch, "citation": "x"}
    with pytest.raises(ConfigError, match=r"`M-ADDRESS` is required by 26 U.S.C. 6103\(i\)\(2\)"):
        compile_rulebook(doc, "x.yaml")


@pytest.mark.parametrize("switch", ["off", "review", "on"])
@pytest.mark.parametrize("code", POLICY_RULES)
def test_policy_rules_stay_configurable(code: str, switch: str) -> None:
    doc = _doc()
    doc["rules"][code]["switch"] = switch
    rb = compile_rulebook(doc, "x.yaml")
    assert rb.switch(code) == switch and rb.kind(code) == "policy"
    assert rb.citation(code).startswith(("policy serving 26 U.S.C. 6103", "idempotency"))


def test_kind_label_must_match_the_law() -> None:
    doc = _doc()
    doc["rules"]["R-ADDRESS"]["kind"] = "policy"
    with pytest.raises(ConfigError, match="`R-ADDRESS`: `kind` is `statute`"):
        compile_rulebook(doc, "x.yaml")


def _config_with(root: Path, code: str, switch: str) -> Path:
    config = root / "config"
    shutil.copytree(PACKAGE_DATA, config)
    rb = config / "rulebook.yaml"
    doc = yaml.safe_load(rb.read_text())
    doc["rules"][code]["switch"] = switch
    rb.write_text(yaml.safe_dump(doc))
    return config


@pytest.mark.parametrize(("code", "switch"), [("R-ADDRESS", "off"), ("R-STATUTE", "review")])
def test_every_door_refuses_such_a_rulebook(
    world: World, tmp_path: Path, code: str, switch: str
) -> None:
    config = _config_with(tmp_path, code, switch)
    wd = world.copy_workdir(tmp_path / "work")
    doors = [
        ("process", world.batch, "--out", tmp_path / "out", "--config", config),
        (
            "check",
            world.batch,
            "--out",
            tmp_path / "c.jsonl",
            "--rulebook",
            config / "rulebook.yaml",
        ),
        ("reaudit", "--rulebook", config / "rulebook.yaml"),
    ]
    for door in doors:
        proc = taxgate(*door, "--workdir", wd, check=False)
        assert proc.returncode == 1, (door[0], proc.stderr)
        assert code in proc.stderr and "6103(i)(2)" in proc.stderr, (door[0], proc.stderr)
    assert not (tmp_path / "out" / "response.jsonl").exists()
    assert not (tmp_path / "c.jsonl").exists()


def test_policy_switch_through_process(world: World, tmp_path: Path) -> None:
    config = _config_with(tmp_path, "R-CASE", "off")
    wd = world.copy_workdir(tmp_path / "work")
    taxgate("check", world.batch, "--out", tmp_path / "c.jsonl", "--workdir", wd,
            "--rulebook", config / "rulebook.yaml")  # fmt: skip
    text = (tmp_path / "c.jsonl").read_text()
    assert "R-CASE" in text and "switched off" in text
