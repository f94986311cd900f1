"""R-NAME and R-OFFICER: is this a person's name?

A name is letters of any script (with diacritics), spaces, hyphens, apostrophes (' or ’) and
periods; not a placeholder ("Unknown", "John Doe", "FNU"), not a company ("Acme LLC"), at
most 100 characters. Every check returns a problem message free of the value itself, or
``None`` when the name passes.

Example:
    >>> name_problem("García-López", "last name") is None
    True
    >>> name_problem("Unknown", "first name")
    'first name is a placeholder'
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from taxgate.dates import parse_dob

MAX_NAME_LENGTH = 100

PLACEHOLDER_NAMES: frozenset[str] = frozenset(
    {
        "unknown", "unk", "unkn", "na", "n a", "none", "null", "nil", "test", "doe",
        "john doe", "jane doe", "fnu", "lnu", "xxx", "xx", "x", "tbd", "not provided",
        "no name", "name", "first", "last", "firstname", "lastname", "anonymous",
        "redacted", "same", "blank", "void", "dummy", "sample", "nmn", "jane roe",
        "john roe", "richard roe",
    }
)  # fmt: skip
COMPANY_TOKENS: frozenset[str] = frozenset(
    {
        "llc", "inc", "incorporated", "corp", "corporation", "co", "ltd", "limited",
        "company", "holdings", "trust", "bank", "group", "llp", "lp", "plc", "foundation",
        "partners", "enterprises", "associates", "gmbh",
    }
)  # fmt: skip
OFFICER_TITLES: tuple[str, ...] = (
    "supervisory special agent", "special agent in charge", "special agent", "task force officer",
    "deportation officer", "immigration officer", "officer", "agent", "detective", "det",
    "inspector", "investigator", "sergeant", "sgt", "lieutenant", "lt", "captain", "capt",
    "deputy", "trooper", "sheriff", "ssa", "sac", "sa", "tfo", "dr", "mr", "mrs",
    "ms", "mx",
)  # fmt: skip
_TITLE_WORDS = frozenset(w for t in OFFICER_TITLES for w in t.split())
#: Words that name a role, a unit or a stand-in, never a person: an officer written only
#: with these ("Case Agent", "Duty Agent", "ICE HSI Houston", "See attached", "All agents of
#: the task force", "Acting Special Agent in Charge") names nobody.
ROLE_WORDS: frozenset[str] = frozenset(
    {
        "case", "duty", "lead", "field", "office", "director", "acting", "supervisory",
        "supervisor", "assistant", "deputy", "chief", "head", "senior", "junior", "all",
        "any", "every", "agents", "officers", "investigators", "multiple", "various", "several",
        "see", "attached", "above", "below", "same", "as", "on", "file", "per", "the", "of",
        "and", "in", "charge", "task", "force", "unit", "team", "squad", "division", "bureau",
        "department", "section", "group", "staff", "personnel", "ice", "hsi", "ero", "cbp",
        "fbi", "dea", "atf", "usms", "irs", "ci", "homeland", "security", "investigations",
        "enforcement", "removal", "operations", "immigration", "customs", "border", "patrol",
        "program", "manager", "representative", "contact", "point", "poc",
        "requesting", "requester", "designee", "delegate", "tbd", "tba", "pending",
        "assigned", "unassigned", "n", "a",
    }
)  # fmt: skip
#: Of those, the words no surname is made of (agencies, units, stand-ins): once they and any
#: title are set aside, a person's name of two words must remain ("ICE HSI Houston" is a
#: place, not an officer).
UNIT_WORDS: frozenset[str] = frozenset(
    {
        "ice", "hsi", "ero", "cbp", "fbi", "dea", "atf", "usms", "irs", "homeland",
        "investigations", "enforcement", "removal", "operations", "immigration", "customs",
        "division", "bureau", "department", "unit", "squad", "task", "force", "agents",
        "officers", "multiple", "various", "attached", "above",
    }
)  # fmt: skip
_APOSTROPHES = "'’"
_ALLOWED_PUNCT = frozenset(" -.'’")
_TITLE_RE = re.compile(
    r"^(?:(?:" + "|".join(re.escape(t) for t in OFFICER_TITLES) + r")\.?\s+)+", re.IGNORECASE
)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
#: A badge, employee or ID number after the officer's name, as agencies write them:
#: "#4417", ", Badge 2231", "(Emp. 55821)", "Badge No. 12", "ID: HSI-0042", "Star 8812".
#: It must stand apart from the name (a space, comma, semicolon or bracket before it).
_BADGE_TAIL = re.compile(
    r"(?:\s*[,;]\s*|\s*[(\[]\s*|\s+)"
    r"(?:(?:badge|emp(?:loyee)?|id|star|shield|serial)\.?\s*"
    r"(?:(?:no|num|number)\.?\s*)?[#:]?\s*|[#]\s*)?"
    r"(?:[a-z]{1,4}-?)?\d{1,10}[a-z]?"
    r"\s*[)\]]?\s*$",
    re.IGNORECASE,
)


def _simple(text: str) -> str:
    """Casefold, drop periods and apostrophes, collapse spaces and hyphens to single spaces."""
    s = text.casefold().replace(".", " ")
    for ch in _APOSTROPHES:
        s = s.replace(ch, "")
    return " ".join(s.replace("-", " ").replace("/", " ").split())


@lru_cache(maxsize=65536)
def name_problem(value: str, label: str) -> str | None:
    """What is wrong with one name part (``label`` says which, e.g. ``"first name"``)."""
    text = unicodedata.normalize("NFC", value.strip())
    if not text:
        return f"{label} is empty"
    if len(text) > MAX_NAME_LENGTH:
        return f"{label} is longer than {MAX_NAME_LENGTH} characters"
    letters = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
        elif ch.isdigit():
            return f"{label} contains a digit"
        elif ch not in _ALLOWED_PUNCT and not unicodedata.category(ch).startswith("M"):
            return f"{label} contains characters that are not part of a name"
    if letters == 0:
        return f"{label} has no letter"
    simple = _simple(text)
    if simple in PLACEHOLDER_NAMES:
        return f"{label} is a placeholder"
    tokens = simple.split()
    if any(t in COMPANY_TOKENS for t in tokens):
        return f"{label} looks like a company, not a person"
    return None


#: R-NAME's message for a one-word name: a person decides (see ``rules.evaluate``).
ONE_WORD_NAME = "the name is a single word: a person decides whether it names the taxpayer"


def one_word_name(first: str, last: str) -> bool:
    """Only one of first and last name is given, and it is a single word that is a name."""
    first, last = first.strip(), last.strip()
    if bool(first) == bool(last):
        return False
    only = first or last
    return len(only.split()) == 1 and name_problem(only, "name") is None


@lru_cache(maxsize=65536)
def full_name_problem(first: str, last: str) -> str | None:
    """A placeholder made of both parts ("John" + "Doe", "NA" + "NA")."""
    full = _simple(f"{first} {last}")
    if full in PLACEHOLDER_NAMES:
        return "the full name is a placeholder"
    parts = full.split()
    if parts and all(p in PLACEHOLDER_NAMES for p in parts):
        return "the full name is a placeholder"
    return None


@lru_cache(maxsize=65536)
def dob_problem(value: str, today: date) -> str | None:
    """The optional date of birth: a real date in a form the matcher reads
    (:data:`taxgate.dates.DOB_FORMATS`: ISO, or month first as 04/07/1962), not in the
    future, not before 1900."""
    text = value.strip()
    if not text:
        return None
    born = parse_dob(text)
    if born is None:
        if _DATE_RE.match(text):
            return "date of birth is not a real calendar date"
        return "date of birth is not a date in the form YYYY-MM-DD (or MM/DD/YYYY)"
    if born > today:
        return "date of birth is in the future"
    if born.year < 1900:
        return "date of birth is before 1900"
    return None


def strip_badge(officer: str) -> str:
    """The officer without a trailing badge, employee or ID number ("SA J. Ortiz #4417")."""
    text = officer.strip()
    while True:
        stripped = _BADGE_TAIL.sub("", text)
        if stripped == text or not stripped.strip():
            return text
        text = stripped.strip()


def strip_titles(officer: str) -> str:
    """The officer's name without a leading rank or title ("Special Agent", "Det.") and
    without a trailing badge or employee number."""
    return _TITLE_RE.sub("", strip_badge(officer))


@lru_cache(maxsize=65536)
def officer_problem(officer: str) -> str | None:
    """R-OFFICER: a person's name, at least two words (initials count), after an optional
    rank or title and before an optional badge or employee number; the name part is checked
    as any name (no digit, no placeholder, no company)."""
    text = officer.strip()
    if not text:
        return "no investigating officer is named"
    name = strip_titles(text)
    if not name or all(t in _TITLE_WORDS for t in _simple(name).split()):
        return "the officer is a title without a name"
    if all(t in _TITLE_WORDS or t in ROLE_WORDS for t in _simple(name).split()):
        return "the officer is a role or a unit, not a person's name"
    problem = name_problem(name, "officer")
    if problem is not None:
        return problem
    parts = _simple(name).split()
    if all(p in PLACEHOLDER_NAMES for p in parts):
        return "officer is a placeholder"
    if "and" in parts:
        return "officer names more than one person: name the one personally engaged"
    if len([p for p in parts if p not in UNIT_WORDS]) < 2:
        return "officer is not a full name (first and last name)"
    if all(len(p) == 1 for p in parts):
        return "officer is initials only, not a name"
    return None


@lru_cache(maxsize=65536)
def officer_key(officer: str) -> str:
    """Normalised officer for counting: casefold, titles and periods dropped, spaces collapsed.

    A value that fails R-OFFICER itself (empty, a placeholder, a title without a name) is no
    officer at all: its key is ``""`` and it is counted neither in the batch nor in history.

    >>> officer_key("Special Agent  Rosa  Ibarra") == officer_key("rosa ibarra")
    True
    >>> officer_key("Unknown")
    ''
    """
    if officer_problem(officer) is not None:
        return ""
    return " ".join(strip_titles(officer).casefold().replace(".", " ").split())
