"""The public transparency report: noise is really drawn, small counts are banded, and the
year's privacy budget cannot be overspent (on each store, also by concurrent releases);
a refused release writes nothing and spends nothing."""

from __future__ import annotations

import json
import math
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import opendp.prelude as dp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from tests.conftest import World, taxgate

from taxgate.config import PACKAGE_DATA
from taxgate.errors import BudgetError, ConfigError, UsageError
from taxgate.reports.dp import Bands, check_epsilon, release_counts
from taxgate.storage import tables as m
from taxgate.transparency import Budget, load_config, release, spends, spent, year_counts
from taxgate.workspace import Workspace

YEAR = 2031


# ---------------------------------------------------------------- the mechanism


def test_noise_is_applied_and_of_the_stated_size() -> None:
    true = [1000] * 400
    r = release_counts(true, sensitivity=4, epsilon=1.0)
    errors = [n - t for n, t in zip(r.noisy, true, strict=True)]
    assert len(r.noisy) == len(true)
    # discrete Laplace with scale 4: P(noise == 0) is about 0.12, so most cells move
    assert sum(e != 0 for e in errors) > 250
    # the 95% accuracy holds for about 95% of the cells (binomial: 400 draws)
    within = sum(abs(e) <= r.accuracy for e in errors)
    assert 0.88 * len(true) <= within <= len(true)
    # and the noise is centred
    assert abs(sum(errors) / len(errors)) < 1.5
    assert r.scale == pytest.approx(4.0)


def test_spent_epsilon_is_opendps_own_map_and_never_above_what_was_asked() -> None:
    for eps in (0.01, 0.3, 1.0, 2.5):
        r = release_counts([5, 7], sensitivity=4, epsilon=eps)
        assert r.epsilon <= eps + 1e-12
        assert r.epsilon == pytest.approx(eps, rel=1e-6)
        space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
        assert dp.m.make_laplace(*space, scale=r.scale).map(4) == pytest.approx(r.epsilon)


def test_smaller_epsilon_means_more_noise() -> None:
    tight = release_counts([0], sensitivity=4, epsilon=2.0)
    loose = release_counts([0], sensitivity=4, epsilon=0.1)
    assert loose.scale > tight.scale * 10
    assert loose.accuracy > tight.accuracy * 10


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan])
def test_an_unusable_epsilon_is_a_usage_error(bad: float) -> None:
    with pytest.raises(UsageError):
        check_epsilon(bad)


def test_bands_boundaries() -> None:
    b = Bands(below=100, width=25)
    assert [b.band(n) for n in (-40, 0, 24, 25, 49, 99)] == [
        "0–24",
        "0–24",
        "0–24",
        "25–49",
        "25–49",
        "75–99",
    ]
    assert b.band(100) is None and b.show(100) == "100"
    assert b.show(12345) == "12,345"
    # a width that does not divide the threshold: the last band stops below it
    assert Bands(below=10, width=4).band(9) == "8–9"
    # banding switched off
    assert Bands(below=0, width=1).show(3) == "3"


# ---------------------------------------------------------------- the budget


@pytest.fixture
def opened() -> Iterator[list[Workspace]]:
    """Workspaces a test opens, closed after it (no connection outlives its test)."""
    spaces: list[Workspace] = []
    yield spaces
    for ws in spaces:
        ws.close()


def _ws(
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    opened: list[Workspace],
    config: Path | None = None,
) -> Workspace:
    monkeypatch.setenv("TAXGATE_DATABASE_URL", store_url)
    ws = Workspace.open(tmp_path / "w", config=config, user="publisher", origin="test")
    opened.append(ws)
    return ws


def _events(ws: Workspace) -> list[tuple[str, dict[str, object]]]:
    with ws.transaction() as (s, _):
        rows = s.execute(
            select(m.AuditEntry.entry)
            .where(m.AuditEntry.event_type == "transparency_release")
            .order_by(m.AuditEntry.idx)
        ).scalars()
        out = []
        for raw in rows:
            doc = json.loads(raw)
            out.append((doc["outcome"], doc["details"]))
    return out


