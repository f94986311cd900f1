"""R-PURPOSE: the information may be used "solely for the use" of the criminal matter.

26 U.S.C. 6103(i)(2)(A) lets return information go to officers "personally and directly
engaged in ... preparation for any judicial or administrative proceeding pertaining to the
enforcement of a specifically designated Federal criminal statute ... or any investigation
which may result in such a proceeding ... solely for the use of such officers ... in such
preparation, proceeding or investigation". A reason that states a civil purpose — removal,
deportation, an administrative immigration arrest or warrant, locating someone for civil
enforcement — asks for a use the statute does not allow, and is refused.

How a reason is read (word by word, after casefolding and dropping punctuation):

* Civil terms: every form of *deport* ("deport", "deportation", "deportable") and of
  *remov-* used for a person ("removal", "removable", "remove the subject", "remove him",
  "remove ... from the United States"), and fixed civil phrases ("removal proceedings",
  "administrative warrant", "administrative arrest", "civil enforcement", "civil
  immigration", "immigration detainer", "notice to appear", "voluntary departure", forms
  I-200, I-205, I-247).
* "Removal" is civil whatever qualifies it: "criminal removal" and "criminal alien removal"
  still name removal under 8 U.S.C. 1229a, a civil proceeding, so they are refused.
* *remove* with an object that is not a person is not a civil purpose: "conspired to remove
  evidence", "removal of the serial numbers", "removed funds from the account" pass.
  A bare "remove" with no person after it passes too ("attempted to remove" ...), unless
  the sentence says "locate and remove".
* A removal order is a fact, not a purpose: "ignored a final removal order" (willful
  failure to depart, 8 U.S.C. 1253(a), a crime) passes.
* A past fact is not a purpose: a civil term after "after", "following", "prior (to)",
  "since", "previously", "despite", "subsequent to" (at most five words before it, and
  only words of its own phrase between: "his", "a", "final", "order", "of", "he was",
  ...), or within two words after "was", "were", "been", "had" — as in illegal reentry
  "after removal" (8 U.S.C. 1326, a crime) or "failed to depart after a final order of
  removal" (8 U.S.C. 1253(a)) — passes. A later purpose stays a purpose: "after trial, to
  deport him", "his arrest and subsequent deportation", "once convicted, remove him".
* A person's removal in the passive voice is civil too: "so that he can be removed".
* Spelling games do not hide a word: letters spaced out ("D E P O R T") are read as one
  word, digits standing for letters inside a word ("r3move", "dep0rt") as those letters, a
  word cut in two ("de-port", "re move") as one; Unicode compatibility forms (full-width
  letters) are folded, accents and invisible characters (zero-width spaces, soft hyphens)
  dropped, and Cyrillic or Greek letters that look Latin ("rеmove" with a Cyrillic е) read as
  Latin. A few Spanish words are civil too ("deportación", "expulsión", "remoción").

The check returns one message free of the reason's words, or ``None``.

Example:
    >>> purpose_problem("so that officers can locate and remove the subject") is not None
    True
    >>> purpose_problem("the subject re-entered after removal in 2019 and wired funds") is None
    True
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MESSAGE = (
    "the reason states a civil purpose (removal, deportation, an administrative arrest or "
    "warrant, civil enforcement): the information may be used solely for the criminal matter"
)

_WORD = re.compile(r"[a-z0-9]+")
#: Words that make what follows a past fact, not a purpose: temporal words up to 5 words
#: before, auxiliaries of a past event right before (up to 2 words).
_PAST = frozenset(
    {
        "after", "following", "prior", "since", "previously", "previous", "despite",
        "notwithstanding", "earlier", "subsequent", "subsequently",
    }
)  # fmt: skip
_AUX = frozenset({"was", "were", "been", "had", "got"})
#: Determiners skipped between *remove* and its object.
_SKIP = frozenset(
    {"the", "a", "an", "this", "that", "these", "those", "his", "her", "their", "said", "all",
     "any", "such", "of", "from", "our", "its", "some"}
)  # fmt: skip
#: Objects that make *remove* a person's removal.
_PERSON = frozenset(
    {
        "subject", "subjects", "him", "her", "them", "individual", "individuals", "person",
        "persons", "people", "alien", "aliens", "noncitizen", "noncitizens", "target",
        "targets", "defendant", "defendants", "suspect", "suspects", "family", "families",
        "migrant", "migrants", "immigrant", "immigrants", "taxpayer", "taxpayers", "he",
        "she", "they", "national", "nationals", "foreign", "illegal", "undocumented",
        "united", "country", "us", "u", "household", "occupants", "resident", "residents",
    }
)  # fmt: skip
#: Nouns after "removal of" / "remove" that make it about a thing, not a person.
_THING = frozenset(
    {
        "evidence", "funds", "fund", "money", "cash", "property", "assets", "asset",
        "documents", "document", "records", "record", "goods", "merchandise", "items", "item",
        "drugs", "narcotics", "firearms", "firearm", "weapons", "weapon", "contraband",
        "materials", "material", "data", "files", "file", "labels", "label", "markings",
        "serial", "numbers", "vehicle", "vehicles", "proceeds", "inventory", "equipment",
        "tags", "monitor", "device", "devices", "stamps", "seals", "hard", "computer",
        "servers", "boxes", "containers", "cargo", "shipment", "shipments", "product",
    }
)  # fmt: skip
#: Phrases that are civil whatever surrounds them (as word tuples).
_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in (
        "administrative warrant", "administrative warrants", "administrative arrest",
        "administrative immigration", "civil enforcement", "civil immigration",
        "civil arrest", "civil detention", "immigration detainer", "ice detainer",
        "detainer request", "notice to appear", "voluntary departure",
        "removal proceedings", "removal proceeding",
        "i 200", "i 205", "i 247", "i 247a", "self deport", "expedited removal",
        "locate and remove", "locate and deport",
        "immigration enforcement", "immigration arrest", "immigration processing",
        "immigration custody", "immigration court", "immigration judge", "immigration hold",
        "immigration proceedings", "immigration purposes", "ice custody", "ice hold",
        "ero", "1229a", "expulsion", "remocion", "deportacion",
    )
)  # fmt: skip
#: Words that may stand between a past-time word and the civil term it dates ("after a
#: final order of removal", "after he was deported", "prior to his deportation").
_FILLER = frozenset(
    {
        "his", "her", "their", "its", "the", "a", "an", "he", "she", "they", "it", "him",
        "being", "having", "been", "was", "were", "had", "got", "final", "prior", "earlier",
        "previous", "formal", "order", "orders", "of", "to", "in", "immigration",
        "judges", "s", "from", "united", "states", "us", "country",
    }
)  # fmt: skip
#: Past-time words that date only with "to" after them ("subsequent to his removal");
#: alone they announce what comes later ("his subsequent deportation").
_PAST_WITH_TO = frozenset({"subsequent", "subsequently"})
_PASSIVE = frozenset({"be", "being", "get", "gets", "getting", "is", "are"})
_LEET = str.maketrans("013457", "oieast")
#: Cyrillic and Greek letters that look like Latin ones (lowercase, after casefolding).
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁһԛԝαεορτυνικχ",
    "aeopcyxijsdhqwaeoptuvikx",
)
#: Civil words a writer might cut in two to hide them ("de-port", "re move").
_CUT_WORDS = frozenset(
    {"deport", "deported", "deporting", "deportation", "remove", "removed", "removal"}
)
#: What a word cut in two may start with ("de" of "de-port").
_CUT_PREFIXES = frozenset(w[:k] for w in _CUT_WORDS for k in range(1, len(w)))
#: The civil phrases by their first word: a reason's word is compared only with the phrases
#: that start with it (one dictionary look-up per word instead of every phrase).
_PHRASES_BY_FIRST: dict[str, tuple[tuple[str, ...], ...]] = {}
for _p in _PHRASES:
    _PHRASES_BY_FIRST[_p[0]] = (*_PHRASES_BY_FIRST.get(_p[0], ()), _p)


def _past(words: list[str], i: int) -> bool:
    """The civil term at ``i`` dates a past event (see the module's docstring)."""
    if any(w in _AUX for w in words[max(0, i - 2) : i]):
        return True
    for j in range(max(0, i - 5), i):
        w = words[j]
        if w not in _PAST:
            continue
        if w in _PAST_WITH_TO and (j + 1 >= len(words) or words[j + 1] != "to"):
            continue
        if all(x in _FILLER or x.isdigit() for x in words[j + 1 : i]):
            return True
    return False


def _fold(reason: str) -> str:
    """The reason as compared: compatibility forms folded, invisible characters dropped,
    look-alike letters read as Latin, case folded, apostrophes dropped."""
    if reason.isascii():  # nothing to fold but case: most reasons, and the fast path
        return reason.lower().replace("'", "")
    return _fold_unicode(reason)


def _fold_unicode(reason: str) -> str:
    """:func:`_fold` of any text, ASCII or not (an ASCII text gives what ``lower()`` does,
    apostrophes dropped: tests/rules/test_properties.py holds the fast path to it)."""
    text = unicodedata.normalize("NFKD", reason)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Mn"))
    text = text.casefold().translate(_CONFUSABLES)
    return text.replace("’", "'").replace("'", "")


def _rejoined(words: list[str]) -> list[str]:
    """Two neighbouring words that make a civil word when joined read as that word."""
    out: list[str] = []
    i = 0
    n = len(words)
    while i < n:
        if words[i] in _CUT_PREFIXES and i + 1 < n and words[i] + words[i + 1] in _CUT_WORDS:
            out.append(words[i] + words[i + 1])
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out


def _spelled_out(words: list[str]) -> list[str]:
    """Runs of three or more single letters read as one word ("d e p o r t")."""
    out: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        out.extend(["".join(run)] if len(run) >= 3 else run)
        run = []
        if w:
            out.append(w)
    return out


def _unleet(words: list[str]) -> list[str]:
    """Digits inside a word of letters read as the letters they stand for ("r3move")."""
    # a word is letters and digits only (``_WORD``): neither all letters nor all digits mixes
    return [w if w.isalpha() or w.isdigit() else w.translate(_LEET) for w in words]


def _passive_person(words: list[str], i: int) -> bool:
    """``words[i]`` ("removed") is a passive whose subject is a person ("he can be ...")."""
    if i == 0 or words[i - 1] not in _PASSIVE:
        return False
    before = words[max(0, i - 6) : i - 1]
    return any(w in _PERSON for w in before) and not any(w in _THING for w in before)


def _object(words: list[str], i: int) -> str:
    """The first word after position ``i`` that is not a determiner (``""``: none)."""
    for w in words[i + 1 : i + 5]:
        if w not in _SKIP:
            return w
    return ""


def _civil_word(words: list[str], i: int) -> bool:
    w = words[i]
    if w.startswith("deport"):
        return True
    if w in ("removal", "removals", "removable", "removability"):
        after = words[i + 1] if i + 1 < len(words) else ""
        if after in ("order", "orders"):  # a fact of a crime (8 U.S.C. 1253, 1326)
            return False
        obj = _object(words, i) if after == "of" else ""
        return obj not in _THING
    if w in ("remove", "removes", "removed", "removing"):
        obj = _object(words, i)
        return obj in _PERSON or (w == "removed" and _passive_person(words, i))
    return False


@lru_cache(maxsize=65536)
def purpose_problem(reason: str) -> str | None:
    """R-PURPOSE: ``MESSAGE`` when the reason states a civil purpose, else ``None``."""
    first = _spelled_out(_WORD.findall(_fold(reason)))
    readings = [first]
    for other in (_unleet(first), _rejoined(first), _rejoined(_unleet(first))):
        if other not in readings:
            readings.append(other)
    for words in readings:
        for i, w in enumerate(words):
            for phrase in _PHRASES_BY_FIRST.get(w, ()):
                if tuple(words[i : i + len(phrase)]) == phrase and not _past(words, i):
                    return MESSAGE
            if w.startswith(("deport", "remov")) and _civil_word(words, i) and not _past(words, i):
                return MESSAGE
    return None
