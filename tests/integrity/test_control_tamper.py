"""The insider with database access, against the control state (issue 16's hostile review):
the tables that decide without being decisions (held-back taxpayers, officials and their
keys and authorities, agencies' safeguard status, the privacy budget's spends) are what
the log says they are. Each edit below went unnoticed before (``audit verify`` passed, and
the edit changed what taxgate did: a deleted holdback let an informant's data go out, a
deleted spend let a year's budget be spent again). Now verification names the table, and
the work that would rely on it stops, on both stores.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from taxgate import pipeline
from taxgate.audit.checkpoint import parse_checkpoint, sign_checkpoint
from taxgate.audit.control_head import CONTROL_EVENTS, ControlHead, signed_head
from taxgate.errors import AuditError
from taxgate.intake.signing import key_id, raw_public
from taxgate.services import holdback as holdbacks
from taxgate.services import safeguards
from taxgate.services.audit import checkpoint
from taxgate.services.officials import revoke_official
from taxgate.storage import tables as m
from taxgate.storage.audit_log import KEY_NAME, ORIGIN, verify_log
from taxgate.storage.control import control_log_problems, control_problems
from taxgate.transparency import release
from taxgate.workspace import Workspace
from tests.integrity.conftest import Site


def _sql(ws: Workspace, change: Callable[[Session], object]) -> None:
    """A change made straight in the database: nothing logged."""
    with ws.store.session() as s:
        change(s)


def _verify_fails(ws: Workspace, part: str) -> str:
    with ws.transaction() as (s, _), pytest.raises(AuditError) as caught:
        verify_log(s, ws.agency_key().public_key())
    assert f"{part}:" in str(caught.value)
    return str(caught.value)


def _verifies(ws: Workspace) -> None:
    with ws.transaction() as (s, _):
        verify_log(s, ws.agency_key().public_key())


def _a_disclosed_tin(site: Site) -> str:
    out = site.root / "first"
    site.process(site.world.batch, out)
    disclosed = [d for d in site.decisions(out) if d["status"] == "DISCLOSED"]
    assert disclosed
    with site.ws().transaction() as (s, _):
        tin = s.scalar(
            select(m.Disclosure.tin).where(m.Disclosure.request_id == disclosed[0]["request_id"])
        )
    assert tin
    return str(tin)


def _again(site: Site) -> Path:
    """The first batch's requests under a new batch id and new request ids, signed."""
    rows = site.world.batch / "requests.csv"
    again = site.root / "again"
    again.mkdir()
    manifest = json.loads((site.world.batch / "manifest.json").read_text())
    manifest["batch_id"] += "-again"
    (again / "manifest.json").write_text(json.dumps(manifest))
    (again / "requests.csv").write_bytes(rows.read_bytes().replace(b'"SYN', b'"AGAIN-SYN'))
    from tests.integrity.conftest import sign_folder

    sign_folder(again, site.world.key)
    return again


def test_a_deleted_holdback_is_caught_and_stops_the_next_batch(site: Site) -> None:
    ws = site.ws()
    tin = _a_disclosed_tin(site)
    holdbacks.add(ws, tin, "informant")
    _verifies(ws)
    _sql(ws, lambda s: s.execute(delete(m.Holdback)))
    text = _verify_fails(ws, "holdbacks")
    assert tin not in text  # nothing personal in the finding
    # the same taxpayer asked for again under a new batch: stopped before any decision
    with pytest.raises(AuditError, match="holdbacks"):
        pipeline.process(ws, _again(site), site.root / "out-again")
    assert not (site.root / "out-again" / "response.jsonl").exists()


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("reason edited",
         lambda s: s.execute(update(m.Holdback).values(reason="tax-investigation"))),
        ("row slipped in", lambda s: s.add(m.Holdback(tin="123456789", reason="informant",
                                                       added_at="2026-01-01T00:00:00Z",
                                                       added_by="insider"))),
    ],
)  # fmt: skip
def test_holdback_edits_are_caught(site: Site, what: str, change: Callable[..., object]) -> None:
    ws = site.ws()
    holdbacks.add(ws, "900000123", "informant")
    _sql(ws, change)
    _verify_fails(ws, "holdbacks")


def _other_key() -> tuple[str, str]:
    pub = Ed25519PrivateKey.generate().public_key()
    import base64

    return base64.b64encode(raw_public(pub)).decode(), key_id(pub)


