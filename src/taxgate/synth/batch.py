"""Write a synthetic request batch (``requests.csv`` + unsigned ``manifest.json``) and its truth.

Kinds (shares of the requested count): ``taxpayer`` ~50% (real taxpayers,
realistic noise, DISCLOSED), ``jr_sr`` ~3% (one of a Jr/Sr pair at one
address), ``non_taxpayer`` ~12% (NO_MATCH), ``hard_negative`` ~5% (look-alikes:
the non-filing Jr/Sr namesake, a taxpayer's name at an address never used, a
family's address with a first name no member has; NO_MATCH), ``defect`` ~30%
(exactly one planted rule failure each; REJECTED).
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from taxgate.errors import UsageError
from taxgate.synth import defects, people, periods, sample
from taxgate.synth.part import Part, concat
from taxgate.synth.reasons import VALID_STATUTES, ReasonMaker, case_number, officer_name
from taxgate.types import REQUEST_COLUMNS

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
    official_title: str = "Director",
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
        drafts,
        order,
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
) -> Part:
    lo, hi = 2020, min(2024, today.year - 1)
    width = hi - lo + 1
    valid = list(range(lo, hi + 1))
    summ = sample.summary(con)
    window = (summ.mask >> (lo - sample.BASE_YEAR)) & ((1 << width) - 1)
    eligible = np.flatnonzero(~summ.has_suffix & (window != 0))
    if len(eligible) == 0:
        raise UsageError("the records hold no taxpayer who filed in a valid year")
    n_lone = n_fam = p.hard_negative // 3
    n_def = len(p.defects)
    need = p.taxpayer + n_def + p.hard_negative
    picks = np.resize(eligible[rng.permutation(len(eligible))], need)  # repeats if world small
    pairs, lone = sample.jr_sr(con)
    jr_pick = [
        pairs[int(i)][int(rng.integers(0, 2))]
        for i in (rng.integers(0, 1 << 30, p.jr_sr) % max(1, len(pairs)) if pairs else [])
    ]
    lone_pick = [lone[int(i)] for i in rng.integers(0, 1 << 30, n_lone) % max(1, len(lone))]
    lone_pick = lone_pick if lone else []

    def index(tins: list[str]) -> np.ndarray:
        found = pc.index_in(pa.array(tins, pa.string()), value_set=summ.tin)
        return np.asarray(found.to_numpy(zero_copy_only=False), np.int64)

    segments = (
        ("taxpayer", picks[: p.taxpayer], True),
        ("jr_sr", index(jr_pick), True),
        ("lone", index(lone_pick), False),
        ("rest", picks[p.taxpayer :], False),
    )
    idx = np.concatenate([s[1] for s in segments]).astype(np.int64)
    noisy = np.concatenate([np.full(len(s[1]), s[2]) for s in segments])
    filed = window[idx]
    want_old = noisy & (rng.random(len(idx)) < 0.4)
    older = _older(con, summ.tin, idx, filed, want_old, lo, width)
    ch = periods.choose(filed, older, want_old, lo, width, rng)
    keep = np.flatnonzero(ch.ok)
    rows = sample.fetch(con, summ.tin.take(pa.array(idx[keep])), lo + ch.slot[keep])
    text = [ch.text[i] for i in keep.tolist()]
    bounds = np.searchsorted(keep, np.cumsum([0] + [len(s[1]) for s in segments]))
    parts: dict[str, tuple[Part, list[str]]] = {}
    for (name, _, noisy_seg), a, b in zip(segments, bounds[:-1], bounds[1:], strict=True):
        kind = "defect" if name == "rest" else "hard_negative" if name == "lone" else name
        parts[name] = people.taxpayer_part(
            rows.slice(a, b - a), text[a:b], ch.old[keep[a:b]], kind, noisy_seg, rng, rnd
        )
    lone_part, lone_dob = parts["lone"]
    people.lone_partner(lone_part, lone_dob, rnd)
    recent = max(y for y in valid if np.any(summ.mask & (1 << (y - sample.BASE_YEAR))))
    limit = max(10, 3 * n_fam)
    fams = sample.families(con, limit, recent, len(summ.mask) // (8 * limit))
    fam = people.family_outsider_part(fams, n_fam, valid, rnd)
    rest = parts["rest"][0]
    n_wrong = p.hard_negative - len(lone_part) - len(fam)
    wrong = rest.select(list(range(n_wrong)))
    dfs = rest.select(list(range(n_wrong, n_wrong + n_def)))
    wrong.kind, wrong.status, wrong.codes, wrong.tin, wrong.noise = (
        ["hard_negative"] * n_wrong, ["NO_MATCH"] * n_wrong, ["M-ADDRESS"] * n_wrong,
        [""] * n_wrong, ["address_never_used"] * n_wrong,
    )  # fmt: skip
    common = sample.common_names(con, recent)
    non = people.non_taxpayer_part(p.non_taxpayer, common, valid, rnd)
    moved = concat([non, wrong])
    people.relocate_unused(con, moved, rng)
    _plant(dfs, p, today, rnd)
    return concat([parts["taxpayer"][0], parts["jr_sr"][0], lone_part, fam, moved, dfs])


def _older(
    con: duckdb.DuckDBPyConnection,
    tins: pa.Array,
    idx: np.ndarray,
    filed: np.ndarray,
    want_old: np.ndarray,
    lo: int,
    width: int,
) -> np.ndarray:
    """Per request wanting an older address: the filed years whose address differs from the
    latest filed year's (0 for the others)."""
    t = periods.tables(width)
    older = np.zeros(len(idx), np.int64)
    ask = np.flatnonzero(want_old & (t.pop[filed] >= 2))
    if len(ask) == 0:
        return older
    uniq, inv = np.unique(idx[ask], return_inverse=True)
    h = sample.address_hashes(con, tins.take(pa.array(uniq)), lo, width)[inv.ravel()]
    latest = h[np.arange(len(ask)), t.high[filed[ask]]]
    f = filed[ask]
    for s in range(width):
        older[ask] |= (((f >> s) & 1) * (h[:, s] != latest)).astype(np.int64) << s
    return older


