"""Refused authentications and authorisations are logged and attributed, and a flood of
them cannot grow the audit log without bound (issue 13, items 7 and 8)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxgate.http.limits import RateLimiter
from taxgate.intake.signing import load_private_key, sign_manifest
from taxgate.settings import ServiceSettings
from taxgate.storage.audit_log import all_entries
from tests.api.service import Kit, Service, open_service, prepare_workdir
from tests.conftest import World


def _entries(svc: Service) -> list[dict[str, Any]]:
    with svc.ws.store.session() as s:
        return [json.loads(e) for e in all_entries(s)]


def _refusals(svc: Service, event: str = "access_refused") -> list[dict[str, Any]]:
    return [e for e in _entries(svc) if e["event_type"] == event and e["outcome"] == "failure"]


def test_refusals_are_logged_and_attributed(service: Service) -> None:
    svc = service
    c = svc.client
    # another agency's batch sent with this agency's token: 403, attributed to the token's user
    assert svc.submit("b1").status_code == 403
    # a broken batch that names the other agency (its batch id too): refused the same way,
    # and nothing is written about the other agency's batch
    manifest = svc.kit.manifest("b1")
    files = svc.kit.files("b1")
    files["requests"] = ("requests.csv", b"not,a,header\n", "text/csv")
    assert c.post("/v1/batches", files=files, headers=svc.h("agency")).status_code == 403
    assert c.get("/v1/users", headers=svc.h("auditor")).status_code == 403
    assert c.get("/v1/me", headers={"Authorization": "Bearer tg_nobody"}).status_code == 401
    assert c.get("/v1/me").status_code == 401
    got = [
        (e["user"], e["object"], e["details"]["status"], e["details"]["method"])
        for e in _refusals(svc)
    ]
    assert got == [
        ("agency-user", "/v1/batches", 403, "POST"),
        ("agency-user", "/v1/batches", 403, "POST"),
        ("auditor-user", "/v1/users", 403, "GET"),
        ("(unknown)", "/v1/me", 401, "GET"),
        ("(anonymous)", "/v1/me", 401, "GET"),
    ]
    assert all(e["origin"].startswith("api:") for e in _refusals(svc))
    assert not [e for e in _entries(svc) if e["object"] == manifest["batch_id"]]
    assert "tg_nobody" not in json.dumps(_entries(svc))


def test_a_broken_batch_is_attributed_to_its_submitter(sqlite_service: Service) -> None:
    svc = sqlite_service
    manifest = svc.kit.manifest("a1")
    manifest.pop("signature", None)
    data = b"no header here\n"
    signed = sign_manifest(manifest, data, load_private_key(svc.kit.key))
    files = {
        "manifest": ("manifest.json", json.dumps(signed).encode(), "application/json"),
        "requests": ("requests.csv", data, "text/csv"),
    }
    assert svc.client.post("/v1/batches", files=files, headers=svc.h("agency")).status_code == 422
    (failure,) = [e for e in _entries(svc) if e["event_type"] == "batch_received"]
    assert failure["user"] == "agency-user" and failure["outcome"] == "failure"


@pytest.fixture
def flood_service(world: World, kit: Kit, tmp_path: Path) -> Iterator[Service]:
    settings = ServiceSettings(
        worker=False,
        refusals_per_window=3,
        refusal_window_seconds=2,
        rate_burst=1000,
        login_per_minute=1000,
        login_burst=1000,
    )
    wd = prepare_workdir(world.workdir, tmp_path / "work")
    with open_service(wd, f"sqlite:///{tmp_path / 'store.sqlite'}", kit, settings) as svc:
        yield svc


def test_a_flood_of_refusals_is_summarised(flood_service: Service) -> None:
    svc = flood_service
    c = svc.client
    bad = {"Authorization": "Bearer tg_wrong"}
    for _ in range(40):
        assert c.get("/v1/me", headers=bad).status_code == 401
    for _ in range(25):
        assert c.post("/v1/session", headers=bad).status_code == 401
    for _ in range(10):
        assert c.get("/v1/users", headers=svc.h("officer")).status_code == 403
    unknown = [e for e in _entries(svc) if e["user"] == "(unknown)"]
    officer = _refusals(svc)
    officer = [e for e in officer if e["user"] == "officer-user"]
    assert len(unknown) == 3 and len(officer) == 3  # 75 and 10 refusals, 3 entries each
    size = len(_entries(svc))
    time.sleep(2.1)  # the next window: the next refusal says how many went unwritten
    assert c.get("/v1/me", headers=bad).status_code == 401
    last = _entries(svc)[-1]
    assert len(_entries(svc)) == size + 1
    assert last["user"] == "(unknown)" and last["details"]["suppressed"] == 40 + 25 - 3


def test_rate_limiter_on_the_limits_library() -> None:
    rl = RateLimiter(per_minute=60, burst=2)
    assert rl.take("a") == 0 and rl.take("a") == 0
    wait = rl.take("a")
    assert 0 < wait <= 1.0
    assert rl.take("b") == 0  # keys are independent
    time.sleep(wait + 0.05)
    assert rl.take("a") == 0
    few = RateLimiter(per_minute=2, burst=1)  # 1 in any second, 3 in any minute
    assert few.take("k") == 0 and 0 < few.take("k") <= 1.0
    for _ in range(2):
        time.sleep(1.05)
        assert few.take("k") == 0
    time.sleep(1.05)
    assert 1 < few.take("k") <= 60  # the minute's allowance is spent
