"""Who may ask (26 U.S.C. 6103(i)(2)(A)): registration by statutory authority, R-REQUESTER."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from taxgate.config import PACKAGE_DATA
from taxgate.errors import ConfigError
from taxgate.rules import compile_rulebook, load_rulebook
from taxgate.rules.authority import AUTHORITIES, JUSTICE_ONLY
from tests.conftest import World, taxgate


def _doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PACKAGE_DATA / "rulebook.yaml").read_text())
    return loaded


@pytest.mark.parametrize("authority", AUTHORITIES)
def test_every_authority_may_request_for_justice(authority: str) -> None:
    assert load_rulebook().requester_problem(authority, "DOJ") is None


@pytest.mark.parametrize("authority", JUSTICE_ONLY)
def test_justice_only_authorities_refused_elsewhere(authority: str) -> None:
    problem = load_rulebook().requester_problem(authority, "DHS-ICE")
    assert problem is not None and "Department of Justice" in problem


@pytest.mark.parametrize("authority", ["", "deputy-assistant-director", "Agency-Head", "head"])
def test_no_other_authority(authority: str) -> None:
    assert load_rulebook().requester_problem(authority, "DOJ") is not None


def test_rulebook_cannot_widen_the_list() -> None:
    doc = _doc()
    doc["requesters"]["authorities"].append("deputy-assistant-director")
    with pytest.raises(ConfigError, match="deputy-assistant-director"):
        compile_rulebook(doc, "x.yaml")


def test_rulebook_may_narrow_the_list() -> None:
    doc = copy.deepcopy(_doc())
    doc["requesters"]["authorities"] = ["agency-head"]
    rb = compile_rulebook(doc, "x.yaml")
    assert rb.requester_problem("agency-head", "DHS-ICE") is None
    assert rb.requester_problem("inspector-general", "DHS-ICE") is not None


def _officials(wd: Path) -> str:
    return taxgate("agencies", "list", "--workdir", wd, env={"COLUMNS": "200"}).stdout


@pytest.mark.parametrize(
    ("agency", "extra"),
    [
        ("DHS-ICE", []),  # no --authority
        ("DHS-ICE", ["--authority", "deputy-assistant-director"]),
        ("DHS-ICE", ["--authority", ""]),
        ("DHS-ICE", ["--authority", "deputy agency head"]),  # folding guesses no office
        ("DHS-ICE", ["--authority", "agency-head-delegate"]),
        ("DHS-ICE", ["--authority", "us-attorney"]),  # Justice-only, not Justice
        ("TREAS", ["--authority", "fbi-director"]),
    ],
)
def test_registration_refused_nothing_stored(tmp_path: Path, agency: str, extra: list[str]) -> None:
    wd = tmp_path / "w"
    taxgate("keygen", "--out", tmp_path / "k", "--workdir", wd)
    proc = taxgate(
        "agencies",
        "add",
        agency,
        "--official",
        "Quinn Example",
        "--title",
        "Deputy Assistant Director",
        *extra,
        "--public-key",
        tmp_path / "k.pub",
        "--workdir",
        wd,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Quinn" not in _officials(wd)


@pytest.mark.parametrize(
    ("agency", "written", "authority"),
    [
        ("DHS-ICE", "agency-head", "agency-head"),
        ("DHS-OIG", "inspector-general", "inspector-general"),
        ("DOJ", "us-attorney", "us-attorney"),
        # a clerk's spelling of the same office: case, spaces and underscores fold
        ("DHS-OIG", "Inspector General", "inspector-general"),
        ("DOJ", " US_ATTORNEY ", "us-attorney"),
    ],
)
def test_registration_with_statutory_authority(
    tmp_path: Path, agency: str, written: str, authority: str
) -> None:
    wd = tmp_path / "w"
    taxgate("keygen", "--out", tmp_path / "k", "--workdir", wd)
    taxgate(
        "agencies",
        "add",
        agency,
        "--official",
        "Quinn Example",
        "--title",
        "Director",
        "--authority",
        written,
        "--public-key",
        tmp_path / "k.pub",
        "--workdir",
        wd,
    )
    listing = _officials(wd)
    assert "Quinn" in listing and authority in listing
    export = tmp_path / "log.json"
    taxgate("audit", "export", export, "--workdir", wd)
    doc = json.loads(export.read_text())
    entries = [json.loads(base64.b64decode(e)) for e in doc["entries"]]
    registered = [
        e for e in entries if e["event_type"] == "key_registered" and e["object"] == agency
    ]
    assert [e["details"]["authority"] for e in registered] == [authority], registered
    agencies = [e for e in entries if e["event_type"] == "agency_registered"]
    assert [(e["object"], e["details"]) for e in agencies] == [(agency, {"kind": "federal"})]


def test_authority_in_trace_and_accounting(world: World) -> None:
    lines = [json.loads(x) for x in (world.out / "decisions.jsonl").read_text().splitlines()]
    details = {t["detail"] for d in lines for t in d.get("trace", []) if t["code"] == "R-REQUESTER"}
    assert details == {"authority: agency-head"}
    disclosed = [d["request_id"] for d in lines if d["status"] == "DISCLOSED"]
    assert disclosed
    proc = taxgate("disclosures", "--request", disclosed[0], "--workdir", world.workdir)
    assert "agency-head" in proc.stdout
