"""Realistic noise on a valid request, and the planted defects (pure string edits).

A request is a ``dict`` keyed by ``taxgate.types.REQUEST_COLUMNS``. Each noise
function edits it in place and returns whether it applied; the tags are
recorded in the ground truth.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, MutableMapping

import numpy as np

from taxgate.synth import geo
from taxgate.synth.names import LAST, nicknames_for, strip_accents

Req = MutableMapping[str, str]

_HISPANIC = frozenset(LAST["hispanic"])
_SUFFIX_SHORT = {v: k for k, v in geo.SUFFIX_LONG.items() if k != v}
_DIR_SHORT = {v: k for k, v in geo.DIRECTIONAL_LONG.items()}
_ADDRESS_FIELDS = ("address_line1", "address_line2", "city")
_NAME_FIELDS = ("first_name", "middle_name", "last_name")
_LETTERS = "aeioulnrstmcdh"


def nickname(r: Req, rnd: random.Random) -> bool:
    nicks = nicknames_for(r["first_name"])
    if not nicks:
        return False
    r["first_name"] = nicks[rnd.randrange(len(nicks))]
    return True


def typo(r: Req, rnd: random.Random) -> bool:
    field = "last_name" if rnd.random() < 0.6 else "first_name"
    s = r[field]
    if len(s) < 5 or not s.isalpha():
        return False
    i = rnd.randrange(1, len(s) - 1)
    op = rnd.randrange(3)
    if op == 0 and s[i] != s[i + 1]:
        s2 = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    elif op == 1:
        s2 = s[:i] + s[i + 1 :]
    else:
        c = _LETTERS[rnd.randrange(len(_LETTERS))]
        s2 = s[:i] + (c if c != s[i].lower() else "y") + s[i + 1 :]
    r[field] = s2
    return s2 != s


def drop_middle(r: Req, rnd: random.Random) -> bool:
    if not r["middle_name"]:
        return False
    r["middle_name"] = ""
    return True


def drop_second_surname(r: Req, rnd: random.Random) -> bool:
    last = r["last_name"]
    for sep in (" ", "-"):
        parts = last.split(sep)
        if len(parts) == 2 and parts[0] in _HISPANIC and parts[1] in _HISPANIC:
            r["last_name"] = parts[0]
            return True
    return False


def abbreviation(r: Req, rnd: random.Random) -> bool:
    """Street -> St, North -> N, Apt -> Apartment, and the reverse."""
    words = r["address_line1"].split(" ")
    changed = False
    for i, w in enumerate(words):
        if i == len(words) - 1:
            new = geo.SUFFIX_LONG.get(w) or _SUFFIX_SHORT.get(w)
        elif i == 1:
            new = geo.DIRECTIONAL_LONG.get(w) or _DIR_SHORT.get(w)
        else:
            new = None
        if new and new != w:
            words[i] = new
            changed = True
    r["address_line1"] = " ".join(words)
    line2 = r["address_line2"]
    if line2.startswith("Apt "):
        r["address_line2"] = "Apartment " + line2[4:]
        changed = True
    return changed


def drop_apartment(r: Req, rnd: random.Random) -> bool:
    if not r["address_line2"]:
        return False
    r["address_line2"] = ""
    return True


def strip_accent_marks(r: Req, rnd: random.Random) -> bool:
    changed = False
    for f in (*_NAME_FIELDS, *_ADDRESS_FIELDS):
        s = strip_accents(r[f])
        if s != r[f]:
            r[f] = s
            changed = True
    return changed


def case(r: Req, rnd: random.Random) -> bool:
    up = rnd.random() < 0.7
    for f in (*_NAME_FIELDS, "suffix", *_ADDRESS_FIELDS):
        r[f] = r[f].upper() if up else r[f].lower()
    return True


# Applied in this order (case and accents last, so earlier edits see the formal spelling).
NOISE: tuple[tuple[str, float, Callable[[Req, random.Random], bool]], ...] = (
    ("nickname", 0.15, nickname),
    ("typo", 0.12, typo),
    ("drop_middle", 0.15, drop_middle),
    ("drop_second_surname", 0.5, drop_second_surname),
    ("abbreviation", 0.15, abbreviation),
    ("drop_apartment", 0.3, drop_apartment),
    ("strip_accents", 0.4, strip_accent_marks),
    ("case", 0.08, case),
)
MILD = frozenset({"abbreviation", "drop_apartment", "strip_accents", "case"})


def add_noise(r: Req, rnd: random.Random, mild_only: bool = False) -> list[str]:
    """Apply each kind of noise with its probability; return the tags that applied."""
    tags = []
    for tag, p, fn in NOISE:
        if mild_only and tag not in MILD:
            continue
        if rnd.random() < p and fn(r, rnd):
            tags.append(tag)
    return tags


def _needs_check(tag: str, cols: dict[str, list[str]], i: int) -> bool:
    """A cheap test that the noise ``tag`` could change row ``i`` (skips most no-ops)."""
    if tag == "drop_middle":
        return bool(cols["middle_name"][i])
    if tag == "drop_apartment":
        return bool(cols["address_line2"][i])
    if tag == "drop_second_surname":
        last = cols["last_name"][i]
        return " " in last or "-" in last
    if tag == "strip_accents":
        return not all(cols[f][i].isascii() for f in (*_NAME_FIELDS, *_ADDRESS_FIELDS))
    return True


def noise_columns(
    cols: dict[str, list[str]],
    rows: np.ndarray,
    mild_only: np.ndarray,
    rng: np.random.Generator,
    rnd: random.Random,
) -> np.ndarray:
    """``add_noise`` over the rows ``rows`` of columns, kind by kind (same order per row).

    Returns, per row of ``rows``, a bitmask: bit b set when ``NOISE[b]`` applied.
    """
    bits = np.zeros(len(rows), np.int64)
    draws = rng.random((len(NOISE), len(rows)))
    for b, (tag, p, fn) in enumerate(NOISE):
        hit = draws[b] < p
        if tag not in MILD:
            hit &= ~mild_only
        for j in np.flatnonzero(hit).tolist():
            i = int(rows[j])
            if _needs_check(tag, cols, i) and fn(RowOf(cols, i), rnd):
                bits[j] |= 1 << b
    return bits


class RowOf(MutableMapping[str, str]):
    """Row ``i`` of columns, as the mapping the noise functions edit."""

    __slots__ = ("_cols", "_i")

    def __init__(self, cols: dict[str, list[str]], i: int) -> None:
        self._cols, self._i = cols, i

    def __getitem__(self, key: str) -> str:
        return self._cols[key][self._i]

    def __setitem__(self, key: str, value: str) -> None:
        self._cols[key][self._i] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError("a request row has fixed columns")

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)


# --- the corruption-heavy world: what careless data entry does to a request ------------
# Each kind edits one request in place (like the noise above) and says whether it applied.
# ``ADDRESS_KEY_TAGS`` change the state, ZIP or house number: a request so corrupted is no
# longer expected to be found (blocking keys on them), the others are.

_PO_SPELLINGS = ("P.O. Box", "Post Office Box", "P O Box", "PO BOX", "P.O.Box")
_UNIT_SPELLINGS = ("Apt", "Apartment", "Unit", "#", "Ste", "Lot")


def _typo_in(s: str, rnd: random.Random, keep_first: bool = True) -> str:
    """One keystroke: swap two neighbours, drop, double or replace a letter."""
    if len(s) < 4:
        return s
    i = rnd.randrange(1 if keep_first else 0, len(s) - 1)
    op = rnd.randrange(4)
    if op == 0 and s[i] != s[i + 1]:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if op == 1:
        return s[:i] + s[i + 1 :]
    if op == 2:
        return s[:i] + s[i] + s[i:]
    c = _LETTERS[rnd.randrange(len(_LETTERS))]
    return s[:i] + (c if c != s[i].lower() else "y") + s[i + 1 :]


def typo_first(r: Req, rnd: random.Random) -> bool:
    s = r["first_name"]
    r["first_name"] = _typo_in(s, rnd) if s.isalpha() else s
    return r["first_name"] != s


def typo_last(r: Req, rnd: random.Random) -> bool:
    s = r["last_name"]
    r["last_name"] = _typo_in(s, rnd) if s.isalpha() else s
    return r["last_name"] != s


def typo_street(r: Req, rnd: random.Random) -> bool:
    """A typo in the longest word of the street name (not the number, not the PO box)."""
    words = r["address_line1"].split(" ")
    if len(words) < 2 or not words[0][:1].isdigit():
        return False
    j = max(range(1, len(words)), key=lambda k: len(words[k]))
    old = words[j]
    words[j] = _typo_in(old, rnd)
    r["address_line1"] = " ".join(words)
    return words[j] != old


def typo_city(r: Req, rnd: random.Random) -> bool:
    s = r["city"]
    r["city"] = _typo_in(s, rnd)
    return r["city"] != s


def transpose_house(r: Req, rnd: random.Random) -> bool:
    head, sep, rest = r["address_line1"].partition(" ")
    if not head.isdigit() or len(head) < 2:
        return False
    i = rnd.randrange(len(head) - 1)
    new = head[:i] + head[i + 1] + head[i] + head[i + 2 :]
    r["address_line1"] = new + sep + rest
    return new != head


def typo_zip(r: Req, rnd: random.Random) -> bool:
    z = r["zip"]
    if len(z) < 5:
        return False
    i = rnd.randrange(1, 5)
    d = str((int(z[i]) + 1 + rnd.randrange(8)) % 10)
    r["zip"] = z[:i] + d + z[i + 1 :]
    return True


def typo_dob(r: Req, rnd: random.Random) -> bool:
    """One digit of the day or the year's last digit changed (still a valid date)."""
    d = r["date_of_birth"]
    if len(d) != 10:
        return False
    if rnd.random() < 0.5:
        day = int(d[8:10])
        new = f"{d[:8]}{(day % 28) + 1:02d}" if day != 28 else f"{d[:8]}27"
    else:
        new = f"{d[:3]}{(int(d[3]) + 1) % 10}{d[4:]}"
    r["date_of_birth"] = new
    return new != d