@pytest.mark.parametrize(
    "edit",
    ["authority", "key", "reactivated", "deleted", "slipped in"],
)
def test_official_edits_are_caught_and_stop_intake(site: Site, edit: str) -> None:
    ws = site.ws()
    agency = site.agency_a
    if edit == "reactivated":
        revoke_official(ws, agency, _official_name(site))
        _verifies(ws)  # a logged revocation is the control state
    public, kid = _other_key()
    changes: dict[str, Callable[[Session], object]] = {
        "authority": lambda s: s.execute(
            update(m.Official).where(m.Official.agency_code == agency)
            .values(authority="fbi-director")
        ),
        "key": lambda s: s.execute(
            update(m.Official).where(m.Official.agency_code == agency)
            .values(public_key=public, key_id=kid)
        ),
        "reactivated": lambda s: s.execute(update(m.Official).values(active=True)),
        "deleted": lambda s: s.execute(delete(m.Official).where(m.Official.agency_code == agency)),
        "slipped in": lambda s: s.add(m.Official(
            agency_code=agency, name="Insider", title="Director", authority="agency-head",
            public_key=public, key_id=kid, active=True, created_at="2026-01-01T00:00:00Z",
        )),
    }  # fmt: skip
    _sql(ws, changes[edit])
    _verify_fails(ws, "officials")
    with pytest.raises(AuditError, match="officials"):
        pipeline.process(ws, site.world.batch, site.root / "out")


def _official_name(site: Site) -> str:
    return str(json.loads((site.world.batch / "manifest.json").read_text())["official"]["name"])


def test_safeguard_edits_are_caught(site: Site) -> None:
    ws = site.ws()
    safeguards.register(ws, site.agency_a, date(2026, 6, 1), 3, False)
    _verifies(ws)
    _sql(ws, lambda s: s.execute(update(m.Safeguard).values(open_findings=0, corrective_plan=True)))
    _verify_fails(ws, "safeguards")
    with pytest.raises(AuditError, match="safeguards"):
        pipeline.process(ws, site.world.batch, site.root / "out")
    _sql(ws, lambda s: s.execute(delete(m.Safeguard)))
    _verify_fails(ws, "safeguards")


def test_a_deleted_spend_does_not_give_the_budget_back(site: Site, tmp_path: Path) -> None:
    ws = site.ws()
    release(ws, 2026, 0.6, tmp_path / "a.json")
    release(ws, 2026, 0.4, tmp_path / "b.json")
    _verifies(ws)
    _sql(ws, lambda s: s.execute(delete(m.PrivacySpend)))
    _verify_fails(ws, "privacy_spend")
    with pytest.raises(AuditError, match="privacy_spend"):
        release(ws, 2026, 0.5, tmp_path / "c.json")
    assert not (tmp_path / "c.json").exists()


def test_logged_changes_keep_the_control_state_verified(site: Site, tmp_path: Path) -> None:
    ws = site.ws()
    holdbacks.add(ws, "900000123", "informant")
    holdbacks.add(ws, "900000123", "tax-investigation")  # the reason updated, logged
    holdbacks.add(ws, " 900000124 ", "informant")
    holdbacks.remove(ws, " 900000124")  # spaces are not another TIN
    safeguards.register(ws, site.agency_a, date(2026, 6, 1), 0, True)
    release(ws, 2026, 0.5, tmp_path / "r.json")
    revoke_official(ws, site.agency_a, _official_name(site))
    with ws.transaction() as (s, _):
        assert control_problems(s) == []
    _verifies(ws)


@pytest.mark.parametrize("edit", ["role raised", "reactivated", "token swapped", "slipped in"])
def test_user_edits_are_caught(site: Site, edit: str) -> None:
    from taxgate.services import user_admin
    from taxgate.services.users import hash_token

    ws = site.ws()
    user_admin.create(ws, "clerk", "auditor", None)
    user_admin.create(ws, "gone", "reviewer", None)
    user_admin.disable(ws, "gone")
    user_admin.rotate(ws, "clerk")
    _verifies(ws)
    changes: dict[str, Callable[[Session], object]] = {
        "role raised": lambda s: s.execute(
            update(m.User).where(m.User.name == "clerk").values(role="reviewer")
        ),
        "reactivated": lambda s: s.execute(
            update(m.User).where(m.User.name == "gone").values(active=True)
        ),
        "token swapped": lambda s: s.execute(
            update(m.User).where(m.User.name == "clerk")
            .values(token_hash=hash_token("tg_known-to-the-insider"))
        ),
        "slipped in": lambda s: s.add(m.User(
            name="insider", role="admin", agency_code=None, token_hash=hash_token("tg_x"),
            active=True, created_at="2026-01-01T00:00:00Z",
        )),
    }  # fmt: skip
    _sql(ws, changes[edit])
    _verify_fails(ws, "users")


