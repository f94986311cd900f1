"""Write the adversarial corpus: ``people.csv`` (the taxpayers) and ``cases.csv`` (requests).

Run from the repository root: ``python tests/matching/adversarial/make_corpus.py``. Seeded:
the same code writes the same files. Synthetic only (names from small pools, invented
addresses, TINs starting with 98).

Each case names its class and what may come of it:

- ``never``: near-misses naming someone who is not a taxpayer at that address. No
  automatic disclosure of anyone, ever (a reviewer may see the plausible ones);
- ``match``: positive controls that must disclose the taxpayer automatically;
- ``review``: positive controls with a named discrepancy that must reach a reviewer with
  the right candidate (never an automatic disclosure, never a wrong candidate).
"""

from __future__ import annotations

import csv
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from world import CITIES, FIRST_F, FIRST_M, LAST, STREETS, SUFFIX  # noqa: E402

from taxgate.matching.standardise import first_name_forms  # noqa: E402

SEED = 20261203
HOUSEHOLDS = 900
OTHER_LAST = ["Okonkwo", "Lindqvist", "Takahashi", "Villanueva", "Abernathy", "Fairweather",
              "Oyelaran", "Szymanski", "Thorvaldsen", "Quigley", "Bjornstad",
              "Nakashima"]  # fmt: skip
OTHER_FIRST = ["Gertrude", "Thaddeus", "Ignatius", "Philippa", "Bartholomew", "Cornelius",
               "Wilhelmina", "Eustace", "Octavia", "Leopold", "Rosalind", "Barnaby"]  # fmt: skip
GENDER_VARIANTS = [("Daniel", "Daniela"), ("Dragan", "Dragana"), ("Carlos", "Carla"),
                   ("Antonio", "Antonia"), ("Francisco", "Francisca"), ("Julio", "Julia"),
                   ("Mario", "Maria"), ("Roberto", "Roberta"), ("Paolo", "Paola"),
                   ("Luis", "Luisa")]  # fmt: skip
NICKNAMES = {"William": "Bill", "Robert": "Bob", "Elizabeth": "Liz", "Margaret": "Peggy",
             "Richard": "Rick", "Charles": "Chuck", "Joseph": "Joe", "Thomas": "Tom",
             "Michael": "Mike", "Patricia": "Patty", "James": "Jim", "Daniel": "Dan",
             "Jennifer": "Jenny", "Susan": "Sue", "David": "Dave"}  # fmt: skip
PEOPLE_COLUMNS = ("tin", "first", "middle", "last", "suffix", "dob", "line1", "line2", "city",
                  "state", "zip")  # fmt: skip
CASE_COLUMNS = ("case_id", "class", "expect", "tin", "first_name", "middle_name", "last_name",
                "suffix", "date_of_birth", "address_line1", "address_line2", "city", "state",
                "zip")  # fmt: skip


@dataclass(frozen=True)
class P:
    tin: str
    first: str
    middle: str
    last: str
    suffix: str
    dob: str
    line1: str
    line2: str
    city: str
    state: str
    zip: str


def _dob(rng: random.Random, lo: int = 1940, hi: int = 2003) -> str:
    return f"{rng.randint(lo, hi)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _shift_years(dob: str, years: int) -> str:
    return f"{int(dob[:4]) + years}{dob[4:]}"


