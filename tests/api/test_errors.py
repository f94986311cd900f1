"""One JSON error shape for every error the service returns (held here, case by case)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from taxgate.http.limits import RateLimiter
from taxgate.server import create_app
from taxgate.settings import ServiceSettings
from tests.api.service import Service, TestClient

SHAPE_KEYS = {"status", "code", "message"}


def assert_shape(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert SHAPE_KEYS <= set(err) <= SHAPE_KEYS | {"details"}
    assert err["status"] == status and err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    assert err["message"] == err["message"].strip() and not err["message"].endswith(".")
    return dict(err)


def test_every_kind_of_error_has_the_one_shape(sqlite_service: Service) -> None:
    svc = sqlite_service
    c = svc.client
    assert_shape(c.get("/v1/me"), 401, "unauthenticated")
    assert_shape(
        c.get("/v1/me", headers={"Authorization": "Bearer tg_nope"}), 401, "unauthenticated"
    )
    assert_shape(c.get("/v1/users", headers=svc.h("officer")), 403, "forbidden")
    assert_shape(c.get("/v1/nowhere"), 404, "not_found")
    assert_shape(c.get("/v1/batches/missing", headers=svc.h("officer")), 404, "not_found")
    assert_shape(c.delete("/v1/health"), 405, "method_not_allowed")
    err = assert_shape(c.get("/v1/batches?limit=0", headers=svc.h("officer")), 422, "invalid")
    assert err["details"][0]["location"] == ["query", "limit"]
    assert_shape(
        c.post("/v1/batches", headers=svc.h("agency"), files={"manifest": ("m", b"{}")}),
        422,
        "invalid",
    )
    bad = svc.kit.files("a1")
    bad["manifest"] = ("manifest.json", b"{not json", "application/json")
    err = assert_shape(c.post("/v1/batches", files=bad, headers=svc.h("agency")), 422, "invalid")
    assert "manifest.json" in err["message"]
    assert_shape(
        c.post("/v1/review/x", json={"action": "maybe", "note": "n"}, headers=svc.h("reviewer")),
        422,
        "invalid",
    )
    assert_shape(
        c.post("/v1/users", json={"name": "x", "role": "agency"}, headers=svc.h("admin")),
        400,
        "bad_request",
    )
    svc.submit("a1")
    batch_id = svc.kit.manifest("a1")["batch_id"]
    assert_shape(
        c.get(f"/v1/batches/{batch_id}/response", headers=svc.h("agency")), 409, "conflict"
    )


def test_too_large_bodies_are_refused(sqlite_service: Service) -> None:
    svc = sqlite_service
    limit = 100_000
    app = create_app(svc.ws, ServiceSettings(worker=False, max_body_bytes=limit))
    c = TestClient(app)
    big = b"x" * (limit + 1)
    r = c.post("/v1/batches", content=big, headers={**svc.h("agency"), "content-type": "text/csv"})
    assert_shape(r, 413, "too_large")

    def chunks() -> Any:  # no content-length: counted as it streams
        yield (
            b'--zz\r\nContent-Disposition: form-data; name="requests"; '
            b'filename="requests.csv"\r\nContent-Type: text/csv\r\n\r\n'
        )
        for _ in range(limit // 8192 + 2):
            yield b"y" * 8192

    r = c.post(
        "/v1/batches",
        content=chunks(),
        headers={**svc.h("agency"), "content-type": "multipart/form-data; boundary=zz"},
    )
    assert_shape(r, 413, "too_large")
    small = c.post("/v1/batches", files=svc.kit.files("a1"), headers=svc.h("agency"))
    assert small.status_code == 202  # under the limit: accepted


def test_rate_limit_per_agency(sqlite_service: Service) -> None:
    svc = sqlite_service
    app = svc.client.app
    assert isinstance(app, FastAPI)
    app.state.limiter = RateLimiter(per_minute=1, burst=3)  # 3 in any second
    for _ in range(3):
        assert svc.client.get("/v1/me", headers=svc.h("agency")).status_code == 200
    r = svc.client.get("/v1/me", headers=svc.h("agency"))
    assert_shape(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    # another agency has its own bucket; staff are not limited per agency
    assert svc.client.get("/v1/me", headers=svc.h("other-agency")).status_code == 200
    assert svc.client.get("/v1/me", headers=svc.h("officer")).status_code == 200


def test_unexpected_failures_are_500_in_the_shape_and_logged_without_detail(
    sqlite_service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    app = sqlite_service.client.app
    assert isinstance(app, FastAPI)

    def boom() -> None:
        raise RuntimeError("Jane Q Example lives at 12 Secret Street")

    app.add_api_route("/v1/test-boom", boom)
    with caplog.at_level("DEBUG"):
        r = sqlite_service.client.get("/v1/test-boom")
    assert_shape(r, 500, "internal")
    assert "Secret" not in caplog.text and "RuntimeError" in caplog.text
