"""Who each request asks about: real taxpayers (with noise), Jr/Sr members, non-taxpayers,
and look-alikes that must not be disclosed. Fills the person and period fields of drafts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import numpy as np

from taxgate.model import REQUEST_COLUMNS
from taxgate.synth import geo, sample
from taxgate.synth.names import FIRST, LAST, POPULATIONS, nicknames_for, population_of_surname
from taxgate.synth.noise import Req, add_noise


@dataclass(slots=True)
class Draft:
    """A request being built, with its ground truth."""

    req: Req
    kind: str
    tin: str = ""
    status: str = "DISCLOSED"
    codes: str = ""
    noise: list[str] = field(default_factory=list)
    defect: str = ""
    fixed_case: str | None = None
    fixed_officer: str | None = None
    boilerplate: int = -1
    true_dob: str = ""


def empty_request() -> Req:
    return dict.fromkeys(REQUEST_COLUMNS, "")


def format_periods(years: list[int], rnd: random.Random) -> str:
    """``2021;2022`` or, for a contiguous run, sometimes ``2021-2023``."""
    ys = sorted(years)
    if len(ys) >= 2 and ys[-1] - ys[0] + 1 == len(ys) and rnd.random() < 0.5:
        return f"{ys[0]}-{ys[-1]}"
    return ";".join(str(y) for y in ys)


def pick_years(valid: list[int], rnd: random.Random) -> list[int]:
    """A run of 1-3 of the given (sorted) years."""
    u = rnd.random()
    k = min(len(valid), 1 if u < 0.45 else 2 if u < 0.75 else 3)
    s = rnd.randrange(len(valid) - k + 1)
    return valid[s : s + k]


def _fill_person(r: Req, row: dict[str, object], with_dob: bool) -> None:
    for col, src in (
        ("first_name", "first_name"),
        ("middle_name", "middle_name"),
        ("last_name", "last_name"),
        ("suffix", "suffix"),
        ("address_line1", "address_line1"),
        ("address_line2", "address_line2"),
        ("city", "city"),
        ("state", "state"),
        ("zip", "zip"),
    ):
        r[col] = str(row[src] or "")
    r["date_of_birth"] = str(row["dob"] or "") if with_dob else ""


@dataclass(frozen=True)
class Choice:
    """For a draft: which record row gives its address, and its periods."""

    row: int
    periods: list[int]
    old_address: bool


def choose(
    rows: sample.Rows, g: int, lo: int, hi: int, rnd: random.Random, want_old: bool
) -> Choice | None:
    """Periods (a subset of the years the taxpayer filed) and the address row to use."""
    s, c = int(rows.start[g]), int(rows.count[g])
    years = rows.year[s : s + c].tolist()
    if lo <= years[0] and years[-1] <= hi:
        valid = list(range(c))
    else:
        valid = [i for i, y in enumerate(years) if lo <= y <= hi]
    if not valid:
        return None
    if want_old:
        latest = valid[-1]
        older = [i for i in valid if rows.addr_hash[s + i] != rows.addr_hash[s + latest]]
        if older:
            i = older[rnd.randrange(len(older))]
            later = [j for j in valid if j > i]
            extra = later[: rnd.randrange(len(later) + 1)] if later else []
            return Choice(s + i, [years[i]] + [years[j] for j in extra], True)
    picked = pick_years([years[i] for i in valid], rnd)
    last_i = years.index(picked[-1])
    return Choice(s + last_i, picked, False)


def taxpayer_drafts(
    rows: sample.Rows,
    groups: list[int],
    kind: str,
    lo: int,
    hi: int,
    rnd: random.Random,
    noisy: bool,
) -> list[Draft]:
    """One draft per group index (drafts whose taxpayer filed in no valid year are dropped)."""
    choices: list[tuple[int, Choice]] = []
    for g in groups:
        moved = noisy and rnd.random() < 0.4
        ch = choose(rows, g, lo, hi, rnd, moved)
        if ch is not None:
            choices.append((g, ch))
    table = rows.table.take([ch.row for _, ch in choices]).to_pylist()
    out = []
    for (g, ch), row in zip(choices, table, strict=True):
        r = empty_request()
        with_dob = rnd.random() < (0.8 if kind == "jr_sr" else 0.5)
        _fill_person(r, row, with_dob)
        r["tax_periods"] = format_periods(ch.periods, rnd)
        tags: list[str] = ["old_address"] if ch.old_address else []
        if noisy:
            tags += add_noise(r, rnd, mild_only=kind == "jr_sr")
        if with_dob:
            tags.append("with_dob")
        d = Draft(r, kind, tin=rows.tins[g], noise=tags or ["none"], true_dob=str(row["dob"]))
        out.append(d)
    return out


def _shift_years(iso: str, years: int) -> str:
    d = date.fromisoformat(iso)
    return (d + timedelta(days=round(365.25 * years))).isoformat()


def lone_partner_drafts(
    rows: sample.Rows, groups: list[int], lo: int, hi: int, rnd: random.Random
) -> list[Draft]:
    """The Jr/Sr namesake of a lone holder, at the holder's address: not a taxpayer."""
    out = []
    for d in taxpayer_drafts(rows, groups, "hard_negative", lo, hi, rnd, noisy=False):
        r = d.req
        dob = d.true_dob
        gap = 25 + rnd.randrange(6)
        if r["suffix"] == "Sr":
            r["suffix"], r["date_of_birth"] = "Jr", _shift_years(dob, gap)
        else:
            r["suffix"], r["date_of_birth"] = "Sr", _shift_years(dob, -gap)
        out.append(Draft(r, "hard_negative", status="NO_MATCH", noise=["jr_sr_partner"]))
    return out


