"""R-ADDRESS: a complete mailing address, not a placeholder.

A street line needs a house number and a street name (or is a PO box); the city is a real
word; the state is a USPS code (or a full state name); the ZIP has 5 digits (ZIP+4 allowed),
is not 00000, and its first three digits belong to the state (``data/zip3.csv``).

Street lines of the common well-formed shape ("123 N Main St", "PO Box 12") are recognised
by one compiled regular expression; anything else is parsed with ``usaddress.tag``.

Example:
    >>> address_problems("123 Main St", "Austin", "TX", "78701", ZIP3)
    ()
    >>> address_problems("Don't Care 12345", "Austin", "TX", "78701", ZIP3)
    ('address line 1 is a placeholder',)
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import usaddress

from taxgate.config import PACKAGE_DATA

DEFAULT_ZIP3 = PACKAGE_DATA / "zip3.csv"

STATE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
        "colorado": "CO", "connecticut": "CT", "delaware": "DE", "florida": "FL",
        "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN",
        "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME",
        "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
        "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE",
        "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
        "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH",
        "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI",
        "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
        "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
        "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
        "district of columbia": "DC", "puerto rico": "PR", "guam": "GU",
        "virgin islands": "VI", "us virgin islands": "VI", "american samoa": "AS",
        "northern mariana islands": "MP",
    }
)  # fmt: skip
STATE_CODES: frozenset[str] = frozenset(STATE_NAMES.values())
#: Military and diplomatic "states" (USPS Publication 28, 225): Armed Forces Americas,
#: Europe, Pacific, and the ZIP3 prefixes each uses. Their city is APO, FPO or DPO.
MILITARY_STATES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "AA": frozenset({"340"}),
        "AE": frozenset(f"{n:03d}" for n in range(90, 99)),
        "AP": frozenset({"962", "963", "964", "965", "966"}),
    }
)
MILITARY_CITIES: frozenset[str] = frozenset({"APO", "FPO", "DPO"})
#: The street line of a military address: "Unit 2050 Box 4190", "PSC 802 Box 74",
#: "CMR 480 Box 123", or a ship ("USS Ronald Reagan", "USNS Mercy").
_MILITARY_LINE = re.compile(
    r"^(?:(?:unit|psc|cmr)\s+\d{1,6}(?:,?\s+box\s+\d{1,6})?"
    r"|(?:uss|usns|usc?gc)\s+[a-z][a-z .'-]{1,60}(?:\s+\(?[a-z]{2,4}[ -]?\d{1,4}\)?)?)$",
    re.IGNORECASE,
)

PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "failed to provide", "unknown address", "unknown", "unk", "na", "na na", "n a",
        "n a n a", "none", "null", "nil", "dont care", "do not care", "not provided",
        "no address", "address unknown", "not available", "unavailable", "tbd", "xxx", "xx",
        "x", "homeless", "general delivery", "test", "same", "see above", "refused",
        "declined", "withheld", "redacted", "address", "street", "city", "no city",
        "not applicable", "missing", "blank", "undeliverable", "transient", "no fixed address",
        "nfa", "various", "anywhere", "nowhere",
    }
)  # fmt: skip

_SUFFIXES = (
    "st|street|ave|avenue|av|blvd|boulevard|rd|road|dr|drive|ln|lane|ct|court|pl|place|way|"
    "ter|terrace|cir|circle|pkwy|parkway|hwy|highway|trl|trail|sq|square|loop|run|pass|path|"
    "pike|row|walk|xing|crossing|aly|alley|plz|plaza|cv|cove|pt|point|bnd|bend"
)
_DIRECTIONS = (
    r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest)\.?"
)
_FAST_STREET = re.compile(
    r"^[1-9]\d{0,5}[A-Za-z]?(?: " + _DIRECTIONS + r")?"
    r"(?: (?:[A-Za-z][A-Za-z'.-]*|\d{1,3}(?:st|nd|rd|th))){1,4} (?:" + _SUFFIXES + r")\.?"
    r"(?: " + _DIRECTIONS + r")?"
    r"(?:,? (?:apt|unit|ste|suite|#) ?[A-Za-z0-9-]{1,6})?$",
    re.IGNORECASE,
)
_FAST_BOX = re.compile(r"^p\.? ?o\.? ?box \d{1,7}$", re.IGNORECASE)
_ONLY_NUMBERS = re.compile(r"^[\d\s-]+$")
_TRAILING_NUMBER = re.compile(r"[\s,#-]*\d[\d\s-]*$")
_ZIP_RE = re.compile(r"^(\d{5})(?:-\d{4})?$")
_PUNCT = re.compile(r"[^\w\s]")


def load_zip3(path: Path | None = None) -> Mapping[str, frozenset[str]]:
    """ZIP3 prefix -> the USPS codes it belongs to, from a ``prefix,state`` CSV."""
    table: dict[str, set[str]] = {}
    with (path or DEFAULT_ZIP3).open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(line for line in fh if not line.startswith("#"))
        next(rows, None)
        for prefix, state in rows:
            table.setdefault(prefix.strip(), set()).add(state.strip().upper())
    return MappingProxyType({k: frozenset(v) for k, v in table.items()})


ZIP3: Mapping[str, frozenset[str]] = load_zip3()


def simplify(text: str) -> str:
    """Casefold, punctuation dropped ("Don't" -> "dont", "N/A" -> "n a"), spaces collapsed."""
    return " ".join(_PUNCT.sub(lambda m: "" if m.group() in "'’" else " ", text.casefold()).split())


def is_placeholder(text: str) -> bool:
    """A placeholder, alone or followed by a number ("Don't Care 12345")."""
    s = simplify(text)
    if s in PLACEHOLDERS:
        return True
    head = _TRAILING_NUMBER.sub("", s)
    return head != s and (head in PLACEHOLDERS or not head)


def normalise_state(state: str) -> str | None:
    """The USPS code for a code or full state name (any case), else ``None``."""
    s = " ".join(state.replace(".", " ").split())
    if s.upper() in STATE_CODES:
        return s.upper()
    return STATE_NAMES.get(s.casefold().removeprefix("the "))


@lru_cache(maxsize=1024)
def _tag_problem(line: str) -> str | None:
    try:
        tags, _kind = usaddress.tag(line)
    except usaddress.RepeatedLabelError:
        parsed = usaddress.parse(line)
        tags = {}
        for token, label in parsed:
            tags.setdefault(label, token)
    if tags.get("USPSBoxID") and tags.get("USPSBoxType"):
        return None
    number = tags.get("AddressNumber", "")
    if not number or not any(ch.isdigit() for ch in number):
        return "address line 1 has no house number"
    if not tags.get("StreetName"):
        return "address line 1 has no street name"
    return None


@lru_cache(maxsize=65536)
def city_problem(city: str) -> str | None:
    """What is wrong with the city, or ``None``."""
    if not city:
        return "city is empty"
    if any(ch.isdigit() for ch in city):
        return "city contains digits"
    if is_placeholder(city) or not any(ch.isalpha() for ch in city):
        return "city is a placeholder"
    return None


def street_problem(line1: str) -> str | None:
    """What is wrong with the street line, or ``None``."""
    line = " ".join(line1.split())
    if not line:
        return "address line 1 is empty"
    if _FAST_STREET.match(line) or _FAST_BOX.match(line):
        return None
    if _ONLY_NUMBERS.match(line):
        return "address line 1 is only a number (a ZIP alone is not an address)"
    if is_placeholder(line):
        return "address line 1 is a placeholder"
    return _tag_problem(line)


def military_problems(line1: str, city: str, state: str, zip_code: str) -> tuple[str, ...]:
    """An APO/FPO/DPO address (state AA, AE or AP): unit, PSC or CMR number (with a box) or
    a ship; city APO, FPO or DPO; a ZIP in the range of its state."""
    problems: list[str] = []
    line = " ".join(line1.split())
    if not line:
        problems.append("address line 1 is empty")
    elif not _MILITARY_LINE.match(line):
        problems.append("a military address needs a unit, PSC or CMR number, or a ship")
    if city.strip().upper().replace(".", "") not in MILITARY_CITIES:
        problems.append("the city of a military address (state AA, AE, AP) is APO, FPO or DPO")
    m = _ZIP_RE.match(zip_code.strip())
    if not zip_code.strip():
        problems.append("ZIP code is empty")
    elif m is None:
        problems.append("ZIP code is not 5 digits (or ZIP+4)")
    elif m.group(1)[:3] not in MILITARY_STATES[state.strip().upper()]:
        problems.append("ZIP code does not belong to the state")
    return tuple(problems)


def address_problems(
    line1: str, city: str, state: str, zip_code: str, zip3: Mapping[str, frozenset[str]]
) -> tuple[str, ...]:
    """Every problem of an address, as messages without the values; ``()`` when valid."""
    if state.strip().upper() in MILITARY_STATES:
        return military_problems(line1, city, state, zip_code)
    if city.strip().upper().replace(".", "") in MILITARY_CITIES:
        return ("APO, FPO and DPO are cities only with state AA, AE or AP",)
    street = street_problem(line1)
    city_issue = city_problem(city.strip())
    rest = (
        _default_state_zip_problems(state, zip_code)
        if zip3 is ZIP3
        else _state_zip_problems(state, zip_code, zip3)
    )
    if street is None and city_issue is None:
        return rest
    return tuple(p for p in (street, city_issue) if p is not None) + rest


@lru_cache(maxsize=131072)
def _default_state_zip_problems(state: str, zip_code: str) -> tuple[str, ...]:
    return _state_zip_problems(state, zip_code, ZIP3)


def _state_zip_problems(
    state: str, zip_code: str, zip3: Mapping[str, frozenset[str]]
) -> tuple[str, ...]:
    problems: list[str] = []
    code = normalise_state(state) if state.strip() else None
    if not state.strip():
        problems.append("state is empty")
    elif code is None:
        problems.append("state is not a USPS state code")
    m = _ZIP_RE.match(zip_code.strip())
    if not zip_code.strip():
        problems.append("ZIP code is empty")
    elif m is None:
        problems.append("ZIP code is not 5 digits (or ZIP+4)")
    elif m.group(1) == "00000":
        problems.append("ZIP code is all zeros")
    elif code is not None and code not in zip3.get(m.group(1)[:3], frozenset()):
        problems.append("ZIP code does not belong to the state")
    return tuple(problems)
