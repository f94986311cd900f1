"""The statute catalog: which offenses a request may cite, with citations normalised.

"8 USC § 1324", "8 U.S.C. §1324" and "8 u.s.c. 1324" are one citation; a subsection such as
"8 U.S.C. 1324(a)(1)(A)" inherits its section unless the catalog lists it itself.

Example:
    >>> normalise_citation("8 U.S.C. §1324(a)(1)(A)")
    '8 usc 1324(a)(1)(a)'
    >>> load_statutes().lookup("8 USC § 1324").criminal
    True
"""

from __future__ import annotations

import re
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
_SECTION_WORDS = re.compile(r"§+|\bsec(?:tion)?s?\b\.?|\bss\.?")


def normalise_citation(text: str) -> str:
    """Canonical form of a U.S. Code citation: ``"<title> usc <section>(<sub>)..."``.

    Case, dots, section signs and spaces are dropped; text that is not a U.S. Code citation
    is returned casefolded with collapsed spaces (it then matches nothing in the catalog).
    """
    s = text.casefold().replace("u.s.c.", "usc").replace("u. s. c.", "usc")
    s = _SECTION_WORDS.sub(" ", s).replace(".", "")
    s = re.sub(r"\bu\s*s\s*c\b", "usc", s)
    s = re.sub(r"\s+(?=\()", "", " ".join(s.split()))
    m = _CITE_RE.match(s)
    if m is None:
        return s
    return f"{int(m.group(1))} usc {m.group(2)}{m.group(3)}"


@dataclass(frozen=True)
class Statute:
    """One catalog entry."""

    citation: str
    title: str
    criminal: bool
    title_number: int

    @property
    def allowed(self) -> bool:
        """A request may cite it: criminal and not a Title 26 (tax) offense."""
        return self.criminal and self.title_number != TAX_TITLE


@dataclass(frozen=True)
class StatuteCatalog:
    """Statutes by normalised citation."""

    version: str
    by_citation: Mapping[str, Statute]

    def lookup(self, citation: str) -> Statute | None:
        """The entry for ``citation``, or for the nearest listed enclosing section."""
        key = normalise_citation(citation)
        while True:
            found = self.by_citation.get(key)
            if found is not None:
                return found
            if not key.endswith(")") or "(" not in key:
                return None
            key = key[: key.rindex("(")]


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
    for i, entry in enumerate(entries):
        where = f"`statutes[{i}]`"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a mapping")
            continue
        cite, title = entry.get("citation"), entry.get("title")
        criminal, number = entry.get("criminal"), entry.get("title_number")
        ok = True
        if not isinstance(cite, str) or not _CITE_RE.match(normalise_citation(cite)):
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
        if not ok:
            continue
        assert isinstance(cite, str) and isinstance(title, str)
        assert isinstance(criminal, bool) and isinstance(number, int)
        key = normalise_citation(cite)
        if not key.startswith(f"{number} usc "):
            problems.append(f"{where}: `title_number` {number} does not match `{cite}`")
            continue
        if key in by:
            problems.append(f"{where}: `{cite}` is listed twice")
            continue
        by[key] = Statute(cite, title, criminal, number)
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
