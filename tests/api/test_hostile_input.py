"""The hostile requests.csv corpus submitted to the service: a 422 naming file, row and
column, and no cell's content in the body or in any audit log entry."""

from __future__ import annotations

import json

from taxgate.intake.signing import load_private_key, sign_manifest
from taxgate.storage.audit_log import all_entries
from tests.api.service import Service
from tests.hostile_input import SENTINEL, cases


def test_corpus_refusals_through_the_api(service: Service) -> None:
    svc = service
    manifest = svc.kit.manifest("a1")
    manifest.pop("signature", None)
    refused = 0
    for case in cases():
        if case.accept is not None:
            continue
        signed = sign_manifest(
            {**manifest, "batch_id": f"H-{case.name}"}, case.data, load_private_key(svc.kit.key)
        )
        files = {
            "manifest": ("manifest.json", json.dumps(signed).encode(), "application/json"),
            "requests": ("requests.csv", case.data, "text/csv"),
        }
        r = svc.client.post("/v1/batches", files=files, headers=svc.h("agency"))
        assert r.status_code == 422, (case.name, r.text)
        assert SENTINEL not in r.text, case.name
        message = r.json()["error"]["message"]
        assert message.startswith("`requests.csv`"), message
        assert case.expect is not None
        if case.expect["row"] is not None:
            assert f"row {case.expect['row']}" in message
        if case.expect["position"] is not None:
            assert f"column {case.expect['position']} (`{case.expect['column']}`)" in message
        refused += 1
    assert refused >= 10
    with svc.ws.store.session() as s:
        log = b"\n".join(all_entries(s))
    assert SENTINEL.encode() not in log and SENTINEL.encode("utf-16-le") not in log
    failures = [json.loads(x) for x in log.splitlines() if b'"failure"' in x]
    assert len([f for f in failures if f.get("event_type") == "batch_received"]) == refused
