"""R-SAFEGUARDS (26 U.S.C. 6103(p)(4)): an agency whose safeguard report is out of date, or
with open findings and no corrective action plan, gets no automatic disclosure; both sides,
the age boundary, the rulebook setting, and the whole pipeline."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from taxgate import pipeline
from taxgate.config import PACKAGE_DATA
from taxgate.errors import ConfigError, NotFoundError, UsageError
from taxgate.rules import evaluate_batch, load_rulebook
from taxgate.rules.rulebook import compile_rulebook
from taxgate.rules.safeguards import SafeguardPolicy, SafeguardStatus, safeguard_problem
from taxgate.rules.statutes import load_statutes
from taxgate.services import safeguards
from taxgate.storage import tables as m
from taxgate.workspace import Workspace
from tests.conftest import World, new_batch
from tests.law.test_engagement import CTX, request

TODAY = CTX.today
POLICY = SafeguardPolicy()


def status(age_days: int, findings: int = 0, plan: bool = False) -> SafeguardStatus:
    return SafeguardStatus(TODAY - timedelta(days=age_days), findings, plan)


@pytest.mark.parametrize(
    ("st", "held"),
    [
        (status(0), False),
        (status(365), False),  # at the maximum age: in date
        (status(366), True),  # one day older: out of date
        (status(30, findings=3, plan=True), False),  # open findings with a plan
        (status(30, findings=3, plan=False), True),  # open findings, no plan
        (status(30, findings=0, plan=False), False),  # nothing open: no plan needed
        (None, False),  # unregistered, `unregistered: allow`
    ],
)
def test_safeguard_problem_both_sides(st: SafeguardStatus | None, held: bool) -> None:
    assert (safeguard_problem(st, TODAY, POLICY) is not None) == held


def test_unregistered_is_held_when_the_rulebook_says_hold() -> None:
    hold = SafeguardPolicy(unregistered="hold")
    assert "no safeguard report" in (safeguard_problem(None, TODAY, hold) or "")
    assert safeguard_problem(status(10), TODAY, hold) is None


def _batch() -> list:  # type: ignore[type-arg]
    return [request(i, case=f"HSI-2026-{i:06d}", officer="SA Dana K. Whitfield") for i in range(3)]


@pytest.mark.parametrize(
    ("action", "st", "outcome"),
    [
        ("review", status(366), "review"),
        ("refuse", status(366), "rejected"),
        ("review", status(10, findings=1), "review"),
        ("refuse", status(10, findings=1), "rejected"),
        ("review", status(365), "accepted"),
        ("refuse", status(10, findings=1, plan=True), "accepted"),
    ],
)
def test_the_rule_holds_or_refuses_the_batch(
    action: str, st: SafeguardStatus, outcome: str
) -> None:
    rb = load_rulebook()
    rb = dataclasses.replace(rb, safeguards=SafeguardPolicy(365, action, "allow"))
    ctx = dataclasses.replace(CTX, safeguards=st)
    decisions = evaluate_batch(_batch(), ctx, rb, load_statutes())
    assert {d.outcome for d in decisions} == {outcome}
    for d in decisions:
        trace = {t.code: t for t in d.trace}
        assert trace["R-SAFEGUARDS"].passed == (outcome == "accepted")
        if outcome != "accepted":
            assert [(r.code, r.citation) for r in d.reasons] == [
                ("R-SAFEGUARDS", rb.citation("R-SAFEGUARDS"))
            ]
            assert "6103(p)(4)" in r.citation if (r := d.reasons[0]) else False


def test_a_failing_status_with_another_failure_still_refuses() -> None:
    rb = load_rulebook()
    ctx = dataclasses.replace(CTX, safeguards=status(400))
    bad = dataclasses.replace(_batch()[0], statute="8 U.S.C. 1325(b)")
    (d,) = evaluate_batch([bad], ctx, rb, load_statutes())
    assert d.outcome == "rejected"
    assert sorted(r.code for r in d.reasons) == ["R-SAFEGUARDS", "R-STATUTE"]


def _doc() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((PACKAGE_DATA / "rulebook.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        ({"action": "off"}, "`safeguards.action` must be one of review, refuse"),
        ({"action": "accept"}, "cannot be switched off"),
        ({"max_report_age_days": 0}, "`safeguards.max_report_age_days`"),
        ({"max_report_age_days": "a year"}, "`safeguards.max_report_age_days`"),
        ({"unregistered": "ignore"}, "`safeguards.unregistered`"),
        ({"switch": "off"}, "unknown key `safeguards.switch`"),
    ],
)
def test_the_setting_cannot_switch_the_clause_off(section: dict, needle: str) -> None:  # type: ignore[type-arg]
    doc = _doc()
    doc["safeguards"] = {**doc["safeguards"], **section}
    with pytest.raises(ConfigError) as err:
        compile_rulebook(doc, "r.yaml")
    assert any(needle in p for p in err.value.problems), err.value.problems


def test_the_shipped_setting_and_an_older_rulebook() -> None:
    rb = load_rulebook()
    assert rb.safeguards == SafeguardPolicy(365, "review", "allow")
    assert rb.switch("R-SAFEGUARDS") == "review"
    doc = _doc()
    del doc["safeguards"]
    assert compile_rulebook(doc, "r.yaml").safeguards == SafeguardPolicy()


def test_report_date_is_checked() -> None:
    assert safeguards.parse_report_date("2026-01-31", TODAY) == date(2026, 1, 31)
    for bad in ("31/01/2026", "", "2026-02-30"):
        with pytest.raises(UsageError):
            safeguards.parse_report_date(bad, TODAY)
    with pytest.raises(UsageError, match="future"):
        safeguards.parse_report_date((TODAY + timedelta(days=1)).isoformat(), TODAY)


def test_registration_is_stored_and_logged_and_holds_disclosures(
    world: World, tmp_path: Path
) -> None:
    wd = world.copy_workdir(tmp_path / "work")
    agency = json.loads((world.batch / "manifest.json").read_text("utf-8"))["agency"]
    ws = Workspace.open(wd, user="clerk")
    try:
        with pytest.raises(NotFoundError):
            safeguards.register(ws, "NO-SUCH", TODAY, 0, False)
        old = date.today() - timedelta(days=ws.rulebook.safeguards.max_report_age_days + 1)
        assert safeguards.register(ws, agency, old, 2, False) is True
        assert safeguards.register(ws, agency, old, 0, False) is False  # replaced
        [line] = safeguards.listing(ws)
        assert (line.agency, line.last_report, line.open_findings) == (agency, old.isoformat(), 0)
        with ws.transaction() as (s, _):
            entries = [
                json.loads(e.entry)
                for e in s.query(m.AuditEntry).filter(m.AuditEntry.event_type == "safeguard_status")
            ]
        assert [e["details"]["open_findings"] for e in entries] == [2, 0]
        batch = new_batch(world, tmp_path, seed=31, requests=120, workdir=wd)
        outcome = pipeline.process(ws, batch, tmp_path / "out")
        statuses = Counter(d["status"] for d in outcome.decisions)
        assert statuses["DISCLOSED"] == 0 and statuses["PENDING_REVIEW"] > 0
        held = [d for d in outcome.decisions if d["status"] == "PENDING_REVIEW"]
        assert all("R-SAFEGUARDS" in {r["code"] for r in d["reasons"]} for d in held)
        # an up-to-date report: the next batch discloses again
        safeguards.register(ws, agency, date.today(), 0, False)
        batch2 = new_batch(world, tmp_path / "second", seed=32, requests=120, workdir=wd)
        outcome2 = pipeline.process(ws, batch2, tmp_path / "out2")
        assert Counter(d["status"] for d in outcome2.decisions)["DISCLOSED"] > 0
    finally:
        ws.close()


def test_the_commands_register_list_and_refuse_bad_input(tmp_path: Path) -> None:
    from tests.conftest import taxgate

    wd = ("--workdir", tmp_path / "w")
    taxgate("keygen", "--out", tmp_path / "k", *wd)
    taxgate("agencies", "add", "DHS-ICE", "--official", "Morgan Vance", "--title", "Director",
            "--authority", "agency-head", "--public-key", f"{tmp_path / 'k'}.pub", *wd)  # fmt: skip
    ok = ["--report-date", "2026-03-31", "--open-findings", "2", "--corrective-plan"]

    def args(date: str, findings: str) -> list[str]:
        return ["DHS-ICE", "--report-date", date, "--open-findings", findings,
                "--corrective-plan", "no"]  # fmt: skip

    for bad in (
        ["DHS-ICE", *ok, "maybe"],
        args("31/03/2026", "0"),
        args("2999-01-01", "0"),
        args("2026-03-31", "-1"),
    ):  # fmt: skip
        proc = taxgate("agencies", "safeguards", *bad, *wd, check=False)
        assert proc.returncode == 2, (bad, proc.stderr)
    unknown = taxgate("agencies", "safeguards", "NO-SUCH", *ok, "no", *wd, check=False)
    assert unknown.returncode != 0
    assert "DHS-ICE" not in taxgate("agencies", "status", *wd).stdout  # nothing stored
    taxgate("agencies", "safeguards", "DHS-ICE", *ok, "no", *wd)
    listed = taxgate("agencies", "status", *wd).stdout
    assert "DHS-ICE" in listed and "2026-03-31" in listed