def test_budget_cannot_be_overspent(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, opened: list[Workspace]
) -> None:
    ws = _ws(tmp_path, store_url, monkeypatch, opened)
    out = tmp_path / "out"
    release(ws, YEAR, 0.4, out / "a.html")
    release(ws, YEAR, 0.4, out / "b.json")
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(BudgetError, match="overspend"):
        release(ws, YEAR, 0.3, out / "c.html")
    assert sorted(p.name for p in out.iterdir()) == before  # nothing written, no temp file
    # exactly up to the budget is allowed, past it nothing
    release(ws, YEAR, 0.2, out / "d.json")
    for eps in (1e-6, 0.5):
        with pytest.raises(BudgetError):
            release(ws, YEAR, eps, out / "e.json")
    assert not (out / "e.json").exists()
    with ws.transaction() as (s, _):
        assert spent(s, YEAR) == pytest.approx(1.0)
        assert [round(x.epsilon, 6) for x in spends(s, YEAR)] == [0.4, 0.4, 0.2]
        # another year has its own budget
        assert spent(s, YEAR + 1) == 0.0
    release(ws, YEAR + 1, 1.0, out / "next.json")
    # every release and every refusal is in the audit log
    events = _events(ws)
    assert [o for o, _ in events] == [
        "success",
        "success",
        "failure",
        "success",
        "failure",
        "failure",
        "success",
    ]
    ok = [d for o, d in events if o == "success"]
    assert [d["epsilon"] for d in ok] == pytest.approx([0.4, 0.4, 0.2, 1.0])
    with ws.transaction() as (s, _):
        indexes = [x.audit_index for x in spends(s)]
    assert len(set(indexes)) == 4


def test_the_spend_row_names_the_file_written(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, opened: list[Workspace]
) -> None:
    import hashlib

    ws = _ws(tmp_path, store_url, monkeypatch, opened)
    target = tmp_path / "t.json"
    release(ws, YEAR, 0.25, target)
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["mechanism"] == "discrete_laplace" and doc["epsilon"] == pytest.approx(0.25)
    with ws.transaction() as (s, _):
        (row,) = spends(s, YEAR)
    assert row.output_sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    assert row.released_by == "publisher" and row.mechanism == "discrete_laplace"


def test_concurrent_releases_cannot_overspend(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, opened: list[Workspace]
) -> None:
    """Six releases of 0.3 race for a budget of 1.0: exactly three may pass."""
    ws0 = _ws(tmp_path, store_url, monkeypatch, opened)
    ws0.store  # noqa: B018 - migrate before the race
    results: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        ws = Workspace.open(tmp_path / "w", user=f"p{i}", origin="test")
        try:
            release(ws, YEAR, 0.3, tmp_path / "race" / f"r{i}.json")
            outcome = "ok"
        except BudgetError:
            outcome = "refused"
        finally:
            ws.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert Counter(results) == {"ok": 3, "refused": 3}
    assert len(list((tmp_path / "race").iterdir())) == 3
    with ws0.transaction() as (s, _):
        assert spent(s, YEAR) == pytest.approx(0.9)


def test_the_yearly_budget_is_configuration(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, opened: list[Workspace]
) -> None:
    config = tmp_path / "config"
    shutil.copytree(PACKAGE_DATA, config)
    (config / "transparency.yaml").write_text(
        "epsilon_per_year: 0.2\nbands: {below: 10, width: 5}\n", encoding="utf-8"
    )
    ws = _ws(tmp_path, store_url, monkeypatch, opened, config)
    with pytest.raises(BudgetError):
        release(ws, YEAR, 0.25, tmp_path / "x.html")
    rep = release(ws, YEAR, 0.2, tmp_path / "x.html")
    assert rep.bands == Bands(below=10, width=5) and rep.year_budget == 0.2
    # the shipped default is 1.0 per calendar year
    assert load_config(PACKAGE_DATA).epsilon_per_year == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "epsilon_per_year: 0\n",
        "epsilon_per_year: -1\n",
        "epsilon_per_year: lots\n",
        "bands: {below: -1, width: 5}\n",
        "bands: {below: 10, width: 0}\n",
        "- a list\n",
    ],
)
def test_a_bad_transparency_configuration_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "transparency.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(tmp_path)


# ---------------------------------------------------------------- over a processed batch