def _plant(dfs: Part, p: Plan, today: date, rnd: random.Random) -> None:
    """Make ``dfs`` the defects of the plan (early edits applied now, late ones later)."""
    # boilerplate groups go to one-word first and last names, so that the template's text
    # is identical once the rule replaces each request's own names
    first, last = dfs.cols["first_name"], dfs.cols["last_name"]
    one_word = np.array([first[j].isalpha() and last[j].isalpha() for j in range(len(dfs))])
    simple = np.argsort(~one_word, kind="stable").tolist()
    taken = dfs.select(simple)
    dfs.cols, dfs.tin = taken.cols, taken.tin
    boiler = iter(g for g, size in enumerate(p.boilerplate_groups) for _ in range(size))
    names = sorted(p.defects, key=lambda n: n != "reason_boilerplate")
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        i = seen[name] = seen.get(name, -1) + 1
        dfs.kind[j], dfs.status[j], dfs.defect[j], dfs.noise[j] = "defect", "REJECTED", name, name
        if name in defects.GROUP_DEFECTS:
            dfs.codes[j] = defects.GROUP_DEFECTS[name]
        else:
            dfs.codes[j] = defects.SINGLE_DEFECTS[name][0]
            if name not in defects.LATE:
                defects.SINGLE_DEFECTS[name][1](dfs.row(j), rnd, today)
        if name == "reason_boilerplate":
            dfs.boilerplate[j] = next(boiler)
        elif name == "engagement_case":  # co-defendants above the per-case cap: a person decides
            dfs.fixed_case[j] = f"flood:{i // CASE_FLOOD}"
            dfs.status[j] = "PENDING_REVIEW"
        elif name == "engagement_officer":
            dfs.fixed_officer[j] = True
            dfs.fixed_case[j] = f"officer:{i}"


