"""Name and address standardisation before comparison: pure functions and their tables.

The tables here (USPS street suffixes and directionals, unit designators, surname
particles, nicknames) are the single source for both the Python functions below and
the SQL that :mod:`taxgate.matching.prepare` runs over millions of rows in DuckDB, so
a request and a taxpayer record are always standardised the same way.

Example:
    >>> standardise_address("123 North Main Street Apt 4", "", "Springfield", "IL", "62704-1234")
    Address(house_number='123', predirectional='N', street_name='MAIN', suffix='ST', \
postdirectional='', unit='4', city='SPRINGFIELD', state='IL', zip5='62704')
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jellyfish
import usaddress

#: USPS Publication 28 street suffixes (common forms) -> standard abbreviation.
SUFFIXES: dict[str, str] = {
    "ALLEY": "ALY", "ALY": "ALY", "AVENUE": "AVE", "AVE": "AVE", "AV": "AVE", "AVEN": "AVE",
    "BOULEVARD": "BLVD", "BLVD": "BLVD", "BOUL": "BLVD", "CIRCLE": "CIR", "CIR": "CIR",
    "COURT": "CT", "CT": "CT", "COVE": "CV", "CV": "CV", "CREEK": "CRK", "CRK": "CRK",
    "CROSSING": "XING", "XING": "XING", "DRIVE": "DR", "DR": "DR", "DRV": "DR",
    "EXPRESSWAY": "EXPY", "EXPY": "EXPY", "FREEWAY": "FWY", "FWY": "FWY",
    "HIGHWAY": "HWY", "HWY": "HWY", "HILL": "HL", "HL": "HL", "HOLLOW": "HOLW",
    "HOLW": "HOLW", "LANE": "LN", "LN": "LN", "LOOP": "LOOP", "MEADOW": "MDW", "MDW": "MDW",
    "PARKWAY": "PKWY", "PKWY": "PKWY", "PKY": "PKWY", "PASS": "PASS", "PATH": "PATH",
    "PIKE": "PIKE", "PLACE": "PL", "PL": "PL", "PLAZA": "PLZ", "PLZ": "PLZ", "POINT": "PT",
    "PT": "PT", "RIDGE": "RDG", "RDG": "RDG", "ROAD": "RD", "RD": "RD", "ROUTE": "RTE",
    "RTE": "RTE", "RUN": "RUN", "SQUARE": "SQ", "SQ": "SQ", "STREET": "ST", "ST": "ST",
    "STR": "ST", "TERRACE": "TER", "TER": "TER", "TRAIL": "TRL", "TRL": "TRL",
    "TURNPIKE": "TPKE", "TPKE": "TPKE", "VIEW": "VW", "VW": "VW", "WAY": "WAY", "WY": "WAY",
    "WALK": "WALK", "ESTATES": "ESTS", "ESTS": "ESTS", "GARDENS": "GDNS", "GDNS": "GDNS",
    "HEIGHTS": "HTS", "HTS": "HTS", "PARK": "PARK", "GROVE": "GRV", "GRV": "GRV",
}  # fmt: skip

#: Directionals -> USPS abbreviation.
DIRECTIONALS: dict[str, str] = {
    "NORTH": "N", "N": "N", "SOUTH": "S", "S": "S", "EAST": "E", "E": "E", "WEST": "W",
    "W": "W", "NORTHEAST": "NE", "NE": "NE", "NORTHWEST": "NW", "NW": "NW",
    "SOUTHEAST": "SE", "SE": "SE", "SOUTHWEST": "SW", "SW": "SW",
}  # fmt: skip

#: Secondary unit designators -> USPS abbreviation (``#`` stands alone).
UNIT_DESIGNATORS: dict[str, str] = {
    "APARTMENT": "APT", "APT": "APT", "UNIT": "UNIT", "SUITE": "STE", "STE": "STE",
    "ROOM": "RM", "RM": "RM", "FLOOR": "FL", "FL": "FL", "BUILDING": "BLDG", "BLDG": "BLDG",
    "LOT": "LOT", "#": "#", "NO": "#", "NUMBER": "#",
}  # fmt: skip

#: Surname particles dropped before comparison ("de la Cruz" -> "cruz").
PARTICLES: frozenset[str] = frozenset(
    {"de", "la", "las", "los", "del", "van", "von", "der", "den", "da", "das", "dos", "di"}
    | {"du", "le", "y", "e", "al", "el", "bin", "ibn"}
)

#: Name suffixes, standardised.
NAME_SUFFIXES: dict[str, str] = {
    "JR": "JR", "JUNIOR": "JR", "SR": "SR", "SENIOR": "SR", "II": "II", "2ND": "II",
    "III": "III", "3RD": "III", "IV": "IV", "4TH": "IV", "V": "V",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Address:
    """A US address in USPS-standard parts; empty strings where a part is absent."""

    house_number: str = ""
    predirectional: str = ""
    street_name: str = ""
    suffix: str = ""
    postdirectional: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip5: str = ""


@dataclass(frozen=True, slots=True)
class Name:
    """A person's name, standardised for comparison."""

    first: str = ""
    middle: str = ""
    last: str = ""
    last_parts: tuple[str, ...] = ()
    first_forms: tuple[str, ...] = ()
    suffix: str = ""


