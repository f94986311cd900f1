"""Views by role (issue 13, item 5), on both stores: auditors see identifiers, hashes,
codes and counts, never a TIN or a reviewer's note; agencies see only their own answers."""

from __future__ import annotations

from sqlalchemy import select

from taxgate.services.views import AGENCY_DECISION_KEYS
from taxgate.storage import tables as m
from tests.api.service import Service
from tests.api.test_batches import _hold_for_review

NOTE = "SENTINEL-NOTE the informant at the diner confirmed it"


def test_auditor_sees_no_tin_and_no_note(service: Service) -> None:
    svc = service
    c = svc.client
    batch_id = svc.submit("a1").json()["batch_id"]
    svc.worker().run_until_idle()
    with svc.ws.store.session() as s:
        decided = s.execute(
            select(m.Decision.request_id, m.Decision.matched_tin, m.Decision.runner_up_tin)
        ).all()
        disclosed = s.scalars(
            select(m.Decision.request_id).where(m.Decision.status == "DISCLOSED")
        ).all()
    tins = {t for _, a, b in decided for t in (a, b) if t}
    assert len(tins) >= 5 and disclosed
    rid = disclosed[0]
    _hold_for_review(svc, rid, candidate=True)
    act = {"action": "refuse", "note": NOTE}
    assert c.post(f"/v1/review/{rid}", json=act, headers=svc.h("reviewer")).status_code == 200
    pages = [
        f"/v1/batches/{batch_id}/decisions",
        f"/web/batches/{batch_id}",
        f"/v1/decisions/{rid}",
        f"/v1/decisions/{rid}/why",
        f"/web/decisions/{rid}",
        *(f"/v1/decisions/{r}/why" for r, *_ in decided[:20]),
        *(f"/v1/decisions/{r}" for r, *_ in decided[:20]),
        "/v1/reports/oversight",
    ]
    seen = ""
    for path in pages:
        svc.client.cookies.clear()
        r = c.get(path, headers=svc.h("auditor"))
        assert r.status_code == 200, (path, r.text)
        seen += r.text
    assert not [t for t in tins if t in seen]
    assert "SENTINEL-NOTE" not in seen
    why = c.get(f"/v1/decisions/{rid}/why", headers=svc.h("auditor")).json()
    assert why["review"] == {"action": "refuse", "user": "reviewer-user", "note_chars": len(NOTE)}
    # those who act on requests read the note
    for role in ("reviewer", "officer"):
        got = c.get(f"/v1/decisions/{rid}/why", headers=svc.h(role)).json()
        assert got["review"]["note"] == NOTE


def test_agency_sees_only_its_own_answers(service: Service) -> None:
    svc = service
    c = svc.client
    mine = svc.submit("a1").json()["batch_id"]
    theirs = svc.submit("b1", role="other-agency").json()["batch_id"]
    svc.worker().run_until_idle()
    own = c.get(f"/v1/batches/{mine}/decisions", headers=svc.h("agency")).json()["decisions"]
    assert own and all(set(d) == set(AGENCY_DECISION_KEYS) for d in own)
    assert c.get(f"/v1/batches/{theirs}/decisions", headers=svc.h("agency")).status_code == 404
    their_rid = c.get(f"/v1/batches/{theirs}/decisions", headers=svc.h("other-agency")).json()[
        "decisions"
    ][0]["request_id"]
    assert c.get(f"/v1/decisions/{their_rid}", headers=svc.h("agency")).status_code == 404
    assert c.get(f"/v1/batches/{theirs}/response", headers=svc.h("agency")).status_code == 404