def _assign(d: Part, seed: int, today: date, rnd: random.Random, rng: np.random.Generator) -> None:
    """Cases (1-3 requests), officers (~1 per 40 requests), statutes, reasons, info; then the
    defects that edit those."""
    n = len(d)
    n_officers = max(1, math.ceil(n / REQUESTS_PER_OFFICER))
    fixed = np.array([c != "" for c in d.fixed_case], bool)
    perm = rng.permutation(n)
    free = perm[~fixed[perm]]
    sizes = 1 + rng.choice(3, size=len(free), p=[0.5, 0.3, 0.2])
    case_k = int(np.searchsorted(np.cumsum(sizes), len(free), side="left")) + 1 if len(free) else 0
    case_of = np.zeros(n, np.int64)
    case_of[free] = np.repeat(np.arange(case_k), sizes[:case_k])[: len(free)]
    named: dict[str, int] = {}
    for i in np.flatnonzero(fixed).tolist():
        case_of[i] = named.setdefault(d.fixed_case[i], case_k + len(named))
    years = tuple(range(max(2021, today.year - 3), today.year + 1))
    n_cases = case_k + len(named)
    cases = np.array(
        [case_number(seed, c, years[c % len(years)]) for c in range(n_cases)], dtype=object
    )
    officers = np.array([officer_name(seed, o) for o in range(n_officers)], dtype=object)
    flood = np.array(d.fixed_officer, bool)
    d.cols["case_number"] = cases[case_of].tolist()
    d.cols["officer"] = np.where(
        flood, officer_name(seed, n_officers + 1), officers[case_of % n_officers]
    ).tolist()
    maker = ReasonMaker.for_seed(seed, tuple(y for y in years if y < today.year) or years)
    statute_pick = rng.integers(0, len(VALID_STATUTES), n)
    info_pick = rng.integers(0, len(_INFO_CHOICES), n)
    order = rng.permutation(n)  # the k-th request drawn is order[k]
    k_of = np.empty(n, np.int64)
    k_of[order] = np.arange(n)
    statute_of = statute_pick[k_of]
    d.cols["statute"] = np.array([s for s, _ in VALID_STATUTES], object)[statute_of].tolist()
    d.cols["info_requested"] = np.array(_INFO_CHOICES, object)[info_pick[k_of]].tolist()
    conduct = [VALID_STATUTES[s][1] for s in statute_of.tolist()]
    reason = maker.reasons(k_of, conduct)
    first, last = d.cols["first_name"], d.cols["last_name"]
    for i, g in enumerate(d.boilerplate):
        if g >= 0:
            template = defects.BOILERPLATE_TEMPLATES[g % 3]
            reason[i] = template.format(first=first[i], last=last[i])
    d.cols["reason"] = reason
    uses: dict[tuple[str, str], int] = {}
    for i, name in enumerate(d.defect):
        if name in defects.LATE:
            defects.SINGLE_DEFECTS[name][1](d.row(i), rnd, today)
            _placeholder(d, i, uses)


def _placeholder(d: Part, i: int, uses: dict[tuple[str, str], int]) -> None:
    """A few missing case numbers / officers are written as placeholders (at most two each)."""
    for defect, field, options in (
        ("case_missing", "case_number", defects.CASE_PLACEHOLDERS),
        ("officer_missing", "officer", defects.OFFICER_PLACEHOLDERS),
    ):
        if d.defect[i] == defect:
            for value in options:
                if uses.get((field, value), 0) < 2:
                    uses[(field, value)] = uses.get((field, value), 0) + 1
                    d.cols[field][i] = value
                    return


def _write(
    d: Part,
    order: np.ndarray,
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
    n = len(d)
    ids = pa.array([f"{batch_id}-{k:07d}" for k in range(1, n + 1)], pa.string())
    take = pa.array(order)
    d.cols["request_id"] = []
    requests = pa.table(
        {c: ids if c == "request_id" else pa.array(d.cols[c], pa.string()).take(take)
         for c in REQUEST_COLUMNS}
    )  # fmt: skip
    pacsv.write_csv(requests, out_dir / "requests.csv")
    truth_values = (d.kind, d.tin, d.status, d.codes, d.noise)
    truth_table = pa.table(
        [ids, *(pa.array(v, pa.string()).take(take) for v in truth_values)],
        names=list(TRUTH_COLUMNS),
    )
    pacsv.write_csv(truth_table, truth)
    by_kind = dict.fromkeys(KINDS, 0)
    for kind in d.kind:
        by_kind[kind] += 1
    if progress is not None:
        progress(n)
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
    return BatchStats(requests=n, by_kind=by_kind)
