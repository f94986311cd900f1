"""The synthetic taxpayer world, generated in vectorised chunks (pure: numbers in, table out).

A chunk holds whole households: singles, families (shared surname and address,
different first names and birth dates), Jr/Sr pairs at one address and lone
Jr/Sr holders whose namesake does not file. About 15% of households move in
some year, some taxpayers skip some years, and a few very common full names
("María García", "Wei Zhang", "John Smith", ...) are held by many people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from taxgate.synth import geo
from taxgate.synth.names import COMMON_NAMES, FIRST, LAST, MIDDLE, MIDDLE_SHARE, POPULATIONS
from taxgate.types import RECORD_COLUMNS

YEARS: tuple[int, ...] = (2020, 2021, 2022, 2023, 2024)
TIN_BASE = 900_000_000  # synthetic TINs: 9 digits, always starting with 9
TIN_SPACE = 100_000_000

SINGLE, FAMILY, JRSR, LONE = 0, 1, 2, 3
_HH_P = np.array([0.66, 0.27, 0.04, 0.03])
_FAMILY_SIZE_P = np.array([0.55, 0.30, 0.15])  # sizes 2, 3, 4
COMMON_SHARE = 0.03  # of single households
MOVE_SHARE = 0.17  # of households; ~15% of taxpayers show two addresses
FULL_FILER_SHARE = 0.78
_FIRST_STRIDE = 7  # family members' first names sit this far apart in a pool (> 21 names)

#: The optional column that says where a row's date of birth came from (the field
#: catalogue's `source_column` of `dob`): a word of its `value_sources`, or blank.
DOB_SOURCE = "dob_source"
#: Of the taxpayers, by the last digit of the TIN (no random draw, so the rest of the world
#: is the same whatever these shares): 0 -> a Form W-7 the taxpayer filed (taxpayer return
#: information: the date of birth is withheld), 1-3 -> Social Security records, else blank
#: (the catalogue's own category, Social Security records).
_DOB_SOURCE_BY_DIGIT = pa.array(["form_w7", "ssa", "ssa", "ssa", "", "", "", "", "", ""])
RECORD_SCHEMA = pa.schema(
    [
        (c, pa.int32() if c in ("tax_year", "dependents") else pa.string())
        if c not in ("adjusted_gross_income", "wages", "balance_due")
        else (c, pa.int64())
        for c in RECORD_COLUMNS
    ]
    + [(DOB_SOURCE, pa.string())]
)

_FILING = pa.array(
    [
        "single",
        "married_filing_jointly",
        "married_filing_separately",
        "head_of_household",
        "qualifying_surviving_spouse",
    ]
)
_FILING_P = np.array([0.45, 0.33, 0.05, 0.15, 0.02])
_AUDIT = pa.array(["none", "open", "closed"])
_AUDIT_P = np.array([0.96, 0.015, 0.025])
_EMP_A = "Blue Ridge,Sunrise,Pacific,Lone Star,Golden State,Riverbend,Northfield,Summit,Harbor,Keystone,Prairie,Evergreen,Red Rock,Silver Lake,Great Plains,Coastal,Granite,Magnolia,Cascade,Liberty".split(  # noqa: E501
    ","
)
_EMP_B = "Logistics,Foods,Construction,Health,Staffing,Manufacturing,Landscaping,Cleaning Services,Auto Parts,Roofing,Farms,Hospitality,Transport,Home Care,Electric,Plumbing,Packaging,Restaurants,Retail,Security".split(  # noqa: E501
    ","
)
_EMP_C = ("LLC", "Inc", "Corp", "Co", "Group")
EMPLOYERS: tuple[str, ...] = tuple(
    f"{a} {b} {c}" for a in _EMP_A for b in _EMP_B for c in _EMP_C[: 1 + (len(a) + len(b)) % 5]
)
_EMPLOYER = pa.array(("",) + EMPLOYERS)
_EIN = pa.array(
    ("",)
    + tuple(
        f"{10 + (i * 37) % 89:02d}-{(i * 7919 + 1234567) % 10_000_000:07d}"
        for i in range(len(EMPLOYERS))
    )
)


def _pools() -> tuple[pa.Array, np.ndarray, np.ndarray, pa.Array, np.ndarray, np.ndarray]:
    first: list[str] = []
    f_off = np.zeros((len(POPULATIONS), 2), np.int64)
    f_len = np.zeros((len(POPULATIONS), 2), np.int64)
    middle: list[str] = [""]
    m_off = np.zeros((len(POPULATIONS), 2), np.int64)
    m_len = np.zeros((len(POPULATIONS), 2), np.int64)
    for p, pop in enumerate(POPULATIONS):
        for s in (0, 1):
            f_off[p, s], f_len[p, s] = len(first), len(FIRST[pop][s])
            first.extend(FIRST[pop][s])
            m_off[p, s], m_len[p, s] = len(middle), len(MIDDLE[pop][s])
            middle.extend(MIDDLE[pop][s])
    first.extend(c[2] for c in COMMON_NAMES)
    return pa.array(first), f_off, f_len, pa.array(middle), m_off, m_len


_FIRST, _F_OFF, _F_LEN, _MIDDLE, _M_OFF, _M_LEN = _pools()
_COMMON_FIRST0 = len(_FIRST) - len(COMMON_NAMES)
_HISP = LAST["hispanic"]
_LAST_LIST: list[str] = [s for pop in POPULATIONS for s in LAST[pop]]
_L_OFF = np.cumsum([0] + [len(LAST[p]) for p in POPULATIONS[:-1]])
_L_LEN = np.array([len(LAST[p]) for p in POPULATIONS])
_DOUBLE0 = len(_LAST_LIST)
_LAST_LIST += [f"{a}{sep}{b}" for sep in (" ", "-") for a in _HISP for b in _HISP]
_COMMON_LAST0 = len(_LAST_LIST)
_LAST_LIST += [c[3] for c in COMMON_NAMES]
_LAST = pa.array(_LAST_LIST)
_COMMON_POP = np.array([POPULATIONS.index(c[0]) for c in COMMON_NAMES])
_COMMON_SEX = np.array([c[1] for c in COMMON_NAMES])
_SUFFIX = pa.array(["", "Sr", "Jr"])

_DAY = np.datetime64("1970-01-01", "D")


def _days(iso: str) -> int:
    return int((np.datetime64(iso, "D") - _DAY).astype(np.int64))


def _zipf_index(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """Index in [0, size) per element, lower indices more frequent (~1/(i+3))."""
    u = rng.random(len(sizes))
    # inverse CDF of a continuous 1/(x+3) density on [0, size)
    idx = np.floor(3.0 * ((sizes + 3.0) / 3.0) ** u - 3.0).astype(np.int64)
    out: np.ndarray = np.minimum(idx, sizes - 1)
    return out


def tin_params(seed: int) -> tuple[int, int]:
    """The affine permutation (a, b) mapping taxpayer index i to TIN 9xxxxxxxx."""
    rng = np.random.default_rng([seed, 7_777])
    a = int(rng.integers(1, TIN_SPACE // 10)) * 10 + int(rng.choice([1, 3, 7, 9]))
    return a, int(rng.integers(0, TIN_SPACE))


def generate_chunk(seed: int, chunk: int, first_index: int, n: int) -> pa.Table:
    """Taxpayers ``first_index .. first_index + n - 1`` of the world ``seed``, all their rows.

    Args:
        seed: the world's seed.
        chunk: the chunk number (its own random stream).
        first_index: global index of the chunk's first taxpayer (TINs are unique by index).
        n: taxpayers in the chunk.

    Returns:
        A table with RECORD_SCHEMA, one row per taxpayer per filed year, by taxpayer then year.
    """
    rng = np.random.default_rng([seed, chunk])
    # households
    hh_type = rng.choice(4, size=n, p=_HH_P)
    sizes = np.where(hh_type == FAMILY, 2 + rng.choice(3, size=n, p=_FAMILY_SIZE_P), 1)
    sizes = np.where(hh_type == JRSR, 2, sizes)
    n_hh = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    hh_type, sizes = hh_type[:n_hh], sizes[:n_hh]
    hh = np.repeat(np.arange(n_hh), sizes)[:n]
    pos = np.arange(n) - (np.cumsum(sizes) - sizes)[hh]
    t = hh_type[hh]
    pop_hh = rng.choice(len(POPULATIONS), size=n_hh, p=[0.30, 0.20, 0.10, 0.10, 0.30])
    common_hh = (hh_type == SINGLE) & (rng.random(n_hh) < COMMON_SHARE)
    common_id = rng.integers(0, len(COMMON_NAMES), n_hh)
    pop_hh = np.where(common_hh, _COMMON_POP[common_id], pop_hh)
    pop = pop_hh[hh]
    # surnames: Zipf within the population, Hispanic doubles (space or hyphen)
    last_idx = _L_OFF[pop_hh] + _zipf_index(rng, _L_LEN[pop_hh])
    n_h = len(_HISP)
    double = (pop_hh == 0) & (rng.random(n_hh) < 0.35)
    second = _zipf_index(rng, np.full(n_hh, n_h))
    hyphen = rng.random(n_hh) < 0.4
    dbl_idx = _DOUBLE0 + hyphen * n_h * n_h + (last_idx - _L_OFF[0]) * n_h + second
    last_idx = np.where(double & (second != last_idx - _L_OFF[0]), dbl_idx, last_idx)
    last_idx = np.where(common_hh, _COMMON_LAST0 + common_id, last_idx)
    # first and middle names: family members sit _FIRST_STRIDE apart in their pool
    sex = rng.integers(0, 2, n)
    sex = np.where((t == JRSR) | (t == LONE), 0, sex)
    sex = np.where(common_hh[hh], _COMMON_SEX[common_id[hh]], sex)
    eff_pos = np.where(t == JRSR, 0, pos)
    r_first = rng.integers(0, 1 << 30, n_hh)[hh]
    size_f = _F_LEN[pop, sex]
    first_idx = _F_OFF[pop, sex] + (r_first + eff_pos * _FIRST_STRIDE) % size_f
    first_idx = np.where(common_hh[hh], _COMMON_FIRST0 + common_id[hh], first_idx)
    r_mid = np.where(t == JRSR, rng.random(n_hh)[hh], rng.random(n))
    r_mid_pick = np.where(
        t == JRSR, rng.integers(0, 1 << 30, n_hh)[hh], rng.integers(0, 1 << 30, n)
    )
    share = np.array([MIDDLE_SHARE[p] for p in POPULATIONS])[pop]
    share = np.where(t == JRSR, 1.0, share)
    mid_idx = np.where(r_mid < share, _M_OFF[pop, sex] + r_mid_pick % _M_LEN[pop, sex], 0)
    suffix_idx = np.where(t == JRSR, 1 + pos, 0)
    suffix_idx = np.where(t == LONE, 1 + rng.integers(0, 2, n), suffix_idx)
    # dates of birth (days since 1970)
    d = rng.integers(_days("1950-01-01"), _days("1992-12-31"), n_hh)[hh]
    gap = rng.integers(25 * 365, 30 * 365, n_hh)[hh]
    sr = rng.integers(_days("1945-01-01"), _days("1972-12-31"), n_hh)[hh]
    dob = np.where(pos == 1, d + rng.integers(-6 * 365, 6 * 365, n), d)
    dob = np.where(pos >= 2, d + rng.integers(20 * 365, 32 * 365, n), dob)
    dob = np.where(t == JRSR, sr + pos * gap, dob)
    dob = np.where(t == LONE, np.where(suffix_idx == 1, sr, sr + gap), dob)
    dob = np.minimum(dob, _days("2002-12-31"))
    # filed years; young taxpayers may start late
    filed = rng.random((n, len(YEARS))) < 0.62
    filed |= (rng.random(n) < FULL_FILER_SHARE)[:, None]
    none = ~filed.any(axis=1)
    filed[none, rng.integers(0, len(YEARS), int(none.sum()))] = True
    # households move: address A before the move year, B from it on
    moved = rng.random(n_hh) < MOVE_SHARE
    move_year = rng.integers(1, len(YEARS), n_hh)
    addr = geo.random_addresses(rng, 2 * n_hh)
    flat = np.flatnonzero(filed.ravel())
    tp, yi = flat // len(YEARS), flat % len(YEARS)
    row_hh = hh[tp]
    slot = row_hh + n_hh * (moved[row_hh] & (yi >= move_year[row_hh]))
    people = _People(first_idx, mid_idx, last_idx[hh], suffix_idx, dob)
    return _table(rng, seed, first_index, people, tp, yi, slot, addr)


@dataclass(frozen=True)
class _People:
    """Per-taxpayer indices into the name pools, and dates of birth (days since 1970)."""

    first_idx: np.ndarray
    mid_idx: np.ndarray
    last_idx: np.ndarray
    suffix_idx: np.ndarray
    dob: np.ndarray


def _table(
    rng: np.random.Generator,
    seed: int,
    first_index: int,
    v: _People,
    tp: np.ndarray,
    yi: np.ndarray,
    slot: np.ndarray,
    addr: geo.Addresses,
) -> pa.Table:
    n = len(v.dob)
    a, b = tin_params(seed)
    tins = TIN_BASE + (a * (first_index + np.arange(n, dtype=np.int64)) + b) % TIN_SPACE
    rows = len(tp)
    tp_a, slot_a = pa.array(tp), pa.array(slot)
    agi_base = np.exp(rng.normal(10.6, 0.7, n))
    agi = (agi_base[tp] * rng.uniform(0.9, 1.12, rows)).astype(np.int64)
    has_job = rng.random(n) < 0.85
    employer = np.where(has_job, 1 + rng.integers(0, len(EMPLOYERS), n), 0)
    wages = np.where(has_job[tp], (agi * rng.uniform(0.6, 1.0, rows)).astype(np.int64), 0)
    balance = np.where(
        rng.random(rows) < 0.15, np.exp(rng.normal(7.5, 1.2, rows)).astype(np.int64), 0
    )
    phone = pc.binary_join_element_wise(
        pc.cast(pa.array(rng.integers(201, 990, n)), pa.string()),
        "555",
        pc.cast(pa.array(100 + rng.integers(0, 100, n)), pa.string()),
        "-",
    )
    phone = pc.replace_substring(phone, "-555-1", "-555-01")
    dob = pc.cast(pa.array(v.dob.astype(np.int32), pa.date32()), pa.string())
    cols = {
        "tin": pc.cast(pa.array(tins), pa.string()).take(tp_a),
        "first_name": _FIRST.take(pa.array(v.first_idx)).take(tp_a),
        "middle_name": _MIDDLE.take(pa.array(v.mid_idx)).take(tp_a),
        "last_name": _LAST.take(pa.array(v.last_idx)).take(tp_a),
        "suffix": _SUFFIX.take(pa.array(v.suffix_idx)).take(tp_a),
        "dob": dob.take(tp_a),
        "address_line1": addr.line1.take(slot_a),
        "address_line2": addr.line2.take(slot_a),
        "city": addr.city.take(slot_a),
        "state": addr.state.take(slot_a),
        "zip": addr.zip.take(slot_a),
        "tax_year": pa.array(np.array(YEARS, np.int32)[yi]),
        "filing_status": _FILING.take(pa.array(rng.choice(5, size=n, p=_FILING_P))).take(tp_a),
        "adjusted_gross_income": pa.array(agi),
        "dependents": pa.array(rng.choice(5, size=n, p=[0.5, 0.2, 0.17, 0.09, 0.04]))
        .cast(pa.int32())
        .take(tp_a),
        "phone": phone.take(tp_a),
        "employer_name": _EMPLOYER.take(pa.array(employer)).take(tp_a),
        "employer_ein": _EIN.take(pa.array(employer)).take(tp_a),
        "wages": pa.array(wages),
        "audit_status": _AUDIT.take(pa.array(rng.choice(3, size=rows, p=_AUDIT_P))),
        "balance_due": pa.array(balance),
        DOB_SOURCE: _DOB_SOURCE_BY_DIGIT.take(pa.array(tins % 10)).take(tp_a),
    }
    return pa.Table.from_arrays([cols[c] for c in RECORD_SCHEMA.names], schema=RECORD_SCHEMA)