def fresh_addresses(rng: np.random.Generator, n: int) -> list[tuple[str, str, str, str, str]]:
    a = geo.random_addresses(rng, n)
    return list(
        zip(
            a.line1.to_pylist(),
            a.line2.to_pylist(),
            a.city.to_pylist(),
            a.state.to_pylist(),
            a.zip.to_pylist(),
            strict=True,
        )
    )


def set_address(r: Req, addr: tuple[str, str, str, str, str]) -> None:
    r["address_line1"], r["address_line2"], r["city"], r["state"], r["zip"] = addr


def random_dob(rnd: random.Random) -> str:
    return (date(1950, 1, 1) + timedelta(days=rnd.randrange(52 * 365))).isoformat()


def non_taxpayer_drafts(
    n: int, common: list[tuple[str, str]], valid: list[int], rnd: random.Random
) -> list[Draft]:
    """People not in the records; half share a very common full name held by taxpayers."""
    out = []
    for i in range(n):
        r = empty_request()
        if common and i % 2 == 0:
            r["first_name"], r["last_name"] = common[rnd.randrange(len(common))]
        else:
            pop = POPULATIONS[rnd.randrange(len(POPULATIONS))]
            firsts = FIRST[pop][rnd.randrange(2)]
            r["first_name"] = firsts[rnd.randrange(len(firsts))]
            r["last_name"] = LAST[pop][rnd.randrange(len(LAST[pop]))]
        tags = ["none"]
        if rnd.random() < 0.5:
            r["date_of_birth"] = random_dob(rnd)
            tags = ["with_dob"]
        r["tax_periods"] = format_periods(pick_years(valid, rnd), rnd)
        out.append(Draft(r, "non_taxpayer", status="NO_MATCH", noise=tags))
    return out


def family_outsider_drafts(
    fams: list[sample.Family], n: int, valid: list[int], rnd: random.Random
) -> list[Draft]:
    """A first name no member has (nor a nickname of one), at a family's address."""
    out: list[Draft] = []
    for k in range(n):
        if not fams:
            break
        f = fams[k % len(fams)]
        pool = FIRST[POPULATIONS[population_of_surname(f.last_name)]][rnd.randrange(2)]
        taken = set(f.first_names)
        for m in f.first_names:
            taken.update(nicknames_for(m))
        options = [c for c in pool if c not in taken and not (set(nicknames_for(c)) & taken)]
        years = [y for y in f.years if y in valid]
        if not options or not years:
            continue
        r = empty_request()
        r["first_name"], r["last_name"] = options[rnd.randrange(len(options))], f.last_name
        set_address(r, f.address)
        r["tax_periods"] = format_periods(pick_years(years, rnd), rnd)
        tags = ["family_outsider"]
        if rnd.random() < 0.5:
            r["date_of_birth"] = random_dob(rnd)
            tags.append("with_dob")
        out.append(Draft(r, "hard_negative", status="NO_MATCH", noise=tags))
    return out


def relocate_unused(
    con: duckdb.DuckDBPyConnection, drafts: list[Draft], rng: np.random.Generator
) -> None:
    """Give each draft a fresh address at which no taxpayer of its surname ever filed."""
    todo = list(range(len(drafts)))
    for _ in range(20):
        if not todo:
            return
        for i, addr in zip(todo, fresh_addresses(rng, len(todo)), strict=True):
            set_address(drafts[i].req, addr)
        hits = sample.used_at(
            con,
            [drafts[i].req["last_name"] for i in todo],
            [drafts[i].req["address_line1"] for i in todo],
            [drafts[i].req["zip"] for i in todo],
        )
        todo = [todo[j] for j in sorted(hits)]
