"""A small trained world shared by the matching tests (module scope keeps them quick)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tests.conftest import built_once  # noqa: E402
from world import Person, make_people, write_records  # noqa: E402

from taxgate.matching import train_model  # noqa: E402


@dataclass(frozen=True)
class Trained:
    people: list[Person]
    special: dict[str, Person]
    records: Path
    model: Path


def hard_cases() -> dict[str, Person]:
    """Hand-built hard cases, appended to the random world."""
    home = ("417 North Juniper Street", "", "Fresno", "CA", "93711")
    old = ("88 Quail Run Road", "Apt 3", "Fresno", "CA", "93704")
    new = ("5120 Sycamore Lane", "", "Tucson", "AZ", "85704")
    sr = Person("990000001", "Bartholomew", "", "Quintanilla", "Sr", "1950-04-12", ((2020, home),))
    lupe_home = ("2718 Calle Mirasol", "", "Tucson", "AZ", "85746")
    maria_guadalupe = Person(
        "990000007", "María Guadalupe", "", "Ybarra-Quiñones", "", "1961-03-09",
        ((2020, lupe_home),),
    )  # fmt: skip
    namesake = Person(
        "990000009", "Mirela", "", "Vukovic", "", "1990-05-05",
        ((2020, ("61 Larkspur Ln", "", "Boise", "ID", "83702")),),
    )  # fmt: skip
    dragan = Person(
        "990000011", "Dragan", "", "Kovacevic", "", "1985-01-14",
        ((2020, ("730 Wren Ct", "", "Omaha", "NE", "68104")),),
    )  # fmt: skip
    juan_carlos = Person(
        "990000012", "Juan Carlos", "", "Echeverria", "", "1966-11-02",
        ((2020, ("19 Saguaro Rd", "", "Yuma", "AZ", "85364")),),
    )  # fmt: skip
    return {
        "namesake_a": namesake,
        # same name and date of birth, another town: someone else
        "namesake_b": replace(
            namesake,
            tin="990000010",
            addresses=((2020, ("5 Orchard Pl", "", "Salem", "OR", "97301")),),
        ),  # fmt: skip
        "dragan": dragan,
        "juan_carlos": juan_carlos,
        "maria_guadalupe": maria_guadalupe,
        "guadalupe": replace(maria_guadalupe, tin="990000008", first="Guadalupe", dob="1988-12-01"),
        "sr": sr,
        "jr": replace(sr, tin="990000002", suffix="Jr", dob="1978-09-30"),
        "wife": replace(sr, tin="990000003", first="Evangelina", suffix="", dob="1952-01-05"),
        "mover": Person(
            "990000004",
            "Ximena",
            "R",
            "Albarracin-Ochoa",
            "",
            "1983-06-21",
            ((2020, old), (2023, new)),
        ),  # fmt: skip
        "common_a": Person(
            "990000005",
            "John",
            "",
            "Smith",
            "",
            "1970-02-02",
            ((2020, ("12 Cedar Ct", "", "Denver", "CO", "80210")),),
        ),  # fmt: skip
        "common_b": Person(
            "990000006",
            "John",
            "",
            "Smith",
            "",
            "1981-07-07",
            ((2020, ("940 Birch Dr", "", "Miami", "FL", "33101")),),
        ),  # fmt: skip
    }


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    special = hard_cases()
    people = make_people(1500, seed=11) + list(special.values())

    def build(work: Path) -> None:
        records = write_records(people, work / "records.parquet")
        train_model(records, work / "model.json", seed=5, u_pairs=1e6, sample=3000)

    work = built_once(tmp_path_factory, "matching", build)
    return Trained(people, special, work / "records.parquet", work / "model.json")