def world(rng: random.Random) -> tuple[list[P], list[list[P]]]:
    people: list[P] = []
    households: list[list[P]] = []
    tin = 980_000_001
    used: set[tuple[str, str]] = set()
    for _ in range(HOUSEHOLDS):
        city, state, z3 = rng.choice(CITIES)
        while True:
            num, street = str(rng.randint(10, 9899)), rng.choice(STREETS)
            zip5 = f"{z3}{rng.randint(0, 99):02d}"
            if (num, zip5) not in used:
                used.add((num, zip5))
                break
        line1 = f"{num} {street} {rng.choice(SUFFIX)[1]}"
        line2 = rng.choice(["", "", "", f"Apt {rng.randint(1, 30)}{rng.choice(['', 'B'])}"])
        last = rng.choice(LAST)
        size = rng.choice([1, 2, 2, 3, 4])
        firsts: list[str] = []
        home: list[P] = []
        for k in range(size):
            pool = [f for f in (FIRST_M if rng.random() < 0.5 else FIRST_F) if f not in firsts]
            first = rng.choice(pool)
            firsts.append(first)
            dob = _dob(rng, 1940, 1985) if k < 2 else _dob(rng, 1990, 2004)
            middle = rng.choice(["", "Lee", "Marie", "Ann", "James", "Ray"])
            p = P(str(tin), first, middle, last, "", dob, line1, line2, city, state, zip5)
            tin += 1
            home.append(p)
        households.append(home)
        people.extend(home)
    return people, households


