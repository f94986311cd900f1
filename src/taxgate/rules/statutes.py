"""The statute catalog: which offenses a request may cite, with citations normalised.

"8 USC § 1324", "8 U.S.C. §1324", "8 u.s.c. 1324" and "Title 8, United States Code, Section
1324" are one citation. A subsection such as "8 U.S.C. 1326(b)(2)" inherits its section
unless the catalog lists it itself, except in a section that mixes criminal and civil parts
(26 U.S.C. 6103(i)(2)(A), (B)(iii): only a criminal matter): there a subsection never
inherits, it is judged by the part the catalog lists it under (``criminal_subsections``,
``civil_subsections``), and an unlisted one is refused.

Example:
    >>> normalise_citation("8 U.S.C. §1324(a)(1)(A)")
    '8 usc 1324(a)(1)(a)'
    >>> cat = load_statutes()
    >>> cat.lookup("8 USC § 1324").criminal
    True
    >>> cat.problem("18 U.S.C. § 1956(b)(1)")
    'the statute is a civil provision, not a criminal one'
    >>> cat.problem("18 U.S.C. 1956(a)(1)(B)(i)") is None
    True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from taxgate.config import PACKAGE_DATA
from taxgate.errors import ConfigError
from taxgate.rules.rulebook import read_yaml

DEFAULT_STATUTES = PACKAGE_DATA / "statutes.yaml"
TAX_TITLE = 26

_CITE_RE = re.compile(r"^(\d{1,2})\s*usc\s*(\d+[a-z0-9-]*)((?:\([a-z0-9]+\))*)$")
_SUB_RE = re.compile(r"^(?:\([a-z0-9]+\))+$")
_SECTION_WORDS = re.compile(r"§+|\bsec(?:tion)?s?\b\.?|\bss\b\.?")
_CODE_WORDS = re.compile(r"\bunited\s+states\s+code\b|\bu\.?\s*s\.?\s+code\b")
_TITLE_FIRST = re.compile(r"^\s*title\s+(\d{1,2})\s*,?\s*(?:of\s+the\s+)?usc\b\s*,?")
#: How the U.S. Code numbers the levels below a section: (a)(1)(A)(i)(I), case folded.
_LEVELS = (
    re.compile(r"[a-z]{1,2}"),
    re.compile(r"\d{1,3}"),
    re.compile(r"[a-z]{1,2}"),
    re.compile(r"[ivx]{1,6}"),
    re.compile(r"[ivx]{1,6}"),
)

NO_STATUTE = "no statute is cited"
NOT_A_CITATION = "the statute is not a U.S. Code citation (title, U.S.C., section)"
BAD_SUBSECTION = "the subsection is not numbered as the U.S. Code numbers them ((a)(1)(A)(i))"
NOT_IN_CATALOG = "the statute is not in the statute catalog"
UNLISTED_PART = (
    "the section mixes criminal and civil parts and the catalog does not list the subsection "
    "cited as a criminal one"
)
CIVIL = "the statute is a civil provision, not a criminal one"
RANGE = (
    "the statute cites a range of sections (et seq., through): it reaches provisions the "
    "request does not name, civil ones among them; cite each section, separated by `;`"
)
_RANGE_WORDS = re.compile(r"\bet\s*seq\b|\bthrough\b|\bthru\b|\bff\b")
#: Between full citations in one part: a comma, "and", "&" (never "or" nor "/": an
#: alternative does not state the authority under which the investigation is conducted).
_JOINERS = re.compile(r"\s*(?:,(?:\s*(?:and\b|&))?|&|\band\b)\s*", re.IGNORECASE)
_BARE_SECTION = re.compile(r"^(?:§+\s*)?(\d+[a-z0-9-]*)((?:\s*\([a-z0-9]+\))*)$", re.IGNORECASE)
_BARE_SUBSECTIONS = re.compile(r"^(?:\s*\([a-z0-9]+\))+$", re.IGNORECASE)
TAX = "a Title 26 (tax) offense cannot be the basis of a request"


def normalise_citation(text: str) -> str:
    """Canonical form of a U.S. Code citation: ``"<title> usc <section>(<sub>)..."``.

    Unicode compatibility forms (full-width digits, no-break spaces) are folded, then case,
    dots, commas, section signs, "sec."/"section" and spaces are dropped; "United States
    Code", "U.S. Code", "U.S.C.A." and "U.S.C.S." read as "U.S.C."; "Title 18, United States
    Code, Section 1956" reads as "18 U.S.C. 1956". Text that is not a U.S. Code citation is
    returned folded with collapsed spaces (it then matches nothing in the catalog).

    Example:
        >>> normalise_citation("Title 18, United States Code, Section 1956 (h)")
        '18 usc 1956(h)'
        >>> normalise_citation("18 U. S. C. A. sec. 1956(b )")
        '18 usc 1956(b)'
    """
    s = unicodedata.normalize("NFKC", text).casefold()
    s = _CODE_WORDS.sub(" usc ", s)
    s = _SECTION_WORDS.sub(" ", s).replace(".", " ").replace(",", " ")
    s = re.sub(r"(?:\b|(?<=\d))u\s*s\s*c\b(?:\s*[as]\b)?", " usc ", s)
    s = _TITLE_FIRST.sub(r"\1 usc", s)
    s = " ".join(s.split())
    s = re.sub(r"\s*\(\s*", "(", s)
    s = re.sub(r"\s*\)", ")", s)
    m = _CITE_RE.match(s)
    if m is None:
        return s
    return f"{int(m.group(1))} usc {m.group(2)}{m.group(3)}"


def split_statutes(text: str) -> list[str]:
    """The citations of a request's ``statute`` column, each to be judged on its own.

    Citations are separated by ``;`` or a line break. A part that is not one citation is
    split at commas, "and" and "&" when every piece is then a citation, a bare section
    taking the title before it ("18 U.S.C. §§ 1956, 1957") and bare subsections the section
    before them ("8 U.S.C. 1324(a), (b)" is 1324(a) and 1324(b)): so a civil provision
    joined to a criminal one is judged, and refused, as itself. Anything else stays whole
    (and is refused as not a citation).

    >>> split_statutes("18 U.S.C. §§ 1956, 1957")
    ['18 usc 1956', '18 usc 1957']
    >>> split_statutes("8 U.S.C. 1324(a) and (b); 21 USC 846")
    ['8 usc 1324(a)', '8 usc 1324(b)', '21 USC 846']
    >>> split_statutes("Title 18, United States Code, Section 1956")
    ['Title 18, United States Code, Section 1956']
    """
    out: list[str] = []
    for part in re.split(r"[;\n\r]", text):
        part = part.strip()
        if not part:
            continue
        if split_citation(part) is not None or _RANGE_WORDS.search(part.casefold()):
            out.append(part)
            continue
        out.extend(_joined(part) or [part])
    return out


def _joined(part: str) -> list[str] | None:
    """The citations of a part joined by commas, "and" or "&"; ``None`` unless every piece
    is a citation, or a bare section or subsections following one."""
    pieces = [p.strip() for p in _JOINERS.split(part)]
    if len(pieces) < 2 or not all(pieces):
        return None
    out: list[str] = []
    title = section = ""
    for piece in pieces:
        m = _CITE_RE.match(normalise_citation(piece))
        if m is not None:
            title, section = m.group(1), f"{m.group(1)} usc {m.group(2)}"
            out.append(normalise_citation(piece))
        elif title and (bare := _BARE_SECTION.match(piece)):
            section = f"{title} usc {bare.group(1).casefold()}"
            out.append(normalise_citation(section + bare.group(2)))
        elif section and _BARE_SUBSECTIONS.match(piece):
            out.append(normalise_citation(section + piece))
        else:
            return None
    return out


def _levels(subsections: str) -> list[str]:
    return re.findall(r"\(([a-z0-9]+)\)", subsections)


def well_numbered(subsections: str) -> bool:
    """The subsections follow the U.S. Code's numbering, level by level.

    >>> well_numbered("(a)(1)(b)(ii)"), well_numbered("(a)(b)"), well_numbered("")
    (True, False, True)
    """
    parts = _levels(subsections)
    return all(
        i >= len(_LEVELS) or _LEVELS[i].fullmatch(p) is not None for i, p in enumerate(parts)
    )


def display_subsections(subsections: str) -> str:
    """Subsections as the U.S. Code prints them: ``(a)(1)(A)(i)(I)``.

    >>> display_subsections("(a)(1)(a)(ii)(i)")
    '(a)(1)(A)(ii)(I)'
    """
    parts = _levels(subsections)
    return "".join(f"({p.upper() if i in (2, 4) else p})" for i, p in enumerate(parts))


def split_citation(text: str) -> tuple[str, str] | None:
    """``(section key, subsections)`` of a citation, both normalised, or ``None`` when the
    text is not a well-numbered U.S. Code citation.

    >>> split_citation("8 USC § 1324 (a)(1)(A)")
    ('8 usc 1324', '(a)(1)(a)')
    >>> split_citation("Jane Roe") is None, split_citation("8 U.S.C. 1324(a)(b)") is None
    (True, True)
    """
    m = _CITE_RE.match(normalise_citation(text))
    if m is None or not well_numbered(m.group(3)):
        return None
    return f"{m.group(1)} usc {m.group(2)}", m.group(3)


def section_label(key: str) -> str:
    """A normalised section key as printed: ``"18 usc 1028a"`` -> ``"18 U.S.C. 1028A"``."""
    title, _, section = key.partition(" usc ")
    return f"{title} U.S.C. {section.upper()}"


@dataclass(frozen=True)
class Statute:
    """One catalog entry (a section, or a listed part of a section mixing civil and criminal).

    Attributes:
        citation: as the catalog writes it.
        title: the heading.
        criminal: whether citing it makes a criminal matter (a mixed section: cited whole).
        title_number: the U.S. Code title.
        purpose: the general purpose the yearly report names (6103(p)(3)(C)).
        source: where the section's text is (the U.S. Code, uscode.house.gov).
        mixed: the section mixes criminal and civil parts; its subsections never inherit.
    """

    citation: str
    title: str
    criminal: bool
    title_number: int
    purpose: str = ""
    source: str = ""
    mixed: bool = False

    @property
    def allowed(self) -> bool:
        """A request may cite it: criminal and not a Title 26 (tax) offense."""
        return self.criminal and self.title_number != TAX_TITLE


@dataclass(frozen=True)
class StatuteCatalog:
    """Statutes by normalised citation."""

    version: str
    by_citation: Mapping[str, Statute]

    def resolve(self, citation: str) -> tuple[Statute | None, str | None]:
        """The entry ``citation`` falls under and why a request may not cite it (``None``:
        it may). One citation; a request's ``;``-separated list is split by the caller."""
        key = normalise_citation(citation)
        if not key:
            return None, NO_STATUTE
        m = _CITE_RE.match(key)
        if m is None:
            return None, RANGE if _RANGE_WORDS.search(key) else NOT_A_CITATION
        if not well_numbered(m.group(3)):
            return None, BAD_SUBSECTION
        section = f"{m.group(1)} usc {m.group(2)}"
        k = key
        while True:
            found = self.by_citation.get(k)
            if found is not None:
                break
            if k == section:
                return None, NOT_IN_CATALOG
            k = k[: k.rindex("(")]
        if found.mixed and k != key:
            return None, UNLISTED_PART
        if found.title_number == TAX_TITLE:
            return found, TAX
        if not found.criminal:
            return found, CIVIL
        return found, None

    def lookup(self, citation: str) -> Statute | None:
        """The entry for ``citation``: itself, or the nearest listed enclosing section or
        part; ``None`` when unlisted (a subsection of a mixed section never inherits)."""
        return self.resolve(citation)[0]

    def problem(self, citation: str) -> str | None:
        """Why a request may not cite ``citation`` (R-STATUTE), ``None`` when it may."""
        return self.resolve(citation)[1]

    def section_labels(self) -> dict[str, str]:
        """Normalised section key -> the section as the catalog writes it (for reports)."""
        out: dict[str, str] = {}
        for key, s in self.by_citation.items():
            if "(" not in key:
                out[key] = s.citation
        return out

    def purpose_of(self, citation: str) -> str | None:
        """The general purpose of the entry ``citation`` falls under (``None``: unlisted)."""
        found = self.lookup(citation)
        return found.purpose if found is not None and found.purpose else None


