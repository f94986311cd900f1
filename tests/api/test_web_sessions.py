"""Web sessions apart from API tokens; forms guarded by their token and their origin;
security headers; sign-in rate-limited. A hostile site, a stolen cookie, a replayed form.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from taxgate.server import create_app
from taxgate.services import sessions
from taxgate.settings import ServiceSettings
from taxgate.storage.tables import User
from tests.api.service import Service


def test_the_cookie_is_a_session_not_a_token(sqlite_service: Service) -> None:
    svc = sqlite_service
    svc.web("auditor")
    cookie = svc.client.cookies.get("taxgate_session")
    assert cookie and cookie != svc.tokens["auditor"]
    assert svc.client.get("/web", follow_redirects=False).status_code == 200
    # the API never accepts the pages' session, the pages never a bearer token
    assert svc.client.get("/v1/me").status_code == 401
    svc.client.cookies.clear()
    r = svc.client.get("/web", headers=svc.h("auditor"), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/web/login"


def test_cookie_flags(sqlite_service: Service) -> None:
    r = sqlite_service.client.post(
        "/web/login", data={"token": sqlite_service.tokens["officer"]}, follow_redirects=False
    )
    header = r.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/web" in header
    assert sqlite_service.tokens["officer"].lower() not in header


def test_logout_revokes_the_session_in_the_store(sqlite_service: Service) -> None:
    svc = sqlite_service
    csrf = svc.web("officer")
    stolen = svc.client.cookies.get("taxgate_session")
    assert stolen
    r = svc.client.post("/web/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    svc.client.cookies.clear()
    svc.client.cookies.set("taxgate_session", stolen, path="/web")  # the old cookie, replayed
    r = svc.client.get("/web", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/web/login"


def test_sessions_expire_idle_or_old_and_end_with_the_user(sqlite_service: Service) -> None:
    ws = sqlite_service.ws
    with ws.store.session() as s:
        opened = sessions.open_session(s, "officer-user", now=1000.0, max_seconds=7200)
    with ws.store.session() as s:  # just inside the idle limit: alive, and touched
        assert sessions.find_session(s, opened.session_id, 1000.0 + 1799, idle_seconds=1800)
    with ws.store.session() as s:  # idle from the touch on: gone
        assert sessions.find_session(s, opened.session_id, 2799.0 + 1800, 1800) is None
    with ws.store.session() as s:
        again = sessions.open_session(s, "officer-user", now=1000.0, max_seconds=100)
    with ws.store.session() as s:  # busy but old: gone at the absolute limit
        assert sessions.find_session(s, again.session_id, 1099.0, 1800) is not None
    with ws.store.session() as s:
        assert sessions.find_session(s, again.session_id, 1100.0, 1800) is None
    with ws.store.session() as s:
        third = sessions.open_session(s, "officer-user", now=1000.0)
    with ws.store.session() as s:
        user = s.query(User).filter_by(name="officer-user").one()
        user.active = False
    with ws.store.session() as s:  # a disabled user's session opens nothing
        assert sessions.find_session(s, third.session_id, 1001.0) is None
    with ws.store.session() as s:
        s.query(User).filter_by(name="officer-user").one().active = True


@pytest.mark.parametrize(
    ("headers", "with_token", "expected"),
    [
        ({}, False, 403),  # no form token
        ({}, "wrong", 403),  # another session's or a forged token
        ({}, True, 200),  # a non-browser client with the token
        ({"origin": "http://testserver"}, True, 200),
        ({"origin": "https://evil.example"}, True, 403),  # the right token, the wrong site
        ({"origin": "null"}, True, 403),  # a sandboxed frame elsewhere
        ({"origin": "null", "sec-fetch-site": "same-origin"}, True, 200),  # no-referrer page
        ({"sec-fetch-site": "cross-site"}, True, 403),
    ],
)
def test_forms_need_their_token_and_their_origin(
    sqlite_service: Service, headers: dict[str, str], with_token: Any, expected: int
) -> None:
    svc = sqlite_service
    csrf = svc.web("auditor")
    data = {}
    if with_token:
        # a forged token: one character changed (never the same character again)
        data["csrf"] = csrf if with_token is True else ("y" if csrf[0] == "x" else "x") + csrf[1:]
    r = svc.client.post("/web/audit/verify", data=data, headers=headers)
    assert r.status_code == expected, r.text[:300]
    if expected == 403:
        assert "Verified" not in r.text and "Not allowed" in r.text


def test_security_headers_on_pages_and_api(sqlite_service: Service) -> None:
    svc = sqlite_service
    svc.web("officer")
    page = svc.client.get("/web/batches")
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp  # no script at all
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert "<script" not in page.text and "style=" not in page.text
    for r in (page, svc.client.get("/v1/health")):
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"


def test_sign_in_is_rate_limited(sqlite_service: Service) -> None:
    svc = sqlite_service
    app = create_app(svc.ws, ServiceSettings(worker=False, login_per_minute=1, login_burst=3))
    with TestClient(app) as c:
        codes = [
            c.post("/web/login", data={"token": "tg_guess"}, follow_redirects=False).status_code
            for _ in range(5)
        ]
        assert codes == [401, 401, 401, 429, 429]
        right = c.post("/web/login", data={"token": svc.tokens["officer"]})
        assert right.status_code == 429  # even the right token waits: no guessing race


def test_rotating_or_disabling_a_user_ends_their_page_sessions(sqlite_service: Service) -> None:
    from taxgate.services import user_admin

    svc = sqlite_service
    svc.web("reviewer")
    assert svc.client.get("/web", follow_redirects=False).status_code == 200
    user_admin.rotate(svc.ws, "reviewer-user")
    assert svc.client.get("/web", follow_redirects=False).status_code == 303
