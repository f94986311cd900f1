"""A small synthetic world for matching tests: households, movers, Jr/Sr, common names.

Synthetic only: names from small pools, addresses invented, TINs starting with 9.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from taxgate.types import RECORD_COLUMNS, Request

FIRST_M = ["James", "John", "Robert", "Michael", "William", "David", "Jose", "Juan", "Luis",
           "Carlos", "Wei", "Ahmed", "Ivan", "Thomas", "Charles", "Daniel", "Francisco",
           "Richard", "Joseph", "Miguel"]  # fmt: skip
FIRST_F = ["Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Maria", "Guadalupe", "Ana",
           "Rosa", "Li", "Fatima", "Olga", "Susan", "Margaret", "Dolores", "Teresa", "Karen",
           "Nancy", "Lisa", "Sofia"]  # fmt: skip
LAST = ["Smith", "Johnson", "Garcia", "Martinez", "Rodriguez", "Lopez", "Nguyen", "Kim",
        "Hernandez", "Brown", "Williams", "Davis", "Wilson", "Anderson", "Taylor", "Moore",
        "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
        "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
        "Torres", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
        "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner",
        "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales",
        "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
        "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Cox", "Ward", "Richardson", "Watson",
        "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
        "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
        "Jimenez", "Zielinski", "Okafor", "Haddad", "Kowalski", "Tanaka", "Yamamoto"]  # fmt: skip
STREETS = [
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Lincoln",
    "Jackson",
    "Ridge",
    "Church",
    "Willow",
    "Mill",
    "Highland",
    "Cherry",
    "Walnut",
    "Spring",
    "River",
    "Forest",
    "Meadow",
    "Valley",
]
SUFFIX = [("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr"),
          ("Lane", "Ln"), ("Court", "Ct"), ("Boulevard", "Blvd")]  # fmt: skip
CITIES = [
    ("Springfield", "IL", "627"),
    ("Austin", "TX", "787"),
    ("Fresno", "CA", "937"),
    ("Tucson", "AZ", "857"),
    ("Miami", "FL", "331"),
    ("Denver", "CO", "802"),
]
YEARS = (2020, 2021, 2022, 2023, 2024)


@dataclass(frozen=True)
class Person:
    tin: str
    first: str
    middle: str
    last: str
    suffix: str
    dob: str
    addresses: tuple[tuple[int, tuple[str, str, str, str, str]], ...]  # (from_year, addr)

    def address_in(self, year: int) -> tuple[str, str, str, str, str]:
        current = self.addresses[0][1]
        for start, addr in self.addresses:
            if year >= start:
                current = addr
        return current


def _address(rng: random.Random) -> tuple[str, str, str, str, str]:
    city, state, z3 = rng.choice(CITIES)
    street = f"{rng.randint(1, 9999)} {rng.choice(['', 'N ', 'S '])}{rng.choice(STREETS)} "
    street += rng.choice(SUFFIX)[1]
    unit = rng.choice(["", "", "", "", f"Apt {rng.randint(1, 30)}"])
    return (street, unit, city, state, f"{z3}{rng.randint(0, 99):02d}")


def make_people(n: int, seed: int) -> list[Person]:
    """``n`` taxpayers in households; ~15% move in 2022; some Jr/Sr pairs."""
    rng = random.Random(seed)
    people: list[Person] = []
    tin = 900_000_001
    while len(people) < n:
        last = rng.choice(LAST)
        home = _address(rng)
        moved = (2022, _address(rng)) if rng.random() < 0.15 else None
        addrs = ((2020, home),) + ((moved,) if moved else ())
        size = rng.choice([1, 1, 1, 2, 2, 3, 4])
        for k in range(size):
            male = rng.random() < 0.5
            first = rng.choice(FIRST_M if male else FIRST_F)
            year = rng.randint(1940, 2002) if k < 2 else rng.randint(1995, 2004)
            dob = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            people.append(
                Person(
                    str(tin),
                    first,
                    rng.choice(["", "A", "Lee", "Marie", "J"]),
                    last,
                    "",
                    dob,
                    addrs,
                )  # fmt: skip
            )
            tin += 1
        if rng.random() < 0.05:  # a Jr living with his father
            father = people[-size]
            people[-size] = replace(father, suffix="Sr")
            people.append(replace(father, tin=str(tin), suffix="Jr",
                                  dob=f"{int(father.dob[:4]) + 25}{father.dob[4:]}"))  # fmt: skip
            tin += 1
    return people


def write_records(people: list[Person], out: Path) -> Path:
    rows: dict[str, list[object]] = {c: [] for c in RECORD_COLUMNS}
    for p in people:
        for y in YEARS:
            a = p.address_in(y)
            vals = {"tin": p.tin, "first_name": p.first, "middle_name": p.middle,
                    "last_name": p.last, "suffix": p.suffix, "dob": p.dob,
                    "address_line1": a[0], "address_line2": a[1], "city": a[2], "state": a[3],
                    "zip": a[4], "tax_year": y}  # fmt: skip
            for c in RECORD_COLUMNS:
                rows[c].append(vals.get(c, 0 if c in ("dependents",) else ""))
    table = pa.table({c: pa.array(v, pa.int32() if c in ("tax_year", "dependents") else
                                  pa.string()) for c, v in rows.items()})  # fmt: skip
    pq.write_table(table, out)
    return out


def request_for(p: Person, rid: str, years: tuple[int, ...], **overrides: str) -> Request:
    a = p.address_in(years[0])
    base = {"first_name": p.first, "middle_name": "", "last_name": p.last, "suffix": p.suffix,
            "date_of_birth": p.dob, "address_line1": a[0], "address_line2": a[1],
            "city": a[2], "state": a[3], "zip": a[4]}  # fmt: skip
    base.update(overrides)
    return Request(request_id=rid, tax_periods=";".join(map(str, years)), **base)