#: Letters with a stroke, which Unicode does not decompose into letter + accent.
UNDECOMPOSED = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O"}
_UNDECOMPOSED = str.maketrans(UNDECOMPOSED)


def fold(text: str) -> str:
    """Casefold, strip accents, drop apostrophes, turn other punctuation into spaces.

    >>> fold("  José-María O'Brien ")
    'jose maria obrien'
    >>> fold("Paweł Đặng")
    'pawel dang'
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"['\u2019`]", "", plain)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


@cache
def nickname_table() -> dict[str, tuple[str, ...]]:
    """Each known name -> its canonical forms (the `nicknames` package plus a Spanish table).

    Names are folded with spaces removed, as first names are compared, so a nickname of a
    compound given name (Majo -> María José) reaches the record's whole first name.
    """
    from nicknames import name_triplets

    def key(name: str) -> str:  # first names are compared without spaces
        return fold(name).replace(" ", "")

    table: dict[str, set[str]] = {}
    for triplet in name_triplets():
        if triplet.relationship == "has_nickname":
            table.setdefault(key(triplet.name2), set()).add(key(triplet.name1))
    path = resources.files("taxgate.data").joinpath("nicknames_es.csv")
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            table.setdefault(key(row["nickname"]), set()).add(key(row["canonical"]))
    return {k: tuple(sorted(v)) for k, v in table.items() if k}


def first_name_forms(first: str, *, record: bool = False) -> tuple[str, ...]:
    """The name itself plus every canonical form it is a nickname of, sorted.

    A record's forms also hold its second given name (see :func:`.prepare.forms_sql`).

    >>> "william" in first_name_forms("Bill")
    True
    >>> "guadalupe" in first_name_forms("María Guadalupe", record=True)
    True
    """
    key = fold(first).replace(" ", "")
    if not key:
        return ()
    forms = {key, *nickname_table().get(key, ())}
    tokens = fold(first).split(" ")
    for token in tokens[: 2 if record else 1]:
        forms.update({token, *nickname_table().get(token, ())})
    return tuple(sorted(forms))


def surname_parts(last: str) -> tuple[str, ...]:
    """Surname without particles, split so either part of a double surname can agree.

    >>> surname_parts("García-López de la Vega")
    ('garcia', 'lopez', 'vega')
    """
    out = []
    for token in fold(last).split(" "):
        if token in PARTICLES or not token:
            continue
        out.append(token)
    return tuple(out)


def standardise_name(first: str, middle: str, last: str, suffix: str = "") -> Name:
    """Standardise the parts of a person's name."""
    parts = surname_parts(_strip_al(last))
    return Name(
        first=fold(first).replace(" ", ""),
        middle=fold(middle).replace(" ", ""),
        last=" ".join(parts),
        last_parts=parts,
        first_forms=first_name_forms(first),
        suffix=NAME_SUFFIXES.get(fold(suffix).replace(" ", "").upper(), ""),
    )


def _strip_al(last: str) -> str:
    """``al-Hassan`` -> ``Hassan``: the Arabic article joined by a hyphen is a particle."""
    return re.sub(r"(?i)(^|\s)a[lI]-", r"\1", last)


def surname_code(last: str) -> str:
    """Soundex of the first surname part, the phonetic blocking key ("" when none)."""
    parts = surname_parts(_strip_al(last))
    return str(jellyfish.soundex(parts[0])) if parts else ""


def _tokens(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    plain = plain.replace("#", " # ")
    return re.sub(r"[^A-Z0-9# ]+", " ", plain).split()


def standardise_address(line1: str, line2: str, city: str, state: str, zip_code: str) -> Address:
    """Parse with usaddress and bring every part to its USPS standard form.

    Falls back to a token reading (house number, street, suffix, unit) when usaddress
    cannot tag the line; never raises on odd input.
    """
    text = " ".join(_tokens(line1))
    try:
        tagged, _ = usaddress.tag(text) if text else ({}, "")
    except usaddress.RepeatedLabelError:
        tagged = {}
    if not tagged:
        tagged = {}
    house = str(tagged.get("AddressNumber", ""))
    pre = DIRECTIONALS.get(str(tagged.get("StreetNamePreDirectional", "")), "")
    name = str(tagged.get("StreetName", ""))
    suffix = SUFFIXES.get(str(tagged.get("StreetNamePostType", "")), "")
    post = DIRECTIONALS.get(str(tagged.get("StreetNamePostDirectional", "")), "")
    unit = str(tagged.get("OccupancyIdentifier", ""))
    if not name and "USPSBoxID" in tagged:
        name, house = "PO BOX", str(tagged["USPSBoxID"])
    unit2 = _tokens(line2)
    if unit2 and unit2[0] in UNIT_DESIGNATORS:
        unit2 = unit2[1:]
    if not unit and unit2:
        unit = "".join(unit2)
    return Address(
        house_number=house,
        predirectional=pre,
        street_name=" ".join(name.replace("#", "").split()),
        suffix=suffix,
        postdirectional=post,
        unit=unit.replace("#", "").replace(" ", ""),
        city=" ".join(_tokens(city)),
        state=" ".join(_tokens(state)),
        zip5=re.sub(r"\D", "", zip_code)[:5],
    )
