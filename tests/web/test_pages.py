"""The pages in a real browser (Debian's chromium through Playwright) against `taxgate serve`.

The served work folder is a copy of the test world (its batch already processed); users
are added with `taxgate users add`, and the officer logs in with the printed token.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import TAXGATE, World, new_batch, policy_review_config, taxgate

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serving(wd: Path, store: dict[str, str] | None = None) -> Iterator[str]:
    """`taxgate serve` on a free loopback port over ``wd`` (and ``store``'s
    TAXGATE_DATABASE_URL, if given); its base URL once healthy."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXGATE_")}
    env.update(store or {})
    server = subprocess.Popen(
        [*TAXGATE, "serve", "--port", str(port), "--workdir", str(wd)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/v1/health", timeout=1) as r:
                    assert json.loads(r.read())["status"] == "ok"
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(10)


def _add_user(wd: Path, name: str, role: str, store: dict[str, str] | None = None) -> str:
    token = taxgate("users", "add", name, "--role", role, "--workdir", wd, env=store).stdout
    assert token.startswith("tg_") and token.count("\n") == 1
    return token.strip()


@pytest.fixture(scope="module")
def served(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    wd = world.copy_workdir(tmp_path_factory.mktemp("served") / "work")
    tokens = {
        "officer": _add_user(wd, "olivia-officer", "officer"),
        "auditor": _add_user(wd, "avery-auditor", "auditor"),
    }
    with _serving(wd) as base:
        yield base, tokens


def test_users_add_prints_token_once_and_stores_its_hash(
    served: tuple[str, dict[str, str]], world: World, tmp_path: Path
) -> None:
    import hashlib

    from sqlalchemy import select

    from taxgate.storage.tables import User
    from taxgate.workspace import Workspace

    wd = world.copy_workdir(tmp_path / "w")
    added = taxgate("users", "add", "tess-officer", "--role", "officer", "--workdir", wd)
    token = added.stdout.strip()
    assert added.stdout == token + "\n" and token.startswith("tg_")  # once, alone on stdout
    assert token not in added.stderr and "shown this once" in added.stderr
    listed = taxgate("users", "list", "--workdir", wd)
    assert "tess-officer" in listed.stdout and token not in listed.stdout + listed.stderr
    taxgate("audit", "export", tmp_path / "log.json", "--workdir", wd)
    assert token not in (tmp_path / "log.json").read_text(encoding="utf-8")
    ws = Workspace.open(wd)
    try:
        with ws.transaction() as (s, _):
            user = s.scalars(select(User).where(User.name == "tess-officer")).one()
            assert user.token_hash == hashlib.sha256(token.encode()).hexdigest()
            stored = [str(getattr(user, c.key)) for c in User.__table__.columns]
            assert not any(token in v for v in stored)
    finally:
        ws.close()
    # the served store knows the officer by the printed token, and by nothing close to it
    base, tokens = served
    for bearer, status in ((tokens["officer"], 200), (tokens["officer"][:-1] + "x", 401)):
        req = urllib.request.Request(f"{base}/v1/me", headers={"Authorization": f"Bearer {bearer}"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                got, body = r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            got, body = e.code, {}
        assert got == status
        if status == 200:
            assert body == {"name": "olivia-officer", "role": "officer", "agency": None}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_officer_logs_in_and_reads_batch_why_and_review_queue(
    served: tuple[str, dict[str, str]], world: World
) -> None:
    from playwright.sync_api import sync_playwright

    base, tokens = served
    batch_id = json.loads((world.batch / "manifest.json").read_text())["batch_id"]
    decisions = world.decisions()
    rejected = next(d for d in decisions if d["status"] == "REJECTED")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/web/batches")
            assert page.url.endswith("/web/login")  # not logged in: sent to the login page
            page.fill("#token", "tg_not-a-token")
            page.click("button[type=submit]")
            assert page.locator("[role=alert]").is_visible()
            page.fill("#token", tokens["officer"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/web/batches")
            page.click(f"text={batch_id}")
            page.wait_for_url(f"**/web/batches/{batch_id}")
            assert page.locator("#state").inner_text() == "done"
            counts = page.locator("#counts tbody tr").count()
            assert counts == len({d["status"] for d in decisions})
            page.click(f"text={rejected['request_id']}")
            page.wait_for_url(f"**/web/decisions/{rejected['request_id']}?agency=*")
            assert "REJECTED" in page.locator("h1").inner_text()
            codes = [r["code"] for r in rejected["reasons"]]
            reasons_text = page.locator("#reasons").inner_text()
            assert all(code in reasons_text for code in codes)
            failed = page.locator("#trace td.fail").count()
            assert failed == sum(1 for t in rejected["trace"] if not t["passed"])
            assert page.locator("#request").count() == 1  # officers see the request
            page.click("text=Review queue")
            page.wait_for_url(f"{base}/web/review")
            pending = sum(1 for d in decisions if d["status"] == "PENDING_REVIEW")
            assert f"{pending} pending" in page.locator("main").inner_text()
            page.click("text=Audit log")
            assert "taxgate/audit-log" in page.locator("#checkpoint").inner_text()
        finally:
            browser.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def reviewing(
    world: World, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[str, str, list[str]]]:
    """A served work folder with requests pending review (R-CASE switched to review), its
    store in SQLite (a copy of the world's) or in a fresh PostgreSQL database."""
    root = tmp_path_factory.mktemp("reviewing")
    config = policy_review_config(root)
    wd = world.copy_workdir(root / "work")
    store: dict[str, str] = {}
    if request.param == "postgres":
        from tests.pgserver import create_database

        url = create_database(request.getfixturevalue("pg_url"), f"review_{root.name[-12:]}")
        store = {"TAXGATE_DATABASE_URL": url}
        manifest = json.loads((world.batch / "manifest.json").read_text(encoding="utf-8"))
        official = manifest["official"]
        taxgate(
            "agencies", "add", manifest["agency"], "--official", official["name"],
            "--title", official["title"], "--authority", "agency-head",
            "--public-key", f"{world.key}.pub", "--workdir", wd, env=store,
        )  # fmt: skip
    batch = new_batch(world, root, seed=23, workdir=wd)
    taxgate("process", batch, "--out", root / "out", "--workdir", wd, "--config", config, env=store)
    pending = [d["request_id"] for d in world.decisions(root / "out")
               if d["status"] == "PENDING_REVIEW"]  # fmt: skip
    assert len(pending) >= 2
    token = _add_user(wd, "rita-reviewer", "reviewer", store)
    with _serving(wd, store) as base:
        yield base, token, pending


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_reviewer_refuses_and_approves_from_the_queue_page(
    reviewing: tuple[str, str, list[str]],
) -> None:
    from playwright.sync_api import sync_playwright

    base, token, pending = reviewing
    refused, approved = pending[0], pending[1]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/web/login")
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/web/batches")
            page.click("text=Review queue")
            page.wait_for_url(f"{base}/web/review")
            assert f"{len(pending)} pending" in page.locator("main").inner_text()

            row = page.locator("#pending tbody tr", has_text=refused)
            row.locator("button[value=refuse]").click()  # no note: the browser asks for one
            assert page.url == f"{base}/web/review"
            row.locator("textarea[name=note]").fill("the statute cited does not fit the facts")
            row.locator("button[value=refuse]").click()
            page.wait_for_url(f"**/web/decisions/{refused}?agency=*")
            assert "WITHHELD" in page.locator("h1").inner_text()

            page.goto(f"{base}/web/review")
            assert f"{len(pending) - 1} pending" in page.locator("main").inner_text()
            assert page.locator("#pending tbody tr", has_text=refused).count() == 0
            row = page.locator("#pending tbody tr", has_text=approved)
            candidate = row.locator("td.candidate").inner_text().strip()
            assert candidate.isdigit()  # the reviewer sees whom the request was held for
            row.locator("textarea[name=note]").fill("checked against the case file")
            row.locator("button[value=approve]").click()
            page.wait_for_url(f"**/web/decisions/{approved}?agency=*")
            assert "DISCLOSED" in page.locator("h1").inner_text()
        finally:
            browser.close()
    # Deciding again is refused with the reason on the page, and changes nothing.
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = urllib.parse.urlencode({"token": token}).encode()
    opener.open(f"{base}/web/login", data=login, timeout=10)
    again = urllib.parse.urlencode({"action": "approve", "note": "second try"}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused_again:
        opener.open(f"{base}/web/review/{refused}", data=again, timeout=10)
    assert refused_again.value.code == 409
    assert "not pending review" in refused_again.value.read().decode()