#: When the log was last signed before the insider's edit: never since the holdback (its
#: entry unsigned), right after it, or right after it with that checkpoint and every later
#: one deleted (so the latest left predates the holdback).
SIGNED = ("unsigned", "signed", "checkpoints deleted")


def _hide_holdback(site: Site, signed: str = "unsigned") -> Workspace:
    """A holdback added, then the insider deletes its row and relabels its log entry's
    event-type column as a decision (the control checks look entries up by that column)."""
    ws = site.ws()
    tin = _a_disclosed_tin(site)
    with ws.transaction() as (s, _):
        before = int(s.scalar(select(func.max(m.Checkpoint.id))) or 0)
    holdbacks.add(ws, tin, "informant")
    if signed != "unsigned":
        checkpoint(ws)
    _verifies(ws)

    def hide(s: Session) -> None:
        s.execute(delete(m.Holdback))
        s.execute(
            update(m.AuditEntry)
            .where(m.AuditEntry.event_type == "holdback_added")
            .values(event_type="decision")
        )
        if signed == "checkpoints deleted":
            s.execute(delete(m.Checkpoint).where(m.Checkpoint.id > before))

    _sql(ws, hide)
    return ws


def test_a_holdback_hidden_by_relabelling_its_entry_fails_verify(site: Site) -> None:
    """The signed bytes still say `holdback_added`: verify names the entry."""
    ws = _hide_holdback(site)
    with ws.transaction() as (s, _), pytest.raises(AuditError) as caught:
        verify_log(s, ws.agency_key().public_key())
    assert "disagree with its signed bytes" in str(caught.value)


@pytest.mark.parametrize("signed", SIGNED)
def test_a_holdback_hidden_by_relabelling_its_entry_stops_the_next_batch(
    site: Site, signed: str
) -> None:
    """The batch signs the log first, counting control entries by their bytes; its control
    checks then hold the entries found by type to that count."""
    ws = _hide_holdback(site, signed)
    with pytest.raises(AuditError) as caught:
        pipeline.process(ws, _again(site), site.root / "out-again")
    assert "control entries below entry" in str(caught.value)
    assert not (site.root / "out-again" / "decisions.jsonl").exists()


def test_the_count_of_control_entries_is_signed(site: Site) -> None:
    """Each checkpoint counts the control entries below it; the check reads the signed
    count, not the store's text (an insider who rewrites the line breaks the signature)."""
    ws = _hide_holdback(site, "signed")
    with ws.transaction() as (s, _):
        last = s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id.desc())).first()
        assert last is not None
        text = last.text
    head = signed_head(parse_checkpoint(text).extensions)
    assert head is not None and head.count >= 2  # the agency's key and the holdback at least
    one_less = text.replace(head.line(), ControlHead(head.count - 1, head.chain).line())
    _sql(ws, lambda s: s.execute(update(m.Checkpoint).where(m.Checkpoint.id == last.id)
                                 .values(text=one_less)))  # fmt: skip
    with ws.transaction() as (s, _):
        problems = control_log_problems(s, ws.agency_public_key())
    assert problems and "does not verify" in problems[0]


def test_a_decision_relabelled_as_control_is_caught(site: Site) -> None:
    """The other way round: an entry made to look like a control event by its column."""
    ws = site.ws()
    _a_disclosed_tin(site)
    checkpoint(ws)
    with ws.transaction() as (s, _):
        assert control_log_problems(s, ws.agency_public_key()) == []
    with ws.transaction() as (s, _):
        idx = s.scalar(select(func.max(m.AuditEntry.idx)).where(m.of_events("decision")))
    _sql(ws, lambda s: s.execute(
        update(m.AuditEntry).where(m.AuditEntry.idx == idx).values(event_type="holdback_removed")
    ))  # fmt: skip
    with ws.transaction() as (s, _):
        problems = control_log_problems(s, ws.agency_public_key())
    assert problems == [f"entry {idx}: its event-type column is not what its bytes say"]