def _subsections(
    raw: Any, where: str, problems: list[str], section_key: str
) -> dict[str, str] | None:
    """A ``{subsection: heading}`` mapping of a mixed section, validated."""
    if not isinstance(raw, Mapping) or not raw:
        problems.append(f"{where} must map each subsection (like `(b)`) to its heading")
        return None
    out: dict[str, str] = {}
    for sub, heading in raw.items():
        text = "".join(str(sub).casefold().split())
        if not _SUB_RE.match(text) or not well_numbered(text):
            problems.append(f"{where}: `{sub}` is not a subsection like `(b)` or `(a)(1)`")
        elif not isinstance(heading, str) or not heading.strip():
            problems.append(f"{where}: `{sub}` needs a heading")
        else:
            out[section_key + text] = heading.strip()
    return out


def _https(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"^https://[^\s/]+\.[^\s/]+/\S*$", value) is not None


def compile_statutes(doc: Any, source: str) -> StatuteCatalog:
    """Validate a ``statutes.yaml`` document; every problem is collected, then raised."""
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise ConfigError("the statute catalog must be a mapping", source)
    version = doc.get("version")
    if not isinstance(version, str) or not version:
        problems.append("`version` must be a non-empty string")
    entries = doc.get("statutes")
    if not isinstance(entries, list) or not entries:
        problems.append("`statutes` must be a non-empty list")
        entries = []
    by: dict[str, Statute] = {}
    known = {
        "citation",
        "title",
        "criminal",
        "title_number",
        "purpose",
        "source",
        "criminal_subsections",
        "civil_subsections",
    }
    for i, entry in enumerate(entries):
        where = f"`statutes[{i}]`"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a mapping")
            continue
        problems.extend(f"{where}: unknown key `{k}`" for k in entry if k not in known)
        cite, title = entry.get("citation"), entry.get("title")
        criminal, number = entry.get("criminal"), entry.get("title_number")
        purpose, src = entry.get("purpose"), entry.get("source")
        ok = True
        if not isinstance(cite, str) or split_citation(cite) is None:
            problems.append(
                f"{where}: `citation` must be a U.S. Code citation like `8 U.S.C. 1324`"
            )
            ok = False
        if not isinstance(title, str) or not title:
            problems.append(f"{where}: `title` must be a non-empty string")
            ok = False
        if not isinstance(criminal, bool):
            problems.append(f"{where}: `criminal` must be true or false")
            ok = False
        if isinstance(number, bool) or not isinstance(number, int):
            problems.append(f"{where}: `title_number` must be an integer")
            ok = False
        if not isinstance(purpose, str) or not purpose.strip():
            problems.append(f"{where}: `purpose` must name the general purpose (for reports)")
            ok = False
        if not _https(src):
            problems.append(
                f"{where}: `source` must be the https address of the section's text "
                "(e.g. on uscode.house.gov)"
            )
            ok = False
        mixed = "criminal_subsections" in entry or "civil_subsections" in entry
        parts: dict[str, tuple[bool, str]] = {}
        if mixed and isinstance(cite, str) and (split := split_citation(cite)) is not None:
            key = split[0] + split[1]
            crim = _subsections(
                entry.get("criminal_subsections"), f"{where}: `criminal_subsections`", problems, key
            )
            civ = _subsections(
                entry.get("civil_subsections"), f"{where}: `civil_subsections`", problems, key
            )
            if crim is None or civ is None:
                ok = False
            else:
                for k in sorted(set(crim) & set(civ)):
                    problems.append(f"{where}: `{k}` is listed both criminal and civil")
                    ok = False
                parts = {k: (True, h) for k, h in crim.items()}
                parts.update((k, (False, h)) for k, h in civ.items())
        if not ok:
            continue
        assert isinstance(cite, str) and isinstance(title, str) and isinstance(purpose, str)
        assert isinstance(criminal, bool) and isinstance(number, int) and isinstance(src, str)
        key = normalise_citation(cite)
        if not key.startswith(f"{number} usc "):
            problems.append(f"{where}: `title_number` {number} does not match `{cite}`")
            continue
        if key in by:
            problems.append(f"{where}: `{cite}` is listed twice")
            continue
        purpose = purpose.strip()
        by[key] = Statute(cite, title, criminal, number, purpose, src, mixed)
        for part, (is_criminal, heading) in parts.items():
            label = cite.strip() + display_subsections(part[len(key) :])
            by[part] = Statute(label, heading, is_criminal, number, purpose, src)
    if problems or not isinstance(version, str):
        raise ConfigError(problems, source)
    return StatuteCatalog(version, MappingProxyType(by))


def load_statutes(path: Path | None = None) -> StatuteCatalog:
    """Read the statute catalog (``None``: the one shipped with the package).

    Raises:
        ConfigError: unreadable, not YAML, or invalid (all problems collected).
    """
    path = Path(path) if path is not None else DEFAULT_STATUTES
    return compile_statutes(read_yaml(path, "the statute catalog"), str(path))