def cases(rng: random.Random, households: list[list[P]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []

    def add(cls: str, expect: str, base: P, tin: str = "", **kw: str) -> None:
        req = {"first_name": base.first, "middle_name": base.middle, "last_name": base.last,
               "suffix": base.suffix, "date_of_birth": base.dob, "address_line1": base.line1,
               "address_line2": base.line2, "city": base.city, "state": base.state,
               "zip": base.zip}  # fmt: skip
        req.update(kw)
        out.append({"case_id": f"{cls}-{len(out):05d}", "class": cls, "expect": expect,
                    "tin": tin, **req})  # fmt: skip

    for home in households:
        t = home[0]
        taken: set[str] = set()
        for m in home:
            taken.update(first_name_forms(m.first))
        others = [f for f in FIRST_M + FIRST_F + OTHER_FIRST
                  if not set(first_name_forms(f)) & taken]  # fmt: skip
        other_last = rng.choice(OTHER_LAST)
        stranger_dob = _dob(rng)
        # --- near-misses: never an automatic disclosure ---
        add("same_first_other_surname", "never", t, last_name=other_last, date_of_birth="")
        add("same_first_other_surname_dob", "never", t, last_name=other_last,
            date_of_birth=stranger_dob)  # fmt: skip
        add("same_first_other_surname_exact_dob", "never", t, last_name=other_last)
        add("same_surname_other_first", "never", t, first_name=rng.choice(others),
            date_of_birth="")  # fmt: skip
        add("same_surname_other_first_dob", "never", t, first_name=rng.choice(others),
            date_of_birth=stranger_dob)  # fmt: skip
        add("sibling_same_dob", "never", t, first_name=rng.choice(others), middle_name="")
        add("twin_other_name", "never", t, first_name=rng.choice(others))
        add("parent_same_name", "never", t, date_of_birth=_shift_years(t.dob, -rng.randint(22, 35)),
            middle_name="")  # fmt: skip
        add("child_same_name", "never", t, date_of_birth=_shift_years(t.dob, rng.randint(22, 35)),
            middle_name="")  # fmt: skip
        add("junior_of_taxpayer", "never", t, suffix="Jr",
            date_of_birth=_shift_years(t.dob, rng.randint(22, 35)))  # fmt: skip
        add("neighbour_house_number", "never", t,
            address_line1=f"{int(t.line1.split()[0]) + 2} {t.line1.split(' ', 1)[1]}")  # fmt: skip
        add("neighbour_house_number_no_dob", "never", t, date_of_birth="",
            address_line1=f"{int(t.line1.split()[0]) - 1} {t.line1.split(' ', 1)[1]}")  # fmt: skip
        add("roommate", "never", t, first_name=rng.choice(OTHER_FIRST), last_name=other_last,
            middle_name="", date_of_birth=stranger_dob if rng.random() < 0.5 else "")  # fmt: skip
        if t.line2:
            add("other_apartment", "never", t, address_line2=f"Apt {rng.randint(31, 60)}C")
        # --- positive controls ---
        add("exact", "match", t, tin=t.tin)
        add("no_dob", "match", t, tin=t.tin, date_of_birth="")
        add("dropped_middle_name", "match", t, tin=t.tin, middle_name="")
        if t.first in NICKNAMES:
            add("nickname", "match", t, tin=t.tin, first_name=NICKNAMES[t.first])
        if len(t.last) >= 6:
            i = rng.randrange(1, len(t.last) - 2)
            add("surname_typo", "match", t, tin=t.tin,
                last_name=t.last[:i] + t.last[i + 1] + t.last[i] + t.last[i + 2 :])  # fmt: skip
        words = t.line1.split(" ")
        if len(words[1]) >= 5:
            typo = words[1][:2] + words[1][3:]
            add("street_typo", "match", t, tin=t.tin,
                address_line1=" ".join([words[0], typo, *words[2:]]))  # fmt: skip
        add("married_name_exact_dob", "review", t, tin=t.tin, last_name=other_last)
        d = t.dob
        last = int(d[9])
        add("dob_one_digit", "review", t, tin=t.tin,
            date_of_birth=f"{d[:9]}{last + 1 if last < 8 else last - 1}")  # fmt: skip
        num = words[0]
        if len(num) >= 2 and num[-1] != num[-2]:
            add("transposed_house_number", "review", t, tin=t.tin,
                address_line1=" ".join([num[:-2] + num[-1] + num[-2], *words[1:]]))  # fmt: skip
    return out


def add_relatives(rng: random.Random, households: list[list[P]], people: list[P]) -> None:
    """Twins (a gender-variant pair, one files), Jr/Sr pairs where only Sr files."""
    for k, home in enumerate(households[:150]):
        t = home[0]
        a, b = GENDER_VARIANTS[k % len(GENDER_VARIANTS)]
        filer = replace(t, first=a, tin=str(990_000_000 + k), middle="")
        people.append(filer)
        home.append(filer)
        # the non-filing twin: gender variant, same date of birth
        home.append(replace(filer, first=b, tin=""))
    for k, home in enumerate(households[150:300]):
        t = home[0]
        names = {m.first for m in home}
        first = rng.choice([f for f in FIRST_M if f not in names])
        sr = replace(t, tin=str(991_000_000 + k), first=first, suffix="Sr",
                     middle="", dob=_dob(rng, 1940, 1960))  # fmt: skip
        people.append(sr)
        home.append(sr)
        home.append(replace(sr, tin="", suffix="Jr", dob=_shift_years(sr.dob, 27)))


def relative_cases(households: list[list[P]]) -> list[dict[str, str]]:
    out = []
    for home in households[:300]:
        non_filer = home[-1]
        filer = home[-2]
        cls = "twin_gender_variant" if non_filer.suffix == "" else "jr_of_lone_sr"
        for dob in (non_filer.dob, ""):
            out.append({"case_id": f"{cls}-{len(out):05d}{'n' if not dob else ''}", "class": cls,
                        "expect": "never", "tin": "", "first_name": non_filer.first,
                        "middle_name": "", "last_name": non_filer.last,
                        "suffix": non_filer.suffix, "date_of_birth": dob,
                        "address_line1": non_filer.line1, "address_line2": non_filer.line2,
                        "city": non_filer.city, "state": non_filer.state,
                        "zip": non_filer.zip})  # fmt: skip
        assert filer.tin
    return out


#: Real first names one keystroke apart, same first and last letter (or the same letters).
ONE_KEYSTROKE = [("Marian", "Marion"), ("Kristin", "Kristen"), ("Allan", "Alan"),
                 ("Stephen", "Stephan"), ("Teresa", "Theresa"), ("Phillip", "Philip"),
                 ("Jeffery", "Jeffrey"), ("Caitlin", "Caitlyn"), ("Bryan", "Brian")]  # fmt: skip


def first_name_typo_cases(households: list[list[P]]) -> list[dict[str, str]]:
    """A first name one keystroke from the taxpayer's (two inner letters swapped) that is
    no taxpayer's name: a slip, with the exact date of birth or without one (disclosed).
    A relative whose name is one keystroke away *and* a real name is the class
    ``relative_one_keystroke_name`` (:func:`one_keystroke_relative_cases`)."""
    rng = random.Random(SEED + 1)  # its own stream: the classes above stay as they were
    out = []
    for home in households:
        t = home[0]
        inner = [i for i in range(1, len(t.first) - 2) if t.first[i] != t.first[i + 1]]
        if " " in t.first or not inner:
            continue
        i = rng.choice(inner)
        typo = t.first[:i] + t.first[i + 1] + t.first[i] + t.first[i + 2 :]
        for cls, expect, dob in (("first_name_typo_exact_dob", "match", t.dob),
                                 ("first_name_typo_no_dob", "match", "")):  # fmt: skip
            out.append({"case_id": f"{cls}-{len(out):05d}", "class": cls, "expect": expect,
                        "tin": t.tin, "first_name": typo, "middle_name": t.middle,
                        "last_name": t.last, "suffix": t.suffix, "date_of_birth": dob,
                        "address_line1": t.line1, "address_line2": t.line2, "city": t.city,
                        "state": t.state, "zip": t.zip})  # fmt: skip
    return out


def one_keystroke_relative_cases(
    rng: random.Random, households: list[list[P]], people: list[P]
) -> list[dict[str, str]]:
    """A taxpayer (Marian) and a relative at the same address who files nothing, named one
    keystroke away with a real name (Marion, held by some taxpayer elsewhere): a request
    for the relative, with or without a date of birth, never discloses the taxpayer. Each
    pair lives at an address of its own (a house number no other household has)."""
    out = []
    tin = 992_000_000
    for k, home in enumerate(households[300:480]):
        a, b = ONE_KEYSTROKE[k % len(ONE_KEYSTROKE)]
        if rng.random() < 0.5:
            a, b = b, a
        t = home[0]
        num, rest = t.line1.split(" ", 1)
        t = replace(t, line1=f"{int(num) + 10_000} {rest}")
        filer = replace(t, first=a, tin=str(tin), middle="", dob=_dob(rng, 1950, 1985))
        relative = replace(filer, tin="", dob=_dob(rng, 1950, 1985))
        elsewhere = households[(k * 7 + 500) % len(households)][0]
        num, rest = elsewhere.line1.split(" ", 1)
        namesake = replace(elsewhere, first=b, tin=str(tin + 1), middle="", dob=_dob(rng),
                           line1=f"{int(num) + 20_000} {rest}")  # fmt: skip
        tin += 2
        people.extend([filer, namesake])
        for dob in (relative.dob, ""):
            out.append({"case_id": f"relative_one_keystroke_name-{len(out):05d}",
                        "class": "relative_one_keystroke_name", "expect": "never", "tin": "",
                        "first_name": b, "middle_name": "", "last_name": relative.last,
                        "suffix": "", "date_of_birth": dob,
                        "address_line1": relative.line1, "address_line2": relative.line2,
                        "city": relative.city, "state": relative.state,
                        "zip": relative.zip})  # fmt: skip
    return out


def main() -> None:
    rng = random.Random(SEED)
    people, households = world(rng)
    add_relatives(rng, households, people)
    rows = cases(rng, households) + relative_cases(households)
    rows += first_name_typo_cases(households)
    rows += one_keystroke_relative_cases(random.Random(SEED + 2), households, people)
    with (HERE / "people.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(PEOPLE_COLUMNS)
        w.writerows([getattr(p, c) for c in PEOPLE_COLUMNS] for p in people)
    with (HERE / "cases.csv").open("w", encoding="utf-8", newline="") as f:
        dw = csv.DictWriter(f, fieldnames=CASE_COLUMNS)
        dw.writeheader()
        dw.writerows(rows)
    print(f"{len(people)} taxpayers, {len(rows)} cases")


if __name__ == "__main__":
    main()
