"""Write a synthetic request batch (``requests.csv`` + unsigned ``manifest.json``) and its truth.

Kinds (shares of the requested count): ``taxpayer`` ~50% (real taxpayers,
realistic noise, DISCLOSED), ``jr_sr`` ~3% (one of a Jr/Sr pair at one
address), ``non_taxpayer`` ~12% (NO_MATCH), ``hard_negative`` ~5% (look-alikes:
the non-filing Jr/Sr namesake, a taxpayer's name at an address never used, a
family's address with a first name no member has; NO_MATCH), ``defect`` ~30%
(exactly one planted rule failure each; REJECTED).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np

from taxgate.errors import UsageError
from taxgate.model import REQUEST_COLUMNS
from taxgate.synth import defects, people, sample
from taxgate.synth.people import Draft
from taxgate.synth.reasons import VALID_STATUTES, ReasonMaker, case_number, officer_name

MIN_REQUESTS = 60
ENGAGEMENT_OFFICER_FROM = 4000  # plant the officer behind 210 cases only from this size up
OFFICER_CASES = 210
CASE_FLOOD = 12
REQUESTS_PER_OFFICER = 40
TRUTH_COLUMNS = ("request_id", "kind", "tin", "expected_status", "expected_codes", "noise")
INFO_FIELDS = (
    "tin", "first_name", "last_name", "employer_name", "employer_ein", "wages", "audit_status",
    "balance_due", "filing_status", "adjusted_gross_income", "phone", "dob", "dependents",
)  # fmt: skip
_INFO_CHOICES: tuple[str, ...] = tuple(
    ";".join(("last_known_address", *extra))
    for n in range(4)
    for extra in itertools.combinations(INFO_FIELDS, n)
)
KINDS = ("taxpayer", "jr_sr", "non_taxpayer", "hard_negative", "defect")


@dataclass(frozen=True)
class BatchStats:
    """What `write_batch` wrote: the number of requests and how many of each kind."""

    requests: int
    by_kind: dict[str, int]


@dataclass(frozen=True)
class Plan:
    """How many requests of each kind, and the defects to plant (one name per request)."""

    taxpayer: int
    jr_sr: int
    non_taxpayer: int
    hard_negative: int
    defects: tuple[str, ...]
    boilerplate_groups: tuple[int, ...]


def plan(requests: int) -> Plan:
    """Split ``requests`` into kinds; every kind and every defect is present from 60 up."""
    if requests < MIN_REQUESTS:
        raise UsageError(f"a synthetic batch needs at least {MIN_REQUESTS} requests")
    jr = max(2, round(0.03 * requests))
    non = max(2, round(0.12 * requests))
    hard = max(3, round(0.05 * requests))
    total_defects = max(len(defects.SINGLE_DEFECTS) + 5 + CASE_FLOOD, round(0.30 * requests))
    planted: list[str] = []
    rest = total_defects
    if requests >= ENGAGEMENT_OFFICER_FROM:
        planted += ["engagement_officer"] * OFFICER_CASES
        rest -= OFFICER_CASES
    budget = rest / (len(defects.SINGLE_DEFECTS) + 2)
    groups = tuple(5 + g % 4 for g in range(max(1, round(budget / 6.5))))
    planted += ["reason_boilerplate"] * sum(groups)
    floods = max(1, round(budget / CASE_FLOOD))
    planted += ["engagement_case"] * (CASE_FLOOD * floods)
    singles = list(defects.SINGLE_DEFECTS)
    left = total_defects - len(planted)
    planted += [singles[i % len(singles)] for i in range(left)]
    taxpayer = requests - jr - non - hard - len(planted)
    return Plan(taxpayer, jr, non, hard, tuple(planted), groups)


def write_batch(
    records: Path,
    out_dir: Path,
    truth: Path,
    requests: int,
    seed: int,
    today: date | None = None,
    agency: str = "DHS-ICE",
    official_name: str = "Morgan Ellery Vance",
    official_title: str = "Deputy Director",
    progress: Callable[[int], None] | None = None,
) -> BatchStats:
    """Draw a request batch against ``records`` and write it, unsigned, with its ground truth.

    Args:
        records: the taxpayer records (CSV or Parquet, as written by ``write_records``).
        out_dir: the batch folder; ``requests.csv`` and ``manifest.json`` are written there.
        truth: the ground-truth CSV (request_id, kind, tin, expected_status,
            expected_codes, noise).
        requests: how many requests (at least 60).
        seed: same seed, records and today -> byte-identical files.
        today: the date the batch is judged on (valid periods end at today.year - 1).
        agency: the requesting agency's code (manifest).
        official_name: the requesting official (manifest).
        official_title: the official's title (manifest).
        progress: called with the number of requests written so far.

    Returns:
        BatchStats(requests, by_kind).

    Raises:
        UsageError: too few requests, or no valid tax year before ``today``.
        InputError: the records file cannot be read.
    """
    today = today or date.today()
    if today.year - 1 < 2020:
        raise UsageError("no tax year between 2020 and the year before `today`")
    p = plan(requests)
    rnd = random.Random(seed)
    rng = np.random.default_rng([seed, 99])
    con = sample.connect(records)
    try:
        drafts = _draw(con, p, today, rnd, rng)
    finally:
        con.close()
    _assign(drafts, seed, today, rnd, rng)
    order = rng.permutation(len(drafts))
    batch_id = f"SYN-{today:%Y%m%d}-{int(rng.integers(0, 1 << 32)):08x}"
    return _write(
        [drafts[i] for i in order],
        out_dir,
        truth,
        batch_id,
        today,
        rng,
        (agency, official_name, official_title),
        progress,
    )


def _draw(
    con: duckdb.DuckDBPyConnection,
    p: Plan,
    today: date,
    rnd: random.Random,
    rng: np.random.Generator,
) -> list[Draft]:
    lo, hi = 2020, min(2024, today.year - 1)
    valid = list(range(lo, hi + 1))
    summ = sample.summary(con)
    window = sum(1 << (y - sample.BASE_YEAR) for y in valid)
    eligible = np.flatnonzero(~summ.has_suffix & ((summ.mask & window) != 0))
    if len(eligible) == 0:
        raise UsageError("the records hold no taxpayer who filed in a valid year")
    n_lone = n_fam = p.hard_negative // 3
    n_def = len(p.defects)
    need = p.taxpayer + n_def + p.hard_negative
    picks = np.resize(eligible[rng.permutation(len(eligible))], need)  # repeats if world small
    pairs, lone = sample.jr_sr(con)
    jr_pick = (
        [
            pairs[int(i)][int(rng.integers(0, 2))]
            for i in rng.integers(0, 1 << 30, p.jr_sr) % max(1, len(pairs))
        ]
        if pairs
        else []
    )  # noqa: E501
    lone_pick = (
        [lone[int(i)] for i in rng.integers(0, 1 << 30, n_lone) % max(1, len(lone))] if lone else []
    )  # noqa: E501
    tins = summ.tin.take(picks).to_pylist()
    rows = sample.rows_of(con, tins + jr_pick + lone_pick)
    g_of = {t: g for g, t in enumerate(rows.tins)}
    groups = [g_of[t] for t in tins]
    hi_lo = (lo, hi)
    out = people.taxpayer_drafts(rows, groups[: p.taxpayer], "taxpayer", *hi_lo, rnd, True)
    out += people.taxpayer_drafts(rows, [g_of[t] for t in jr_pick], "jr_sr", *hi_lo, rnd, True)
    lone_d = people.lone_partner_drafts(rows, [g_of[t] for t in lone_pick], *hi_lo, rnd)
    recent = max(y for y in valid if np.any(summ.mask & (1 << (y - sample.BASE_YEAR))))
    limit = max(10, 3 * n_fam)
    fams = sample.families(con, limit, recent, len(summ.mask) // (8 * limit))
    fam_d = people.family_outsider_drafts(fams, n_fam, valid, rnd)
    n_wrong = p.hard_negative - len(lone_d) - len(fam_d)
    rest = people.taxpayer_drafts(rows, groups[p.taxpayer :], "defect", *hi_lo, rnd, False)
    wrong, dfs = rest[:n_wrong], rest[n_wrong : n_wrong + n_def]
    for d in wrong:
        d.kind, d.status, d.codes, d.tin = "hard_negative", "NO_MATCH", "M-ADDRESS", ""
        d.noise = ["address_never_used"]
    common = sample.common_names(con, recent)
    non = people.non_taxpayer_drafts(p.non_taxpayer, common, valid, rnd)
    people.relocate_unused(con, non + wrong, rng)
    out += lone_d + fam_d + wrong + non
    boiler = iter(g for g, size in enumerate(p.boilerplate_groups) for _ in range(size))
    # boilerplate groups go to one-word first and last names, so that the template's text
    # is identical once the rule replaces each request's own names
    simple = sorted(range(len(dfs)), key=lambda j: not _one_word_names(dfs[j]))
    dfs = [dfs[j] for j in simple]
    names = sorted(p.defects, key=lambda n: n != "reason_boilerplate")
    seen: dict[str, int] = {}
    for name, d in zip(names, dfs, strict=True):
        i = seen[name] = seen.get(name, -1) + 1
        d.kind, d.status, d.defect, d.noise = "defect", "REJECTED", name, [name]
        if name in defects.GROUP_DEFECTS:
            d.codes = defects.GROUP_DEFECTS[name]
        else:
            d.codes = defects.SINGLE_DEFECTS[name][0]
            if name not in defects.LATE:
                defects.SINGLE_DEFECTS[name][1](d.req, rnd, today)
        if name == "reason_boilerplate":
            d.boilerplate = next(boiler)
        elif name == "engagement_case":
            d.fixed_case = f"flood:{i // CASE_FLOOD}"
        elif name == "engagement_officer":
            d.fixed_officer = "flood"
            d.fixed_case = f"officer:{i}"
    return out + dfs


def _one_word_names(d: Draft) -> bool:
    r = d.req
    return r["first_name"].isalpha() and r["last_name"].isalpha()


def _assign(
    drafts: list[Draft], seed: int, today: date, rnd: random.Random, rng: np.random.Generator
) -> None:
    """Cases (1-3 requests), officers (~1 per 40 requests), statutes, reasons, info; then the
    defects that edit those."""
    n_officers = max(1, math.ceil(len(drafts) / REQUESTS_PER_OFFICER))
    free = [i for i in rng.permutation(len(drafts)) if drafts[i].fixed_case is None]
    named: dict[str, int] = {}
    case_k = 0
    case_of: dict[int, int] = {}
    pos = 0
    while pos < len(free):
        size = 1 + int(rng.choice(3, p=[0.5, 0.3, 0.2]))
        for i in free[pos : pos + size]:
            case_of[int(i)] = case_k
        case_k += 1
        pos += size
    for i, d in enumerate(drafts):
        if d.fixed_case is not None:
            case_of[i] = named.setdefault(d.fixed_case, case_k + len(named))
    years = tuple(range(max(2021, today.year - 3), today.year + 1))
    flood_officer = officer_name(seed, n_officers + 1)
    officers = [officer_name(seed, o) for o in range(n_officers)]
    n_cases = case_k + len(named)
    cases = [case_number(seed, c, years[c % len(years)]) for c in range(n_cases)]
    maker = ReasonMaker.for_seed(seed, tuple(y for y in years if y < today.year) or years)
    statute_pick = rng.integers(0, len(VALID_STATUTES), len(drafts)).tolist()
    info_pick = rng.integers(0, len(_INFO_CHOICES), len(drafts)).tolist()
    for k, i in enumerate(rng.permutation(len(drafts)).tolist()):
        d = drafts[i]
        r = d.req
        c = case_of[i]
        r["case_number"] = cases[c]
        r["officer"] = flood_officer if d.fixed_officer else officers[c % n_officers]
        statute, conduct = VALID_STATUTES[statute_pick[k]]
        r["statute"] = statute
        r["info_requested"] = _INFO_CHOICES[info_pick[k]]
        if d.boilerplate >= 0:
            template = defects.BOILERPLATE_TEMPLATES[d.boilerplate % 3]
            r["reason"] = template.format(first=r["first_name"], last=r["last_name"])
        else:
            r["reason"] = maker.reason(k, conduct)
    uses: dict[tuple[str, str], int] = {}
    for d in drafts:
        if d.defect in defects.LATE:
            defects.SINGLE_DEFECTS[d.defect][1](d.req, rnd, today)
            _placeholder(d, uses)


def _placeholder(d: Draft, uses: dict[tuple[str, str], int]) -> None:
    """A few missing case numbers / officers are written as placeholders (at most two each)."""
    for defect, field, options in (
        ("case_missing", "case_number", defects.CASE_PLACEHOLDERS),
        ("officer_missing", "officer", defects.OFFICER_PLACEHOLDERS),
    ):
        if d.defect == defect:
            for value in options:
                if uses.get((field, value), 0) < 2:
                    uses[(field, value)] = uses.get((field, value), 0) + 1
                    d.req[field] = value
                    return


def _write(
    drafts: list[Draft],
    out_dir: Path,
    truth: Path,
    batch_id: str,
    today: date,
    rng: np.random.Generator,
    official: tuple[str, str, str],
    progress: Callable[[int], None] | None,
) -> BatchStats:
    out_dir.mkdir(parents=True, exist_ok=True)
    truth.parent.mkdir(parents=True, exist_ok=True)
    by_kind = dict.fromkeys(KINDS, 0)
    with (
        open(out_dir / "requests.csv", "w", encoding="utf-8", newline="") as rf,
        open(truth, "w", encoding="utf-8", newline="") as tf,
    ):
        rw, tw = csv.writer(rf, lineterminator="\n"), csv.writer(tf, lineterminator="\n")
        rw.writerow(REQUEST_COLUMNS)
        columns = operator.itemgetter(*REQUEST_COLUMNS)
        tw.writerow(TRUTH_COLUMNS)
        for n, d in enumerate(drafts, 1):
            d.req["request_id"] = rid = f"{batch_id}-{n:07d}"
            rw.writerow(columns(d.req))
            tw.writerow([rid, d.kind, d.tin, d.status, d.codes, ";".join(d.noise)])
            by_kind[d.kind] += 1
            if progress is not None and n % 100_000 == 0:
                progress(n)
    if progress is not None:
        progress(len(drafts))
    agency, name, title = official
    submitted = datetime.combine(today, time(9, 0), UTC) + timedelta(
        seconds=int(rng.integers(0, 8 * 3600))
    )
    manifest = {
        "batch_id": batch_id,
        "agency": agency,
        "official": {"name": name, "title": title},
        "submitted_at": submitted.isoformat().replace("+00:00", "Z"),
        "requests_sha256": "",
        "signature": "",
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return BatchStats(requests=len(drafts), by_kind=by_kind)
