"""The pages in a real browser (Debian's chromium through Playwright) against `taxgate serve`,
one test per role, following a batch from submission to response on the pages alone.

The served work folder is a copy of the test world (its batch already processed) plus a
batch of requests held for review (``cases/review_mutations.json``); users are added with
`taxgate users add` and sign in with the printed token. Every page visited is kept as a
screenshot under ``tests/web/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import csv
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TAXGATE, World, taxgate
from tests.web.mutate import RUNNER_UP, TWIN_TIN, review_batch

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


SHOTS = Path(__file__).resolve().parent / "screenshots"
ROLES = ("agency", "officer", "reviewer", "auditor", "admin")


@dataclass(frozen=True)
class Site:
    base: str
    tokens: dict[str, str]
    batch_id: str  # the world's batch, processed
    agency: str
    review: dict[str, dict[str, Any]]  # held request id -> its mutation case
    decisions: list[dict[str, Any]]  # the world's batch's decisions
    requests: Path  # the world's batch's requests.csv
    runner_up: str = ""  # a held request with a plausible second taxpayer ("" if none)


@pytest.fixture(scope="module")
def site(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    wd = world.copy_workdir(root / "work")
    batch, review = review_batch(world, root, wd, runner_up=True)
    taxgate("process", batch, "--out", root / "out", "--workdir", wd)
    held = {d["request_id"] for d in world.decisions(root / "out")
            if d["status"] == "PENDING_REVIEW"}  # fmt: skip
    assert held == {*review, RUNNER_UP}, "every mutation must be held for a person"
    manifest = json.loads((world.batch / "manifest.json").read_text())
    tokens = {}
    for role in ROLES:
        extra = ["--agency", manifest["agency"]] if role == "agency" else []
        out = taxgate("users", "add", f"{role}-one", "--role", role, *extra, "--workdir", wd)
        tokens[role] = out.stdout.strip()
    taxgate("audit", "checkpoint", "--workdir", wd)
    SHOTS.mkdir(exist_ok=True)
    with _serving(wd) as base:
        yield Site(base, tokens, manifest["batch_id"], manifest["agency"], review,
                   world.decisions(), world.batch / "requests.csv", RUNNER_UP)  # fmt: skip


@pytest.fixture(scope="module")
def pg_site(world: World, tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Site]:
    """The review part of the site with its store in PostgreSQL: a fresh database, the
    world's agency and official registered in it, the held-for-review batch processed."""
    from tests.pgserver import create_database

    root = tmp_path_factory.mktemp("pgsite")
    wd = world.copy_workdir(root / "work")
    store = {"TAXGATE_DATABASE_URL": create_database(pg_url, f"web_{root.name[-12:]}")}
    manifest = json.loads((world.batch / "manifest.json").read_text())
    official = manifest["official"]
    taxgate(
        "agencies", "add", manifest["agency"], "--official", official["name"],
        "--title", official["title"], "--authority", "agency-head",
        "--public-key", f"{world.key}.pub", "--workdir", wd, env=store,
    )  # fmt: skip
    batch, review = review_batch(world, root, wd)
    taxgate("process", batch, "--out", root / "out", "--workdir", wd, env=store)
    held = {d["request_id"] for d in world.decisions(root / "out")
            if d["status"] == "PENDING_REVIEW"}  # fmt: skip
    assert held == set(review)
    tokens = {"reviewer": _add_user(wd, "reviewer-one", "reviewer", store)}
    SHOTS.mkdir(exist_ok=True)
    with _serving(wd, store) as base:
        yield Site(base, tokens, manifest["batch_id"], manifest["agency"], review, [],
                   world.batch / "requests.csv")  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def review_site(request: pytest.FixtureRequest) -> Site:
    """The site a reviewer works on, with its store in SQLite or in PostgreSQL."""
    site: Site = request.getfixturevalue("site" if request.param == "sqlite" else "pg_site")
    return site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def _signed_in(browser: Any, site: Site, role: str) -> Iterator[Any]:
    """A fresh browser context signed in as ``role``; fails the test if the browser refused
    anything the page asked for (a Content-Security-Policy violation) or a request failed."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Refused" in m.text or "Policy" in m.text else None,
    )
    page.on("requestfailed", lambda r: errors.append(f"failed {r.url}"))
    try:
        page.goto(f"{site.base}/web/login")
        page.get_by_label("Token").fill(site.tokens[role])
        page.get_by_label("Token").press("Enter")  # the keyboard is enough
        page.wait_for_url(f"{site.base}/web")
        yield page
        assert not errors, errors
    finally:
        ctx.close()


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _nav(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("header nav a").all_inner_texts()]


def test_each_role_lands_on_its_home_page_and_sees_only_its_navigation(
    site: Site, browser: Any
) -> None:
    expected = {
        "agency": ["Home", "Batches", "Decisions"],
        "officer": ["Home", "Batches", "Decisions", "Review queue", "Record of disclosures",
                    "Audit log", "Oversight report", "Transparency report"],
        "reviewer": ["Home", "Batches", "Decisions", "Review queue", "Audit log"],
        "auditor": ["Home", "Batches", "Decisions", "Record of disclosures", "Audit log",
                    "Oversight report", "Transparency report"],
        "admin": ["Home", "Batches", "Audit log", "Oversight report", "Transparency report"],
    }  # fmt: skip
    for role in ROLES:
        with _signed_in(browser, site, role) as page:
            assert _nav(page) == expected[role], role
            assert f"{role}-one" in page.locator("header").inner_text()
            _shot(page, f"home-{role}")
            missing = page.goto(f"{site.base}/web/no-such-page")
            assert missing is not None and missing.status == 404
            assert "Not found" in page.locator("h1").inner_text()
            assert _nav(page) == expected[role]  # the error page keeps the navigation
            _shot(page, f"404-{role}")
            if role == "agency":
                refused = page.goto(f"{site.base}/web/audit")
                assert refused is not None and refused.status == 403
                assert "Not allowed" in page.locator("h1").inner_text()
                said = page.locator("#error-message").inner_text()
                assert "You tried to open the audit log." in said
                assert (
                    "this is for disclosure officers, reviewers, auditors and administrators"
                    " only, and you are signed in as agency-one, an agency user" in said
                )
                assert "your home page" in said and "role `" not in said  # no API wording
                _shot(page, "403-agency")
                api = page.request.get(f"{site.base}/web/audit",
                                       headers={"Accept": "application/json"})  # fmt: skip
                assert api.status == 403
                assert api.json()["error"]["code"] == "forbidden"  # clients keep the JSON body
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url("**/web/login?ended=true")
            page.goto(f"{site.base}/web")  # the session is gone, not just the cookie
            assert page.url.endswith("/web/login")


def test_officer_follows_a_batch_through_filters_pages_and_exports(
    site: Site, browser: Any
) -> None:
    rejected = [d for d in site.decisions if d["status"] == "REJECTED"]
    with _signed_in(browser, site, "officer") as page:
        page.get_by_role("link", name="Batches", exact=True).click()
        page.get_by_role("link", name=site.batch_id).click()
        page.wait_for_url(f"**/web/batches/{site.batch_id}")
        assert page.locator("#state").inner_text() == "done"
        rows = page.locator("#decisions tbody tr")
        assert rows.count() == 50  # a page, not the whole batch
        assert "of 400" in page.locator("nav.pages").first.inner_text()
        height = page.evaluate("document.body.scrollHeight")
        assert height < 12000, height
        _shot(page, "batch-officer")
        page.get_by_label("Final status").select_option("REJECTED")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url("**status=REJECTED**")
        assert f"of {len(rejected)}" in page.locator("nav.pages").first.inner_text()
        statuses = set(page.locator("#decisions td.status").all_inner_texts())
        assert statuses == {"REJECTED"}
        # plain words beside each code: the clause of the statute and the message
        first = rejected[0]
        text = page.locator("#decisions").inner_text()
        assert first["reasons"][0]["message"] in text and first["reasons"][0]["citation"] in text
        with page.expect_download() as dl:
            page.get_by_role("link", name="Download these decisions as CSV").click()
        lines = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("request_id,agency,batch_id")
        assert len(lines) == 1 + len(rejected)
        code = first["reasons"][0]["code"]
        page.goto(f"{site.base}/web/decisions?code={code}")
        with_code = [d for d in site.decisions if code in {r["code"] for r in d["reasons"]}]
        assert f"of {len(with_code)}" in page.locator("nav.pages").first.inner_text()
        page.get_by_role("link", name=first["request_id"]).first.click()
        page.wait_for_url(f"**/web/decisions/{first['request_id']}?agency=*")
        assert "REJECTED" in page.locator("h1").inner_text()
        failed = page.locator("#trace td.fail").count()
        assert failed == sum(1 for t in first["trace"] if not t["passed"])
        assert page.locator("#request").count() == 1  # officers see the request
        _shot(page, "why-officer")
        page.get_by_role("link", name="Record of disclosures").click()
        disclosed = sum(1 for d in site.decisions if d["status"] == "DISCLOSED")
        assert f"of {disclosed}" in page.locator("nav.pages").first.inner_text()
        assert "TIN" in page.locator("#disclosures thead").inner_text()
        _shot(page, "disclosures-officer")
        page.get_by_role("link", name="Oversight report").click()
        assert "oversight" in page.title().lower() or "report" in page.title().lower()
        page.get_by_label("Year").fill("1999")  # a year with nothing in it
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**/web/reports/oversight?year=1999*")
        assert "1999" in page.locator("body").inner_text()
        _shot(page, "oversight-officer")
        page.get_by_role("link", name="taxgate pages").click()
        page.wait_for_url(f"{site.base}/web")


def test_reviewer_compares_element_by_element_and_decides_with_a_note(
    review_site: Site, browser: Any
) -> None:
    site = review_site
    refused, approved, *_ = sorted(site.review)
    # the held mutations, and whatever the world's own batch left for a person
    waiting = len(site.review) + sum(1 for d in site.decisions if d["status"] == "PENDING_REVIEW")
    waiting += 1 if site.runner_up else 0
    with _signed_in(browser, site, "reviewer") as page:
        page.get_by_role("link", name="Review queue").click()
        queue = page.locator("#pending tbody tr")
        assert queue.count() == waiting
        since = [t.split("since ")[-1] for t in page.locator("td.waiting").all_inner_texts()]
        assert since == sorted(since)  # oldest first
        for rid, case in site.review.items():
            row = page.locator("#pending tbody tr", has_text=rid)
            words = case["element"].replace("_", " ")
            assert f"the {words} differs from the record" in row.inner_text()
            assert "min" in row.locator("td.waiting").inner_text() or "under" in row.inner_text()
        _shot(page, "queue-reviewer")
        for rid in (refused, approved):
            case = site.review[rid]
            page.goto(f"{site.base}/web/review/{rid}")
            table = page.locator("#compare")
            assert table.count() == 1 and page.locator("#no-runner-up").count() == 1
            label = {"house_number": "House number", "first_name": "First name",
                     "street": "Street"}[case["element"]]  # fmt: skip
            cells = table.locator("tr", has=page.locator("th", has_text=label)).locator("td")
            sent, on_file, verdict = (cells.nth(i).inner_text() for i in range(3))
            assert sent != on_file and sent != "—"  # the two sides, side by side
            assert verdict.startswith(case["expected_verdict"])
            assert "warn" in (cells.nth(2).get_attribute("class") or "")
            agrees = table.locator("td.pass").count()
            assert agrees >= 3  # the rest agrees, said in words and colour
        _shot(page, "case-reviewer")
        # refuse without a note: the browser keeps the form (required), nothing is decided
        page.goto(f"{site.base}/web/review/{refused}")
        page.get_by_role("button", name="Refuse: withhold").click()
        assert page.url.endswith(f"/web/review/{refused}")
        note = page.get_by_label("Note: why you approve or refuse")
        assert note.evaluate("e => e.validity.valueMissing") is True
        note.focus()
        page.keyboard.type("the house number is another house on the same street")
        page.keyboard.press("Tab")  # to Approve
        page.keyboard.press("Tab")  # to Refuse
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/web/review/{refused}?agency=*")
        assert page.locator("#status").inner_text() == "WITHHELD"
        reviews = page.locator("#reviews").inner_text()
        assert "reviewer-one" in reviews and "refused" in reviews
        assert "another house on the same street" in reviews
        assert page.locator("#decide").count() == 0  # decided: no form any more
        _shot(page, "case-refused-reviewer")
        page.goto(f"{site.base}/web/review/{approved}")
        page.get_by_label("Note: why you approve or refuse").fill("checked against the case file")
        page.get_by_role("button", name=f"Approve: disclose to {site.agency}").click()
        page.wait_for_url(f"**/web/review/{approved}?agency=*")
        assert page.locator("#status").inner_text() == "DISCLOSED"
        page.goto(f"{site.base}/web/decisions/{approved}")
        assert "checked against the case file" in page.locator("#review").inner_text()
        page.goto(f"{site.base}/web/review")
        assert page.locator("#pending tbody tr").count() == waiting - 2


def _shown_probability(text: str) -> float:
    """The number after "match probability" ("above 0.9999" and "below 0.0001" read as
    just past their bound)."""
    words = text.split("match probability ")[1].split()
    if words[0] in ("above", "below"):
        bound = float(words[1])
        return bound + 0.00005 if words[0] == "above" else bound / 2
    return float(words[0])


def test_reviewer_sees_the_runner_up_beside_the_candidate_in_words(
    site: Site, browser: Any
) -> None:
    """The candidate's twin (same birth date and address, married name) is on file: the
    case file shows both records beside the request, element by element, in words."""
    with _signed_in(browser, site, "reviewer") as page:
        page.goto(f"{site.base}/web/review/{site.runner_up}")
        assert page.locator("#status").inner_text() == "PENDING_REVIEW"
        candidate, runner = page.locator("#candidate"), page.locator("#runner-up")
        assert TWIN_TIN in runner.inner_text() and TWIN_TIN not in candidate.inner_text()
        p_candidate = _shown_probability(candidate.inner_text())
        p_runner = _shown_probability(runner.inner_text())
        assert p_runner < 0.5 <= p_candidate  # close enough to show, not to be ambiguous
        head = page.locator("#compare thead").inner_text()
        assert "the candidate's record" in head and "the runner-up's record" in head

        def row(label: str) -> list[str]:
            cells = page.locator("#compare tr", has=page.locator("th", has_text=label))
            return [t.strip() for t in cells.first.locator("td").all_inner_texts()]

        # cells: sent, candidate's record, verdict, runner-up's record, verdict
        first, dob, last, middle, zip_ = (row(x) for x in (
            "First name", "Date of birth", "Last name", "Middle name", "ZIP"))  # fmt: skip
        assert len(first) == 5 and first[1] != first[3]  # two records, side by side
        assert first[2].startswith("differs") and first[4].startswith("differs")
        assert dob[2].startswith("agrees") and dob[4].startswith("agrees") and dob[1] == dob[3]
        assert last[2].startswith("agrees") and not last[4].startswith("agrees")
        assert middle[2].startswith("agrees") and not middle[4].startswith("agrees")
        assert zip_[2].startswith("differs") and zip_[1] == zip_[3] != zip_[0]
        said = runner.locator(".summary").inner_text().lower()
        assert "agrees on" in said and "date of birth" in said
        assert "last name" in said and "middle name" in said  # what tells them apart
        assert "differs on first name" in candidate.locator(".summary").inner_text().lower()
        _shot(page, "case-runner-up-reviewer")


def test_auditor_verifies_looks_up_proofs_and_browses_entries_without_personal_data(
    site: Site, browser: Any
) -> None:
    held = sorted(site.review)[0]
    with _signed_in(browser, site, "auditor") as page:
        page.get_by_role("link", name="Audit log").click()
        page.get_by_role("button", name="Verify now").click()
        verified = page.locator("#verified").inner_text()
        assert verified.startswith("Verified at 20") and " UTC" in verified
        root = page.locator("#root").inner_text()
        assert root in page.locator("#checkpoint").inner_text()  # base64, as in the checkpoint
        assert "(the agency)" in page.locator("#checkpoints").inner_text()
        _shot(page, "audit-verified-auditor")
        page.get_by_label("Request id").fill(held)
        page.get_by_role("button", name="Look up").click()
        assert page.locator(".proof").count() >= 1
        assert "included" in page.locator(".proof").first.inner_text()
        _shot(page, "audit-proof-auditor")
        page.goto(f"{site.base}/web/audit/entries?event_type=disclosure")
        kinds = set(page.locator("#entries tbody td:nth-child(3)").all_inner_texts())
        assert kinds == {"disclosure"}
        _shot(page, "audit-entries-auditor")
        with page.expect_download() as dl:
            page.goto(f"{site.base}/web/audit")
            page.get_by_role("link", name="Download the export (JSON)").click()
        doc = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
        assert doc["entries"] and doc["checkpoints"]
        page.get_by_role("link", name="Record of disclosures").click()
        assert "TIN" not in page.locator("#disclosures thead").inner_text()
        _shot(page, "disclosures-auditor")
        seen = page.locator("main").inner_text()
        page.goto(f"{site.base}/web/decisions/{held}")
        assert page.locator("#request").count() == 0
        seen += page.locator("main").inner_text()
        _shot(page, "why-auditor")
    assert "another house on the same street" not in seen  # no reviewer's note
    truth = _persons(site)
    leaked = sorted(v for v in truth if v in seen)
    assert not leaked, f"{len(leaked)} personal values shown to an auditor"


def test_transparency_reports_are_published_by_post_within_budget_and_read_by_anyone(
    site: Site, browser: Any
) -> None:
    year = str(datetime.now(UTC).year)
    budgets = "#budgets tbody tr"
    with _signed_in(browser, site, "admin") as page:
        page.get_by_role("link", name="Published transparency reports").click()  # home card
        page.wait_for_url("**/web/transparency")
        row = page.locator(budgets, has=page.locator("td", has_text=year)).first
        before = float(row.locator("td.remaining").inner_text())
        assert before > 0.3
        page.get_by_label("Year").fill(year)
        page.get_by_label("Privacy loss to spend (epsilon)").fill("0.3")
        page.get_by_role("button", name="Publish (spends budget)").click()
        page.wait_for_url("**/web/transparency?published=*")
        fresh = page.url.rsplit("=", 1)[1]
        assert page.locator("#releases").inner_text().count("admin-one") >= 1
        row = page.locator(budgets, has=page.locator("td", has_text=year)).first
        left = float(row.locator("td.remaining").inner_text())
        assert left == pytest.approx(before - 0.3)
        # more than is left: refused in words, nothing spent
        page.get_by_label("Year").fill(year)
        page.get_by_label("Privacy loss to spend (epsilon)").fill(f"{left + 0.05:g}")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Publish (spends budget)").click()
        answer = posted.value
        assert answer.status == 409
        error = page.locator("#publish-error").inner_text()
        assert "would overspend the privacy budget" in error and "nothing was written" in error
        row = page.locator(budgets, has=page.locator("td", has_text=year)).first
        assert float(row.locator("td.remaining").inner_text()) == pytest.approx(left)
        _shot(page, "transparency-admin")
    # published releases are public: no sign-in, reading spends nothing, no form to spend
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page = ctx.new_page()
        page.goto(f"{site.base}/web/login")
        page.get_by_role("link", name="transparency reports", exact=True).click()
        assert page.locator("#publish").count() == 0
        assert "admin-one" not in page.locator("main").inner_text()  # no staff names
        _shot(page, "transparency-public")
        page.get_by_role("link", name=f"report {fresh} ({year}) as a page").click()
        page.wait_for_url(f"**/web/transparency/{fresh}")
        body = page.locator("body").inner_text()
        assert f"Transparency report {year}" in body and "epsilon" in body.lower()
        _shot(page, "transparency-report-public")
        with page.expect_download() as dl:
            page.get_by_role("link", name="Download this report as JSON").click()
        doc = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
        assert doc["year"] == int(year) and doc["epsilon"] == pytest.approx(0.3)
        page.goto(f"{site.base}/web/transparency")
        row = page.locator(budgets, has=page.locator("td", has_text=year)).first
        assert float(row.locator("td.remaining").inner_text()) == pytest.approx(left)
        posted_anon = page.request.post(
            f"{site.base}/web/transparency", form={"year": year, "epsilon": "0.01"},
            max_redirects=0,
        )  # fmt: skip
        assert posted_anon.status == 303 and posted_anon.headers["location"] == "/web/login"
    finally:
        ctx.close()
    with _signed_in(browser, site, "auditor") as page:
        page.get_by_role("link", name="Transparency report", exact=True).click()
        assert page.locator("#publish").count() == 0  # auditors read; they do not spend
        assert f"report {fresh} ({year}) as a page" in page.locator("#releases").inner_text()


def _persons(site: Site) -> set[str]:
    """Names and street lines the agency sent, and the TINs matched (4+ characters)."""
    out: set[str] = set()
    with site.requests.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.update(row[k].strip() for k in ("first_name", "last_name", "address_line1"))
    for d in site.decisions:
        best = ((d.get("match") or {}).get("evidence") or {}).get("best") or {}
        out.add(str(best.get("tin", "")))
    return {v for v in out if len(v) >= 4}


def test_agency_reads_plain_refusals_and_downloads_its_signed_response(
    site: Site, browser: Any
) -> None:
    mine = [d for d in site.decisions if d["status"] == "DISCLOSED"]
    with _signed_in(browser, site, "agency") as page:
        # submitting from the page: the same signed batch again is recognised, not re-queued
        page.get_by_role("link", name="Batches", exact=True).click()
        batch = site.requests.parent
        page.get_by_label("manifest.json").set_input_files(str(batch / "manifest.json"))
        page.get_by_label("requests.csv").set_input_files(str(batch / "requests.csv"))
        page.get_by_role("button", name="Submit the batch").click()
        page.wait_for_url(f"**/web/batches/{site.batch_id}?again=1")
        assert "already received" in page.locator("#again").inner_text()
        page.goto(f"{site.base}/web")
        page.get_by_role("link", name=site.batch_id).first.click()
        page.wait_for_url(f"**/web/batches/{site.batch_id}")
        assert page.locator("#decisions a[href^='/web/decisions/']").count() == 0
        text = page.locator("#decisions").inner_text()
        assert "26 U.S.C." in text  # the clause in words, not in a tooltip
        _shot(page, "batch-agency")
        with page.expect_download() as dl:
            page.get_by_role("link", name="response.jsonl").click()
        lines = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(mine)
        assert {json.loads(x)["request_id"] for x in lines} == {d["request_id"] for d in mine}
        with page.expect_download() as dl:
            page.get_by_role("link", name="manifest (signed by the tax agency)").click()
        manifest = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
        assert manifest.get("signature")
        response = page.goto(f"{site.base}/web/batches/{site.batch_id}")
        assert response is not None
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert response.headers["x-frame-options"] == "DENY"


def test_users_add_prints_token_once_and_stores_its_hash(
    site: Site, world: World, tmp_path: Path
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
    # the served store knows a user by the token printed for it, and by nothing close to it
    officer = site.tokens["officer"]
    for bearer, status in (
        (officer, 200),
        (officer[:-1] + ("x" if officer[-1] != "x" else "y"), 401),
    ):
        req = urllib.request.Request(
            f"{site.base}/v1/me", headers={"Authorization": f"Bearer {bearer}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                got, body = r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            got, body = e.code, {}
        assert got == status
        if status == 200:
            assert body == {"name": "officer-one", "role": "officer", "agency": None}