def test_counts_and_pages_over_a_processed_batch(
    world: World, tmp_path: Path, opened: list[Workspace]
) -> None:
    workdir = world.copy_workdir(tmp_path / "w")
    year = datetime.now(UTC).year
    decisions = world.decisions()
    ws = Workspace.open(workdir, user="publisher", origin="test")
    opened.append(ws)
    with ws.transaction() as (s, _):
        counts = year_counts(s, year)
        empty = year_counts(s, year + 1)
        before = year_counts(s, year - 5)
        disclosed_tins = {t for (t,) in s.execute(select(m.Disclosure.tin))}
    manifest = json.loads((world.batch / "manifest.json").read_text(encoding="utf-8"))
    agency = manifest["agency"]
    statuses = Counter(d["status"] for d in decisions)
    assert counts.agencies[agency]["requests"] == len(decisions)
    assert counts.agencies[agency]["disclosures"] == statuses["DISCLOSED"]
    assert counts.agencies[agency]["taxpayers"] == len(disclosed_tins)
    assert {k: v for k, v in counts.outcomes.items() if v} == dict(statuses)
    # a later year: the same rows, all zero; a year before the agency was registered: none
    assert set(empty.agencies) == set(counts.agencies)
    assert not any(empty.vector())
    assert not before.agencies

    rep = release(ws, year, 0.5, tmp_path / "t.json")
    doc = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    (row,) = doc["agencies"]
    assert row["agency"] == agency
    noisy = row["requests"]["noisy"]
    assert abs(noisy - len(decisions)) <= 6 * rep.release.accuracy
    assert row["requests"]["band"] is None and row["requests"]["shown"] == f"{max(noisy, 0):,}"
    true = counts.vector()
    released = [c["noisy"] for c in (row["requests"], row["disclosures"], row["taxpayers"])]
    released += [doc["outcomes"][s]["noisy"] for s in counts.outcomes]
    assert len(released) == len(true)
    # not all equal to the truth: noise was drawn (P(all 9 unchanged) < 1e-12 at scale 8)
    assert released != true

    html = release(ws, year, 0.5, tmp_path / "t.html")
    page = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "discrete Laplace" in page and "ε = 0.5" in page
    assert f"±{html.release.accuracy:.1f}" in page and "95%" in page
    assert "<script" not in page
    # the page never shows the true counts' source rows: no request id appears
    assert not any(d["request_id"] in page for d in decisions)


def test_command_line_refuses_overspending_with_exit_1(world: World, tmp_path: Path) -> None:
    workdir = world.copy_workdir(tmp_path / "w")
    wd = ("--workdir", workdir)
    ok = taxgate(
        "transparency", "--year", YEAR, "--epsilon", 0.9, "--out", tmp_path / "a.json", *wd
    )
    assert "epsilon 0.9" in ok.stdout
    refused = taxgate(
        "transparency",
        "--year",
        YEAR,
        "--epsilon",
        0.2,
        "--out",
        tmp_path / "b.html",
        *wd,
        check=False,
    )
    assert refused.returncode == 1
    assert "overspend" in refused.stderr and "Error" not in refused.stderr
    assert not (tmp_path / "b.html").exists()
    bad = taxgate(
        "transparency",
        "--year",
        YEAR,
        "--epsilon",
        0,
        "--out",
        tmp_path / "c.html",
        *wd,
        check=False,
    )
    assert bad.returncode == 2 and not (tmp_path / "c.html").exists()


def test_ten_tenths_spend_the_whole_budget_and_leave_nothing() -> None:
    spent_ = sum([0.1] * 10)  # 0.9999999999999999 in floats
    year = Budget(YEAR, 1.0, spent_)
    assert year.remaining == 0.0  # not 1.11022e-16
    assert not year.allows(0.1) and not year.allows(1e-6)
    assert Budget(YEAR, 1.0, 0.7).remaining == 0.3 and Budget(YEAR, 1.0, 0.7).allows(0.3)


# ---------------------------------------------------------------- consistency


@given(st.lists(st.integers(-50, 5000), min_size=1, max_size=8))
def test_ordered_counts_are_nondecreasing_non_negative_and_keep_what_was_in_order(
    noisy: list[int],
) -> None:
    from taxgate.reports.dp import ordered

    out = ordered(noisy)
    assert len(out) == len(noisy)
    assert all(0 <= a <= b for a, b in zip(out, out[1:], strict=False)) and min(out) >= 0
    if all(0 <= a <= b for a, b in zip(noisy, noisy[1:], strict=False)) and min(noisy) >= 0:
        assert out == tuple(noisy)
    # pooling only averages: nothing leaves the range the noisy counts span
    assert max(0, min(noisy)) <= min(out) and max(out) <= max(0, max(noisy))
    # the total moves only by rounding and by what was below zero
    assert abs(sum(out) - sum(max(0, v) for v in noisy)) <= len(noisy) + sum(
        -v for v in noisy if v < 0
    )


def test_no_agency_shows_more_taxpayers_than_disclosures_or_disclosures_than_requests() -> None:
    """Before: noise alone made one agency's released taxpayers 200 above its 137
    disclosures. Small true counts under strong noise, many releases: never out of order."""
    from taxgate.reports.transparency import YearCounts, build_report

    counts = YearCounts(
        YEAR,
        {f"A{k}": {"requests": 12, "disclosures": 9, "taxpayers": 9} for k in range(40)},
        {"DISCLOSED": 360, "REJECTED": 120},
    )
    for _ in range(10):
        report = build_report(
            counts, epsilon=0.05, bands=Bands(), generated_at="2031-12-31T00:00:00Z",
            year_budget=1.0, spent_before=0.0,
        )  # fmt: skip
        for cells in report.agencies.values():
            t, d, r = (cells[k].noisy for k in ("taxpayers", "disclosures", "requests"))
            assert 0 <= t <= d <= r
