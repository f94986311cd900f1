"""Who may do what: every route with every role and with no token, on both stores.

The expected table is written out here, independently of the routes' declarations; a
second test checks that the app declares exactly these routes and roles (so a new route
cannot slip in without a row here), and that deny-by-default is enforced at build time.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from taxgate.http.routing import check_declared, routes_roles
from tests.api.service import Service

AG, OF, RV, AU, AD = "agency", "officer", "reviewer", "auditor", "admin"
ALL = {AG, OF, RV, AU, AD}
PUBLIC = {"public"}

# (method, path template, admitted roles, how to fill the path, query, json body)
MATRIX: list[tuple[str, str, set[str]]] = [
    ("GET", "/v1/health", PUBLIC),
    ("POST", "/v1/session", PUBLIC),
    ("GET", "/v1/me", ALL),
    ("POST", "/v1/batches", {AG}),
    ("GET", "/v1/batches", ALL),
    ("GET", "/v1/batches/{batch_id}", ALL),
    ("GET", "/v1/batches/{batch_id}/response", {AG, OF}),
    ("GET", "/v1/batches/{batch_id}/decisions", {AG, OF, RV, AU}),
    ("GET", "/v1/decisions/{request_id}", {AG, OF, RV, AU}),
    ("GET", "/v1/decisions/{request_id}/why", {OF, RV, AU}),
    ("GET", "/v1/review", {OF, RV}),
    ("POST", "/v1/review/{request_id}", {RV}),
    ("GET", "/v1/audit/head", {OF, RV, AU, AD}),
    ("GET", "/v1/audit/checkpoints", {AU, AD}),
    ("POST", "/v1/audit/checkpoints", {AU, AD}),
    ("GET", "/v1/audit/entries/{index}", {AU, AD}),
    ("GET", "/v1/audit/proofs/inclusion/{index}", {AU, AD}),
    ("GET", "/v1/audit/proofs/consistency", {AU, AD}),
    ("GET", "/v1/audit/export", {AU, AD}),
    ("GET", "/v1/audit/verify", {AU, AD}),
    ("GET", "/v1/reports/oversight", {OF, AU, AD}),
    ("GET", "/v1/reports/oversight.html", {OF, AU, AD}),
    ("GET", "/v1/users", {AD}),
    ("POST", "/v1/users", {AD}),
    ("PATCH", "/v1/users/{name}", {AD}),
    ("GET", "/web/static/taxgate.css", PUBLIC),
    ("GET", "/web/login", PUBLIC),
    ("POST", "/web/login", PUBLIC),
    ("POST", "/web/logout", PUBLIC),
    ("GET", "/web", ALL),
    ("GET", "/web/", ALL),
    ("GET", "/web/batches", ALL),
    ("POST", "/web/batches", {AG}),
    ("GET", "/web/batches/{batch_id}", ALL),
    ("GET", "/web/batches/{batch_id}/response.jsonl", {AG, OF}),
    ("GET", "/web/batches/{batch_id}/response-manifest.json", {AG, OF}),
    ("GET", "/web/decisions", {AG, OF, RV, AU}),
    ("GET", "/web/decisions.csv", {AG, OF, RV, AU}),
    ("GET", "/web/decisions/{request_id}", {OF, RV, AU}),
    ("GET", "/web/review", {OF, RV}),
    ("GET", "/web/review/{request_id}", {RV}),
    ("POST", "/web/review/{request_id}", {RV}),
    ("GET", "/web/audit", {OF, RV, AU, AD}),
    ("POST", "/web/audit/verify", {AU, AD}),
    ("GET", "/web/audit/proof", {AU, AD}),
    ("GET", "/web/audit/entries", {AU, AD}),
    ("GET", "/web/audit/export.json", {AU, AD}),
    ("GET", "/web/disclosures", {OF, AU}),
    ("GET", "/web/disclosures.csv", {OF, AU}),
    ("GET", "/web/reports/oversight", {OF, AU, AD}),
    ("POST", "/web/transparency", {AD}),  # first: the reads below find its release
    ("GET", "/web/transparency", PUBLIC),
    ("GET", "/web/transparency/{release_id:int}", PUBLIC),
    ("GET", "/web/transparency/{release_id:int}.json", PUBLIC),
]

_users = iter(range(10**6))


def _call(svc: Service, method: str, path: str, role: str | None) -> Any:
    """Call one route as ``role``: the API with its bearer token, the pages with a session
    opened by signing in (and the session's form token on a post)."""
    headers = svc.h(role) if role else {}
    page = path == "/web" or path.startswith("/web/")
    csrf = ""
    if page:
        svc.client.cookies.clear()
        if role is not None:
            csrf = svc.web(role)
        headers = {}
    batch_id = svc.kit.manifest("a1")["batch_id"]
    url = path.replace(":int}", "}").format(
        release_id=1,
        batch_id=batch_id,
        request_id=f"{batch_id}-00003",
        index=0,
        name="nobody-here",
    )
    kw: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if path == "/v1/audit/proofs/consistency":
        kw["params"] = {"old_size": 0, "new_size": 1}
    if path == "/v1/review/{request_id}":
        url = "/v1/review/no-such-request"
        kw["json"] = {"action": "refuse", "note": "matrix"}
    if path == "/v1/users" and method == "POST":
        kw["json"] = {"name": f"matrix-{next(_users)}", "role": "auditor"}
    if path == "/v1/users/{name}":
        kw["json"] = {"active": True}
    if path == "/v1/batches" and method == "POST":
        kw["files"] = svc.kit.files("a1")  # already processed: 200, nothing new
    if path == "/web/review/{request_id}":
        url = "/web/review/no-such-request"
        kw["data"] = {"action": "refuse", "note": "matrix"}
    if path == "/web/batches" and method == "POST":
        kw["files"] = svc.kit.files("a1")  # already processed: the batch's page, nothing new
    if path == "/web/transparency" and method == "POST":
        kw["data"] = {"year": "2026", "epsilon": "0.01"}
    if page and method == "POST":
        kw["data"] = {**kw.get("data", {}), "csrf": csrf}
    if path == "/web/login" and method == "POST":
        kw["data"] = {"token": svc.tokens[role] if role else "x"}
    return svc.client.request(method, url, **kw)


def test_every_route_with_every_role_and_without_token(processed: Service) -> None:
    svc = processed
    problems = []
    for method, path, admitted in MATRIX:
        for role in [*sorted(ALL), None]:
            svc.client.cookies.clear()
            r = _call(svc, method, path, role)
            if admitted == PUBLIC:
                ok = r.status_code < 400 or (path.endswith(("/session", "/login")) and role is None)
                expected = "< 400 (401 for a login without token)"
            elif role is None:
                ok = r.status_code == 401 or (path.startswith("/web") and r.status_code == 303)
                expected = "401 (web: redirect to login)"
            elif role in admitted:
                ok = r.status_code not in (401, 403) and r.status_code < 500
                expected = "admitted"
            else:
                ok = r.status_code == 403
                expected = "403"
            if not ok:
                problems.append(f"{method} {path} as {role}: {r.status_code}, expected {expected}")
    assert not problems, "\n".join(problems)


def test_admitted_roles_get_answers_not_just_no_refusal(processed: Service) -> None:
    svc = processed
    b = svc.kit.manifest("a1")["batch_id"]
    for role, path in (
        (AG, f"/v1/batches/{b}"),
        (AG, f"/v1/batches/{b}/decisions"),
        (AG, f"/v1/decisions/{b}-00003"),
        (OF, f"/v1/decisions/{b}-00003/why"),
        (AU, f"/v1/decisions/{b}-00003/why"),
        (RV, f"/v1/batches/{b}/decisions"),
    ):
        r = svc.client.get(path, headers=svc.h(role))
        assert r.status_code == 200, (path, role, r.text)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/batches/{b}",
        "/v1/batches/{b}/response",
        "/v1/batches/{b}/decisions",
        "/v1/decisions/{b}-00003",
        "/web/batches/{b}",
    ],
)
def test_agency_never_sees_another_agencys_batch(processed: Service, path: str) -> None:
    svc = processed
    other_batch = svc.kit.manifest("b1")["batch_id"]
    own_batch = svc.kit.manifest("a1")["batch_id"]
    page = path.startswith("/web/")

    def get(url: str, who: str) -> Any:
        if page:
            svc.web(who)
            return svc.client.get(url)
        svc.client.cookies.clear()
        return svc.client.get(url, headers=svc.h(who))

    theirs = get(path.format(b=other_batch), "agency")
    assert theirs.status_code == 404
    if page:
        assert "Not found" in theirs.text and 'href="/web"' in theirs.text
    else:
        assert theirs.json()["error"]["code"] == "not_found"
    assert get(path.format(b=own_batch), "agency").status_code == 200
    # and the other agency sees its own, not ours
    assert get(path.format(b=other_batch), "other-agency").status_code == 200
    assert get(path.format(b=own_batch), "other-agency").status_code == 404


