"""A refusal (403) in words for a person: what they tried, why not, and where to go.

Pure: a method, a path and the roles a page admits in; sentences out.

    >>> attempted("GET", "/web/audit/entries")
    'open the audit log’s entries'
    >>> attempted("POST", "/web/review/REQ-7")
    'decide request REQ-7'
    >>> attempted("GET", "/web/somewhere/else")
    'open /web/somewhere/else'
    >>> who_may(frozenset({"auditor", "admin"}))
    'auditors and administrators'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

#: (method, path pattern, what a person tried), first match wins; ``{id}`` is the match.
ATTEMPTS: tuple[tuple[str, str, str], ...] = (
    ("POST", r"/web/review/([^/]+)", "decide request {id}"),
    ("POST", r"/web/audit/verify", "verify the audit log"),
    ("POST", r"/web/transparency", "publish a transparency report (it spends privacy budget)"),
    ("POST", r".*", "send this form"),
    ("GET", r"/web/review", "open the review queue"),
    ("GET", r"/web/review/([^/]+)", "open the case file of request {id}"),
    ("GET", r"/web/audit", "open the audit log"),
    ("GET", r"/web/audit/entries", "open the audit log’s entries"),
    ("GET", r"/web/audit/proof", "look up an inclusion proof in the audit log"),
    ("GET", r"/web/audit/export\.json", "download the audit log’s export"),
    ("GET", r"/web/disclosures(\.csv)?", "open the record of disclosures"),
    ("GET", r"/web/reports/oversight", "open the oversight report"),
    ("GET", r"/web/decisions(\.csv)?", "open the list of decisions"),
    ("GET", r"/web/decisions/([^/]+)", "open why request {id} was decided"),
    ("GET", r"/web/batches/([^/]+)/response.*", "download the signed response of batch {id}"),
    ("GET", r"/web/batches/([^/]+)", "open batch {id}"),
)

ROLE_WORDS = {
    "agency": ("an agency user", "agency users"),
    "officer": ("a disclosure officer", "disclosure officers"),
    "reviewer": ("a reviewer", "reviewers"),
    "auditor": ("an auditor", "auditors"),
    "admin": ("an administrator", "administrators"),
}
ORDER = tuple(ROLE_WORDS)


def attempted(method: str, path: str) -> str:
    """What a person tried to do, in words."""
    verb = "POST" if method.upper() not in ("GET", "HEAD") else "GET"
    for m, pattern, words in ATTEMPTS:
        found = re.fullmatch(pattern, path)
        if m == verb and found:
            ident = unquote(found.group(1)) if found.groups() and found.group(1) else ""
            return words.replace("{id}", ident)
    return f"open {path}"


def role_word(role: str) -> str:
    """``a reviewer``, ``an auditor``, ... (the role itself when unknown)."""
    return ROLE_WORDS.get(role, (role, role))[0]


def who_may(roles: Iterable[str]) -> str:
    """The roles that may, in words and in a fixed order."""
    names = [ROLE_WORDS[r][1] for r in ORDER if r in set(roles)]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
