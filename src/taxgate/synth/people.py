"""Who each request asks about: real taxpayers (with noise), Jr/Sr members, non-taxpayers,
and look-alikes that must not be disclosed. Fills the person and period fields, column-wise.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from taxgate.synth import geo, sample
from taxgate.synth.names import FIRST, LAST, POPULATIONS, nicknames_for, population_of_surname
from taxgate.synth.noise import NOISE, noise_columns
from taxgate.synth.part import Part, empty

PERSON_FIELDS = (
    "first_name", "middle_name", "last_name", "suffix",
    "address_line1", "address_line2", "city", "state", "zip",
)  # fmt: skip
# Ground-truth noise tags, in the order they are listed: bit b of a row's tag mask.
TAGS: tuple[str, ...] = ("old_address", *(tag for tag, _, _ in NOISE), "with_dob")
OLD_BIT, DOB_BIT = 1, 1 << (len(TAGS) - 1)


def tag_texts(bits: np.ndarray) -> list[str]:
    """Each row's tag mask as ``tag;tag`` (``none`` when empty)."""
    if len(bits) == 0:
        return []
    uniq, inv = np.unique(bits, return_inverse=True)
    texts = np.array(
        [";".join(t for b, t in enumerate(TAGS) if int(u) >> b & 1) or "none" for u in uniq],
        dtype=object,
    )
    return list(texts[inv.ravel()].tolist())


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


def taxpayer_part(
    rows: pa.Table,
    periods: list[str],
    old: np.ndarray,
    kind: str,
    noisy: bool,
    rng: np.random.Generator,
    rnd: random.Random,
) -> tuple[Part, list[str]]:
    """Requests for the record rows ``rows`` (PERSON_COLUMNS), with their periods.

    Returns the part (status DISCLOSED, tin set) and each row's true date of birth.
    """
    n = rows.num_rows
    p = empty(n, kind, "DISCLOSED")
    for c in PERSON_FIELDS:
        p.cols[c] = rows[c].to_pylist()
    dob: list[str] = rows["dob"].to_pylist()
    with_dob = rng.random(n) < (0.8 if kind == "jr_sr" else 0.5)
    p.cols["date_of_birth"] = np.where(with_dob, np.array(dob, dtype=object), "").tolist()
    p.cols["tax_periods"] = periods
    p.tin = rows["tin"].to_pylist()
    bits: np.ndarray = np.where(old, OLD_BIT, 0) | np.where(with_dob, DOB_BIT, 0)
    if noisy:
        mild = np.full(n, kind == "jr_sr")
        bits |= noise_columns(p.cols, np.arange(n), mild, rng, rnd) << 1
    p.noise = tag_texts(bits)
    return p, dob


def _shift_years(iso: str, years: int) -> str:
    d = date.fromisoformat(iso)
    return (d + timedelta(days=round(365.25 * years))).isoformat()


def lone_partner(p: Part, dob: list[str], rnd: random.Random) -> None:
    """Turn requests for lone Jr/Sr holders into their namesake partner at the same address
    (born 25-30 years apart): not a taxpayer."""
    suffix, birth = p.cols["suffix"], p.cols["date_of_birth"]
    for i in range(len(p)):
        gap = 25 + rnd.randrange(6)
        if suffix[i] == "Sr":
            suffix[i], birth[i] = "Jr", _shift_years(dob[i], gap)
        else:
            suffix[i], birth[i] = "Sr", _shift_years(dob[i], -gap)
    n = len(p)
    p.kind, p.status, p.tin, p.noise = (
        ["hard_negative"] * n, ["NO_MATCH"] * n, [""] * n, ["jr_sr_partner"] * n
    )  # fmt: skip


def set_address(p: Part, i: int, addr: tuple[str, str, str, str, str]) -> None:
    for c, v in zip(("address_line1", "address_line2", "city", "state", "zip"), addr, strict=True):
        p.cols[c][i] = v


def random_dob(rnd: random.Random) -> str:
    return (date(1950, 1, 1) + timedelta(days=rnd.randrange(52 * 365))).isoformat()


def non_taxpayer_part(
    n: int, common: list[tuple[str, str]], valid: list[int], rnd: random.Random
) -> Part:
    """People not in the records; half share a very common full name held by taxpayers."""
    p = empty(n, "non_taxpayer", "NO_MATCH")
    first, last, dob, periods = (
        p.cols["first_name"], p.cols["last_name"], p.cols["date_of_birth"], p.cols["tax_periods"]
    )  # fmt: skip
    for i in range(n):
        if common and i % 2 == 0:
            first[i], last[i] = common[rnd.randrange(len(common))]
        else:
            pop = POPULATIONS[rnd.randrange(len(POPULATIONS))]
            firsts = FIRST[pop][rnd.randrange(2)]
            first[i] = firsts[rnd.randrange(len(firsts))]
            last[i] = LAST[pop][rnd.randrange(len(LAST[pop]))]
        if rnd.random() < 0.5:
            dob[i] = random_dob(rnd)
            p.noise[i] = "with_dob"
        periods[i] = format_periods(pick_years(valid, rnd), rnd)
    return p


def family_outsider_part(
    fams: list[sample.Family], n: int, valid: list[int], rnd: random.Random
) -> Part:
    """A first name no member has (nor a nickname of one), at a family's address."""
    rows: list[tuple[str, str, tuple[str, str, str, str, str], str, str, str]] = []
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
        first = options[rnd.randrange(len(options))]
        periods = format_periods(pick_years(years, rnd), rnd)
        dob, tags = "", "family_outsider"
        if rnd.random() < 0.5:
            dob, tags = random_dob(rnd), "family_outsider;with_dob"
        rows.append((first, f.last_name, f.address, periods, dob, tags))
    p = empty(len(rows), "hard_negative", "NO_MATCH")
    for i, (first, last, addr, periods, dob, tags) in enumerate(rows):
        p.cols["first_name"][i], p.cols["last_name"][i] = first, last
        set_address(p, i, addr)
        p.cols["tax_periods"][i], p.cols["date_of_birth"][i], p.noise[i] = periods, dob, tags
    return p


def relocate_unused(con: duckdb.DuckDBPyConnection, p: Part, rng: np.random.Generator) -> None:
    """Give each request of ``p`` a fresh address at which no taxpayer of its surname filed."""
    todo = list(range(len(p)))
    for _ in range(20):
        if not todo:
            return
        a = geo.random_addresses(rng, len(todo))
        fresh = zip(
            a.line1.to_pylist(), a.line2.to_pylist(), a.city.to_pylist(),
            a.state.to_pylist(), a.zip.to_pylist(), strict=True,
        )  # fmt: skip
        for i, addr in zip(todo, fresh, strict=True):
            set_address(p, i, addr)
        cols = p.cols
        hits = sample.used_at(
            con,
            [cols["last_name"][i] for i in todo],
            [cols["address_line1"][i] for i in todo],
            [cols["zip"][i] for i in todo],
        )
        todo = [todo[j] for j in sorted(hits)]
