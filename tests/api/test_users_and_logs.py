"""Users and tokens, logins and permission changes in the audit log; no personal data in logs."""

from __future__ import annotations

import csv
import json
import logging
import time

import pytest
from sqlalchemy import select

from taxgate.audit.entry import decode_entry
from taxgate.storage import tables as m
from taxgate.storage.tables import User
from tests.api.service import Service


def _events(svc: Service, event_type: str) -> list[dict[str, object]]:
    with svc.ws.store.session() as s:
        rows = s.scalars(
            select(m.AuditEntry.entry).where(m.AuditEntry.event_type == event_type)
        ).all()
    out = []
    for data in rows:
        e = decode_entry(bytes(data))
        out.append({"user": e.user, "object": e.object, "outcome": e.outcome, **e.details})
    return out


def test_users_tokens_and_permission_changes_are_logged(service: Service) -> None:
    c = service.client
    made = c.post(
        "/v1/users", json={"name": "casey", "role": "reviewer"}, headers=service.h("admin")
    )
    assert made.status_code == 201
    token = made.json()["token"]
    with service.ws.store.session() as s:
        user = s.scalars(select(User).where(User.name == "casey")).one()
        assert token not in user.token_hash and len(user.token_hash) == 64
    me = c.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"name": "casey", "role": "reviewer", "agency": None}
    assert (
        c.post(
            "/v1/users", json={"name": "casey", "role": "auditor"}, headers=service.h("admin")
        ).status_code
        == 409
    )
    changed = c.patch("/v1/users/casey", json={"role": "auditor"}, headers=service.h("admin"))
    assert changed.json()["role"] == "auditor"
    c.patch("/v1/users/casey", json={"active": False}, headers=service.h("admin"))
    assert c.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    events = [e for e in _events(service, "permission_change") if e["object"] == "user:casey"]
    assert [e["action"] for e in events] == ["user_added", "user_changed", "user_changed"]
    assert events[1]["before"] == {"role": "reviewer", "agency": "", "active": True}
    assert events[1]["after"] == {"role": "auditor", "agency": "", "active": True}
    assert all(e["user"] == "admin-user" for e in events)
    assert token not in json.dumps(events)


def test_logins_succeed_or_fail_in_the_audit_log(service: Service) -> None:
    c = service.client
    assert c.post("/v1/session", headers=service.h("officer")).status_code == 200
    assert c.post("/v1/session", headers={"Authorization": "Bearer tg_wrong"}).status_code == 401
    web = c.post("/web/login", data={"token": service.tokens["auditor"]}, follow_redirects=False)
    assert web.status_code == 303
    logins = _events(service, "login")
    assert [(e["user"], e["outcome"]) for e in logins] == [
        ("officer-user", "success"),
        ("(unknown)", "failure"),
        ("auditor-user", "success"),
    ]
    assert "tg_wrong" not in json.dumps(logins)


def test_no_personal_data_in_any_log_line(
    service: Service, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = service.kit.batches["a1"]
    with (folder / "requests.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    personal = {
        row[k].strip()
        for row in rows
        for k in ("first_name", "last_name", "address_line1", "date_of_birth")
        if len(row.get(k, "").strip()) >= 4
    }
    assert len(personal) > 50
    c = service.client
    with caplog.at_level(logging.DEBUG):
        batch_id = c.post(
            "/v1/batches", files=service.kit.files("a1"), headers=service.h("agency")
        ).json()["batch_id"]
        service.worker().run_until_idle()
        c.get(f"/v1/batches/{batch_id}", headers=service.h("agency"))
        c.get(f"/v1/batches/{batch_id}/response", headers=service.h("agency"))
        decided = c.get(f"/v1/batches/{batch_id}/decisions", headers=service.h("officer")).json()
        for d in decided["decisions"][:10]:
            c.get(f"/v1/decisions/{d['request_id']}/why", headers=service.h("officer"))
        c.get("/v1/review", headers=service.h("reviewer"))
        service.web("officer")
        c.get(f"/web/batches/{batch_id}")
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "batches" in caplog.text  # the access log did run
    leaked = sorted(v for v in personal if v in logged)
    assert not leaked, f"{len(leaked)} personal values in the logs"


def test_adding_a_user_for_an_unknown_agency_or_a_taken_name_is_refused_in_words(
    service: Service,
) -> None:
    c, admin = service.client, service.h("admin")
    unknown = c.post(
        "/v1/users", json={"name": "p", "role": "agency", "agency": "NOPE"}, headers=admin
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("no agency `NOPE` is registered")
    assert (
        c.post("/v1/users", json={"name": "q", "role": "auditor"}, headers=admin).status_code == 201
    )
    taken = c.post("/v1/users", json={"name": "q", "role": "reviewer"}, headers=admin)
    assert taken.status_code == 409 and "already exists" in taken.json()["error"]["message"]
    with service.ws.store.session() as s:
        assert s.scalars(select(User).where(User.name == "p")).first() is None


def test_a_request_that_writes_to_the_log_signs_its_head(service: Service) -> None:
    """No entry an API request wrote stays outside a signed head (an insider could delete
    an unsigned newest entry with the log's head); a request that wrote nothing signs
    nothing."""
    from taxgate.storage.audit_log import unsigned_entries

    c, admin = service.client, service.h("admin")

    def state() -> tuple[int, int]:
        with service.ws.store.session() as s:
            return unsigned_entries(s), len(s.scalars(select(m.Checkpoint.id)).all())

    def signed_soon() -> tuple[int, int]:
        """The service's sealer signs within a fraction of a second of the write."""
        deadline = time.monotonic() + 5
        while (now := state())[0] and time.monotonic() < deadline:
            time.sleep(0.05)
        return now

    made = c.post("/v1/users", json={"name": "sealed", "role": "auditor"}, headers=admin)
    assert made.status_code == 201
    unsigned, checkpoints = signed_soon()
    assert unsigned == 0 and checkpoints >= 1
    assert c.get("/v1/me", headers=admin).status_code == 200
    time.sleep(0.5)
    assert state() == (0, checkpoints)  # a read signs nothing
    refused = c.get("/v1/users", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401  # a refused caller is logged, and signed
    assert signed_soon()[0] == 0


def test_writers_close_together_share_one_signature(service: Service) -> None:
    """Ten writes within the sealer's delay: one or two signed heads, not ten, and none
    left unsigned."""
    from taxgate.server import Sealer
    from taxgate.storage.audit_log import unsigned_entries

    sealer = Sealer(service.ws, delay=1.0)
    with service.ws.store.session() as s:
        before = len(s.scalars(select(m.Checkpoint.id)).all())
    sealer.start()
    try:
        for k in range(10):
            with service.ws.transaction() as (_, log):
                log.append("login", f"burst-{k}", {"why": "a burst of writers"})
            sealer.request()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with service.ws.store.session() as s:
                if unsigned_entries(s) == 0:
                    break
            time.sleep(0.05)
    finally:
        sealer.stop()
    with service.ws.store.session() as s:
        assert unsigned_entries(s) == 0
        made = len(s.scalars(select(m.Checkpoint.id)).all()) - before
    assert 1 <= made <= 2