def swap_day_month(r: Req, rnd: random.Random) -> bool:
    d = r["date_of_birth"]
    if len(d) != 10 or int(d[8:10]) > 12 or d[5:7] == d[8:10]:
        return False
    r["date_of_birth"] = f"{d[:5]}{d[8:10]}-{d[5:7]}"
    return True


def swap_names(r: Req, rnd: random.Random) -> bool:
    """First and last name entered in each other's field."""
    if not r["first_name"] or not r["last_name"]:
        return False
    r["first_name"], r["last_name"] = r["last_name"], r["first_name"]
    return True


def drop_dob(r: Req, rnd: random.Random) -> bool:
    if not r["date_of_birth"]:
        return False
    r["date_of_birth"] = ""
    return True


def po_box_spelling(r: Req, rnd: random.Random) -> bool:
    line = r["address_line1"]
    if not line.upper().startswith("PO BOX "):
        return False
    r["address_line1"] = _PO_SPELLINGS[rnd.randrange(len(_PO_SPELLINGS))] + line[6:]
    return True


def unit_designator(r: Req, rnd: random.Random) -> bool:
    """``Apt 5`` -> ``# 5``, ``Unit 5``, ``Ste 5``...; sometimes moved onto line 1."""
    parts = r["address_line2"].split(" ", 1)
    if len(parts) != 2:
        return False
    kind = _UNIT_SPELLINGS[rnd.randrange(len(_UNIT_SPELLINGS))]
    unit = f"{kind} {parts[1]}"
    if rnd.random() < 0.3:
        r["address_line1"], r["address_line2"] = f"{r['address_line1']} {unit}", ""
    else:
        r["address_line2"] = unit
    return True


CORRUPTION: tuple[tuple[str, float, Callable[[Req, random.Random], bool]], ...] = (
    ("c_typo_first", 0.2, typo_first),
    ("c_typo_last", 0.15, typo_last),
    ("c_typo_street", 0.25, typo_street),
    ("c_typo_city", 0.15, typo_city),
    ("c_transpose_house", 0.04, transpose_house),
    ("c_typo_zip", 0.03, typo_zip),
    ("c_typo_dob", 0.08, typo_dob),
    ("c_swap_day_month", 0.03, swap_day_month),
    ("c_swap_names", 0.03, swap_names),
    ("c_drop_dob", 0.15, drop_dob),
    ("c_drop_middle", 0.3, drop_middle),
    ("c_drop_unit", 0.2, drop_apartment),
    ("c_po_box", 0.8, po_box_spelling),
    ("c_unit_designator", 0.5, unit_designator),
)
ADDRESS_KEY_TAGS = frozenset({"c_transpose_house", "c_typo_zip"})


def corrupt(r: Req, rnd: random.Random) -> list[str]:
    """Apply each kind of corruption with its probability; return the tags that applied."""
    return [tag for tag, p, fn in CORRUPTION if rnd.random() < p and fn(r, rnd)]
