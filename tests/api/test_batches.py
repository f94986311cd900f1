"""Submitting batches: signature first, idempotent, processed by the worker, on both stores."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select

from taxgate.audit.content import REQUEST_COLUMNS
from taxgate.decision import from_body, to_body
from taxgate.disclosure.response import verify_lines
from taxgate.errors import InputError
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.record import decision_values, log_decision
from taxgate.storage.tables import Job
from tests.api.service import Service


def _count(svc: Service, model: object) -> int:
    with svc.ws.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


def test_submit_is_idempotent_and_conflicts_on_other_content(service: Service) -> None:
    first = service.submit("a1")
    assert first.status_code == 202, first.text
    body = first.json()
    batch_id = service.kit.manifest("a1")["batch_id"]
    assert body["batch_id"] == batch_id and body["state"] == "queued"
    assert body["requests"] == 60

    again = service.submit("a1")
    assert again.status_code == 200
    assert again.json()["batch_id"] == batch_id
    assert _count(service, Job) == 1

    # the same batch id over other requests, properly signed: a conflict
    files = service.kit.files("a2")
    manifest = service.kit.manifest("a2")
    manifest["batch_id"] = batch_id
    from taxgate.intake.signing import load_private_key, sign_manifest

    resigned = sign_manifest(manifest, files["requests"][1], load_private_key(service.kit.key))
    files["manifest"] = ("manifest.json", json.dumps(resigned).encode(), "application/json")
    clash = service.client.post("/v1/batches", files=files, headers=service.h("agency"))
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "conflict"
    assert _count(service, Job) == 1


def test_signature_is_checked_before_anything_is_stored(service: Service) -> None:
    files = service.kit.files("a1")
    name, data, ctype = files["requests"]
    files["requests"] = (name, data.replace(b"\n", b"\r\n", 1), ctype)  # one byte changed
    r = service.client.post("/v1/batches", files=files, headers=service.h("agency"))
    assert r.status_code == 422
    assert "R-SIGNATURE" in r.json()["error"]["message"]
    assert "/tmp" not in r.json()["error"]["message"]
    assert _count(service, Job) == 0
    assert _count(service, m.Batch) == 0
    assert _count(service, m.RequestRow) == 0


def test_agency_submits_for_itself_only(service: Service) -> None:
    r = service.submit("b1")  # signed for the other agency, sent with this agency's token
    assert r.status_code == 403
    assert _count(service, Job) == 0


def test_worker_processes_batch_with_progress_and_response(service: Service) -> None:
    batch_id = service.submit("a1").json()["batch_id"]
    assert service.worker().run_until_idle() == [batch_id]
    st = service.client.get(f"/v1/batches/{batch_id}", headers=service.h("agency")).json()
    assert st["state"] == "done"
    assert st["progress"]["done"] == st["progress"]["total"] == 60
    assert sum(st["decisions"].values()) == 60
    resp = service.client.get(f"/v1/batches/{batch_id}/response", headers=service.h("agency"))
    assert resp.status_code == 200
    lines = resp.json()["lines"]
    assert len(lines) == st["decisions"].get("DISCLOSED", 0)
    _check_signed_response(service, resp.json())
    decided = service.client.get(
        f"/v1/batches/{batch_id}/decisions", headers=service.h("agency")
    ).json()["decisions"]
    disclosed = {d["request_id"] for d in decided if d["status"] == "DISCLOSED"}
    assert {line["request_id"] for line in lines} == disclosed
    assert all("trace" not in d and "match" not in d for d in decided)  # agency view
    # the job no longer keeps the requests file: the store's request rows hold them
    with service.ws.store.session() as s:
        job = s.get(Job, batch_id)
        assert job is not None and job.requests is None
    # submitting the processed batch again returns it, decided once
    again = service.submit("a1")
    assert again.status_code == 200 and again.json()["state"] == "done"
    assert _count(service, m.Decision) == 60


def test_queued_batch_has_no_response_yet(sqlite_service: Service) -> None:
    batch_id = sqlite_service.submit("a1").json()["batch_id"]
    r = sqlite_service.client.get(
        f"/v1/batches/{batch_id}/response", headers=sqlite_service.h("agency")
    )
    assert r.status_code == 409


def test_review_actions_through_the_api(sqlite_service: Service) -> None:
    svc = sqlite_service
    batch_id = svc.submit("a1").json()["batch_id"]
    svc.worker().run_until_idle()
    with svc.ws.store.session() as s:
        decided = {
            status: s.scalars(
                select(m.Decision.request_id).where(
                    m.Decision.batch_id == batch_id, m.Decision.status == status
                )
            ).first()
            for status in ("REJECTED", "DISCLOSED")
        }
    not_pending, rid = decided["REJECTED"], decided["DISCLOSED"]
    assert not_pending and rid
    _hold_for_review(svc, rid, candidate=True)  # a request the matcher sent to a person
    c = svc.client
    queue = c.get("/v1/review", headers=svc.h("reviewer")).json()
    assert [p["request_id"] for p in queue["pending"]] == [rid]
    act = {"action": "approve", "note": "checked the case file"}
    assert c.post("/v1/review/nope", json=act, headers=svc.h("reviewer")).status_code == 404
    r = c.post(f"/v1/review/{not_pending}", json=act, headers=svc.h("reviewer"))
    assert r.status_code == 409 and "not pending" in r.json()["error"]["message"], r.text
    # the service processed the batch: a reviewer with its name may not approve (two people)
    made = c.post(
        "/v1/users", json={"name": "taxgate-service", "role": "reviewer"}, headers=svc.h("admin")
    ).json()
    same = c.post(
        f"/v1/review/{rid}", json=act, headers={"Authorization": f"Bearer {made['token']}"}
    )
    assert same.status_code == 403 and "another person" in same.json()["error"]["message"]
    refused = c.post(
        f"/v1/review/{rid}", json={"action": "refuse", "note": "no"}, headers=svc.h("reviewer")
    )
    assert refused.status_code == 200 and refused.json()["status"] == "WITHHELD"
    assert c.get("/v1/review", headers=svc.h("reviewer")).json()["count"] == 0
    why = c.get(f"/v1/decisions/{rid}/why", headers=svc.h("auditor")).json()
    # an auditor sees who reviewed and how, not the note (its length only)
    assert why["review"] == {"action": "refuse", "user": "reviewer-user", "note_chars": 2}


def _hold_for_review(svc: Service, request_id: str, *, candidate: bool) -> dict[str, Any]:
    """Turn a stored MATCH decision into the one the matcher makes for REVIEW (same request,
    same candidate), decided and logged as such, its disclosure taken back: what a reviewer
    finds in the queue."""
    with svc.ws.transaction() as (s, log):
        d = repo.find_decision(s, request_id)
        was = dict(d.body)
        fd = from_body(d.body, candidate=d.matched_tin)
        assert fd.match is not None
        held = replace(
            fd,
            status="PENDING_REVIEW",
            match=replace(fd.match, verdict="REVIEW"),
            reasons=(),
            disclosed={},
            withheld=(),
        )
        tin = d.matched_tin if candidate else ""
        body = to_body(held)
        row = decision_values(body, d.batch_id, d.agency_code, tin, d.decided_at, d.runner_up_tin)
        req = s.get(m.RequestRow, (d.agency_code, d.request_id))
        assert req is not None
        idx = log_decision(log, row, {c: getattr(req, c) for c in REQUEST_COLUMNS})
        body["audit_index"] = idx
        d.body, d.status, d.matched_tin, d.audit_index = body, "PENDING_REVIEW", tin, idx
        s.execute(delete(m.Disclosure).where(m.Disclosure.request_id == request_id))
    return was


def test_approving_a_match_held_for_review(service: Service) -> None:
    """On each store: the queue shows the candidate, approval discloses the candidate's
    permitted fields under its TIN, and an approval with no candidate is refused."""
    svc = service
    batch_id = svc.submit("a1").json()["batch_id"]
    svc.worker().run_until_idle()
    with svc.ws.store.session() as s:
        matched = s.execute(
            select(m.Decision.request_id, m.Decision.matched_tin).where(
                m.Decision.batch_id == batch_id, m.Decision.status == "DISCLOSED"
            )
        ).all()
    assert len(matched) >= 2
    (rid, tin), (orphan, _) = matched[0], matched[1]
    was = _hold_for_review(svc, rid, candidate=True)
    _hold_for_review(svc, orphan, candidate=False)
    c = svc.client
    queue = {
        p["request_id"]: p for p in c.get("/v1/review", headers=svc.h("reviewer")).json()["pending"]
    }
    assert queue[rid]["candidate"] == tin and queue[orphan]["candidate"] == ""
    officer_view = c.get("/v1/review", headers=svc.h("officer")).json()["pending"]
    assert all("candidate" not in p for p in officer_view)
    act = {"action": "approve", "note": "the address is the taxpayer's"}
    refused = c.post(f"/v1/review/{orphan}", json=act, headers=svc.h("reviewer"))
    assert refused.status_code == 409 and "no candidate" in refused.json()["error"]["message"]
    assert c.get(f"/v1/decisions/{orphan}", headers=svc.h("auditor")).json()["status"] == (
        "PENDING_REVIEW"
    )
    ok = c.post(f"/v1/review/{rid}", json=act, headers=svc.h("reviewer"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "DISCLOSED"
    assert ok.json()["disclosed_fields"] == was["disclosed_fields"]
    with svc.ws.store.session() as s:
        rows = s.scalars(select(m.Disclosure).where(m.Disclosure.request_id == rid)).all()
        assert [(r.tin, r.fields) for r in rows] == [(tin, was["disclosed_fields"])]
        assert all(v not in (None, {}) for v in rows[0].payload["fields"].values())


def _check_signed_response(service: Service, got: dict[str, Any]) -> None:
    """The response's manifest verifies under the tax agency's key, and tampering does not."""
    public = service.ws.agency_key().public_key()
    manifest, lines = got["manifest"], got["lines"]
    assert lines, "the batch disclosed something to check"
    assert verify_lines(manifest, lines, public) == len(lines) == manifest["count"]
    assert manifest["batch_id"] == got["batch_id"] and manifest["agency"] == got["agency"]
    changed = copy.deepcopy(lines)
    field = next(iter(changed[0]["fields"]))
    changed[0]["fields"][field] = "tampered"
    tampered: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
        (manifest, changed),  # a value changed
        (manifest, lines[1:]),  # a line dropped
        (manifest, list(reversed(lines)) if len(lines) > 1 else changed),  # reordered
        ({**manifest, "count": manifest["count"] + 1}, lines),  # manifest edited
        ({**manifest, "signature": manifest["signature"][::-1]}, lines),  # signature edited
    ]
    for bad_manifest, bad_lines in tampered:
        with pytest.raises(InputError):
            verify_lines(bad_manifest, bad_lines, public)
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(InputError):
        verify_lines(manifest, lines, other)  # another key