def test_a_log_signed_before_control_counts_is_counted_at_the_next_signing(site: Site) -> None:
    """A store whose checkpoints predate the count: nothing to compare (no false alarm), and
    the next signing counts its control entries from their bytes."""
    ws = site.ws()
    tin = _a_disclosed_tin(site)
    holdbacks.add(ws, tin, "informant")
    checkpoint(ws)
    key = ws.agency_key()
    with ws.transaction() as (s, _):  # every checkpoint re-signed as an older taxgate did
        for cp in s.scalars(select(m.Checkpoint)):
            parsed = parse_checkpoint(cp.text)
            cp.text = sign_checkpoint(ORIGIN, parsed.size, parsed.root, parsed.time, key, KEY_NAME)
    with ws.transaction() as (s, _):
        assert control_log_problems(s, ws.agency_public_key()) == []
    holdbacks.remove(ws, tin)
    checkpoint(ws)
    with ws.transaction() as (s, _):
        assert control_log_problems(s, ws.agency_public_key()) == []
        last = s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id.desc())).first()
        assert last is not None
        head = signed_head(parse_checkpoint(last.text).extensions)
        kinds = list(s.scalars(select(m.AuditEntry.event_type).where(
            m.AuditEntry.event_type.in_(CONTROL_EVENTS))))  # fmt: skip
    assert head is not None and head.count == len(kinds) >= 3


def test_a_signed_log_without_its_key_is_a_problem(site: Site) -> None:
    ws = site.ws()
    checkpoint(ws)
    ws.paths.agency_key.unlink()
    with ws.transaction() as (s, _):
        assert control_log_problems(s, ws.agency_public_key()) == [
            "the log has signed checkpoints but the agency's signing key is gone"
        ]


def test_verify_holds_every_checkpoint_to_its_count_of_control_entries(site: Site) -> None:
    """A checkpoint whose count is wrong (signed by the agency's own key: a fault, or the
    key's holder) is named by `audit verify`; the honest ones verify."""
    ws = site.ws()
    tin = _a_disclosed_tin(site)
    holdbacks.add(ws, tin, "informant")
    checkpoint(ws)
    _verifies(ws)
    key = ws.agency_key()
    with ws.transaction() as (s, _):
        last = s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id.desc())).first()
        assert last is not None
        parsed = parse_checkpoint(last.text)
        head = signed_head(parsed.extensions)
        assert head is not None
        wrong = ControlHead(head.count - 1, head.chain).line()
        last.text = sign_checkpoint(
            ORIGIN, parsed.size, parsed.root, parsed.time, key, KEY_NAME, (wrong,)
        )
        last_id = last.id
    with ws.transaction() as (s, _), pytest.raises(AuditError) as caught:
        verify_log(s, key.public_key())
    assert f"checkpoint {last_id}: it counts {head.count - 1} control entries" in str(caught.value)


#: Texts that look like a control event's mark, put where an entry's details go: inside a
#: text their quotes are escaped in the entry's bytes; as a key of the details the mark is
#: there in the bytes, before the entry's own event type.
_LOOKALIKES = (
    ',"event_type":"holdback_added"',
    '","event_type":"key_registered"',
    '\\",\\"event_type\\":\\"safeguard_status\\"',
)


def test_the_signed_count_is_every_control_entry_and_nothing_else(site: Site) -> None:
    """The count a checkpoint signs is the count of entries whose bytes record a control
    event, whatever other entries' details hold (the marks of control events, as text or
    as keys), read entry by entry as a reference."""
    from taxgate.audit.control_head import event_type_of
    from taxgate.audit.rfc9162 import leaf_hash

    ws = site.ws()
    with ws.transaction() as (_, log):
        for i, text in enumerate(_LOOKALIKES):
            log.append("review_note", f"r-{i}", {"note": text})
            log.append("review_note", f"k-{i}", {"a": 1, "event_type": sorted(CONTROL_EVENTS)[i]})
    checkpoint(ws)
    with ws.transaction() as (s, _):
        text = s.scalars(select(m.Checkpoint.text).order_by(m.Checkpoint.id.desc())).first()
        entries = [
            bytes(e) for e in s.scalars(select(m.AuditEntry.entry).order_by(m.AuditEntry.idx))
        ]
    assert text is not None
    head = signed_head(parse_checkpoint(text).extensions)
    control = [
        (i, leaf_hash(e)) for i, e in enumerate(entries) if event_type_of(e) in CONTROL_EVENTS
    ]
    assert head == ControlHead().extended(control)
    assert head.count == len(control) >= 2  # the agency's key and its official at least