def test_agency_lists_only_its_own_batches(processed: Service) -> None:
    listed = processed.client.get("/v1/batches", headers=processed.h("agency")).json()["batches"]
    assert {b["agency"] for b in listed} == {processed.kit.agency}
    staff = processed.client.get("/v1/batches", headers=processed.h("auditor")).json()["batches"]
    assert len({b["agency"] for b in staff}) == 2


def test_auditor_never_sees_requested_persons_values(processed: Service) -> None:
    svc = processed
    batch_id = svc.kit.manifest("a1")["batch_id"]
    rid = f"{batch_id}-00003"
    officer = svc.client.get(f"/v1/decisions/{rid}/why", headers=svc.h("officer")).json()
    auditor = svc.client.get(f"/v1/decisions/{rid}/why", headers=svc.h("auditor")).json()
    assert "request" in officer and "request" not in auditor
    personal = ("first_name", "middle_name", "last_name", "date_of_birth", "address_line1")
    values = [v for k, v in officer["request"].items() if k in personal and len(str(v)) > 3]
    assert values
    svc.web("auditor")
    text = str(auditor) + svc.client.get(f"/web/decisions/{rid}").text
    assert not [v for v in values if str(v) in text]
    assert auditor["trace"] == officer["trace"]  # the why is the same


def test_routes_declare_exactly_the_matrix(processed: Service) -> None:
    app = processed.client.app
    assert isinstance(app, FastAPI)
    declared = {
        k: set(v)
        for k, v in routes_roles(app).items()
        if k[1] == "/web" or k[1].startswith(("/v1/", "/web/"))
    }
    declared = {k: v for k, v in declared.items() if k[1] not in ("/v1/openapi.json", "/v1/docs")}
    expected = {(m, p): roles for m, p, roles in MATRIX}
    assert declared == expected


def test_a_route_without_roles_is_refused_at_build_time() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(RuntimeError, match="forgotten"):
        check_declared(app)
