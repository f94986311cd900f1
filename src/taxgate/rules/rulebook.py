"""The rulebook: an authoring form (YAML) compiled into a validated, frozen :class:`Rulebook`.

Every threshold the statute or an agreement fixes lives in the rulebook, never in code, and
every decision names the rulebook's ``version``. Compilation collects every problem of the
document and raises them together as one :class:`~taxgate.errors.ConfigError`.

Example:
    >>> rb = load_rulebook()
    >>> rb.version.startswith("6103i2")
    True
    >>> rb.enabled["R-ADDRESS"]
    'on'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from taxgate.config import PACKAGE_DATA
from taxgate.errors import ConfigError
from taxgate.rules.authority import AUTHORITIES, JUSTICE_AGENCIES, authority_problem
from taxgate.rules.identity import (
    DEFAULT_ELEMENTS,
    IdentityPolicy,
    check_match_threshold,
    compile_identity,
    default_policy,
)
from taxgate.rules.safeguards import SafeguardPolicy, compile_safeguards

DEFAULT_RULEBOOK = PACKAGE_DATA / "rulebook.yaml"

#: Rules that carry a switch, in the order the trace lists them.
RULE_CODES: tuple[str, ...] = (
    "R-SIGNATURE",
    "R-REQUESTER",
    "R-CASE",
    "R-OFFICER",
    "R-ENGAGEMENT",
    "R-NAME",
    "R-ADDRESS",
    "R-PERIOD",
    "R-STATUTE",
    "R-REASON",
    "R-PURPOSE",
    "R-INFO",
    "R-DUPLICATE",
)
#: Rules the statute itself requires, with the clause: a rulebook cannot switch them off or
#: send them to review (compile error). R-REASON's presence part is statutory; its minimum
#: length and boilerplate cap are policy, so R-REASON may be "review" (a missing reason is
#: still refused) but never "off". R-PURPOSE likewise may send to review, never off.
STATUTORY: Mapping[str, str] = MappingProxyType(
    {
        "R-SIGNATURE": "26 U.S.C. 6103(i)(2)(A): a written request by an official it lists",
        "R-REQUESTER": "26 U.S.C. 6103(i)(2)(A): the officials who may request",
        "R-NAME": "26 U.S.C. 6103(i)(2)(B)(i): the name of the taxpayer",
        "R-ADDRESS": "26 U.S.C. 6103(i)(2)(B)(i): the address of the taxpayer",
        "R-PERIOD": "26 U.S.C. 6103(i)(2)(B)(ii): the taxable period",
        "R-STATUTE": "26 U.S.C. 6103(i)(2)(B)(iii): the statutory authority",
        "R-REASON": "26 U.S.C. 6103(i)(2)(B)(iv): the specific reason",
        "R-PURPOSE": "26 U.S.C. 6103(i)(2)(A): solely for the use in the criminal matter",
        "M-ADDRESS": "26 U.S.C. 6103(i)(2)(B)(i): the address must be the taxpayer's",
    }
)
#: Statutory rules whose non-statutory parts may go to review (never "off").
REVIEW_ALLOWED: frozenset[str] = frozenset({"R-REASON", "R-PURPOSE"})
#: Codes decided by later stages: a citation, no switch.
OTHER_CODES: tuple[str, ...] = (
    "R-SAFEGUARDS",
    "D-TRI",
    "D-NOT-REQUESTED",
    "D-HOLDBACK",
    "D-NOT-DISCLOSABLE",
    "M-AMBIGUOUS",
    "M-NONE",
    "M-ADDRESS",
)
#: Citations a rulebook may leave out (added after the first rulebooks were written).
_DEFAULT_CITATIONS: Mapping[str, str] = MappingProxyType(
    {
        "D-HOLDBACK": "26 U.S.C. 6103(i)(6): confidential informant or tax investigation",
        "D-NOT-DISCLOSABLE": "26 U.S.C. 6103(i)(6): not disclosable by default",
        "R-SAFEGUARDS": "26 U.S.C. 6103(p)(4): safeguards, a condition of receiving return "
        "information",
    }
)
SWITCHES: frozenset[str] = frozenset({"on", "off", "review"})

_INT_THRESHOLDS: tuple[str, ...] = (
    "earliest_year",
    "max_period_span_years",
    "min_reason_words",
    "boilerplate_cap",
    "history_days",
    "max_requests_per_case",
    "max_cases_per_officer",
    "max_requests_per_case_with_review",
    "max_requests_per_officer",
    "max_requests_per_agency",
    "agency_period_days",
)
#: Thresholds added after the first rulebooks were written: a rulebook without them gets
#: these (the shipped rulebook's values).
_DEFAULT_THRESHOLDS: Mapping[str, int] = MappingProxyType(
    {
        "max_requests_per_case_with_review": 25,
        "max_requests_per_officer": 150,
        "max_requests_per_agency": 50_000,
        "agency_period_days": 30,
    }
)
_FLOAT_THRESHOLDS: tuple[str, ...] = ("boilerplate_jaccard",)
_MATCHING: tuple[str, ...] = ("match_threshold", "review_threshold", "ambiguity_threshold")
_TOP_KEYS = frozenset(
    {
        "version",
        "thresholds",
        "matching",
        "identity",
        "rules",
        "citations",
        "description",
        "requesters",
        "publication",
        "safeguards",
    }
)
_REQUESTER_KEYS = frozenset({"authorities", "justice_agencies"})
KINDS: frozenset[str] = frozenset({"statute", "policy"})


@dataclass(frozen=True)
class MatchingThresholds:
    """Probabilities the cross-verification stage works with.

    Attributes:
        match_threshold: a disclosure needs at least this match probability.
        ambiguity_threshold: a second candidate at or above it makes the match ambiguous.
        review_threshold: a probability in ``[review_threshold, match_threshold)`` goes to
            human review.
    """

    match_threshold: float = 0.999
    ambiguity_threshold: float = 0.5
    review_threshold: float = 0.9


@dataclass(frozen=True)
class Rulebook:
    """A compiled, validated rulebook (see ``data/rulebook.yaml`` for the meaning of each)."""

    version: str
    earliest_year: int
    max_period_span_years: int
    min_reason_words: int
    boilerplate_cap: int
    boilerplate_jaccard: float
    history_days: int
    max_requests_per_case: int
    max_cases_per_officer: int
    enabled: Mapping[str, str]
    matching: MatchingThresholds
    citations: Mapping[str, str]
    source: str = ""
    #: per identity element, the agreement levels that may disclose (``identity`` section)
    identity: IdentityPolicy = field(default_factory=default_policy)
    authorities: frozenset[str] = frozenset(AUTHORITIES)
    justice_agencies: frozenset[str] = JUSTICE_AGENCIES
    #: publish before disclose: no response goes out until a checkpoint covering its
    #: disclosures carries a cosignature by one of ``witnesses`` (verifier keys)
    publish_before_disclose: bool = False
    witnesses: tuple[str, ...] = ()
    #: R-ENGAGEMENT (policy serving 6103(i)(2)(A) "personally and directly engaged"):
    #: above ``max_requests_per_case`` requests on one case a person decides (co-defendants),
    #: above this they are refused
    max_requests_per_case_with_review: int = 25
    #: requests behind one officer, whatever the case numbers (batch + history)
    max_requests_per_officer: int = 150
    #: requests from one agency within ``agency_period_days`` (batch + history)
    max_requests_per_agency: int = 50_000
    agency_period_days: int = 30
    #: R-SAFEGUARDS (6103(p)(4)): the ``safeguards`` section
    safeguards: SafeguardPolicy = field(default_factory=SafeguardPolicy)

    def kind(self, code: str) -> str:
        """``statute`` (the law requires the rule) or ``policy`` (a setting serving a clause)."""
        return "statute" if code in STATUTORY else "policy"

    def switch(self, code: str) -> str:
        """The switch of rule ``code``: ``on``, ``off`` or ``review`` (unknown codes: ``on``).

        R-SAFEGUARDS has no switch: ``safeguards.action`` says review or refuse (``on``)."""
        if code == "R-SAFEGUARDS":
            return "review" if self.safeguards.action == "review" else "on"
        return self.enabled.get(code, "on")

    def citation(self, code: str) -> str:
        """The citation of ``code`` (empty when the rulebook has none)."""
        return self.citations.get(code, "")

    def requester_problem(self, authority: str, agency: str) -> str | None:
        """Why an official holding ``authority`` may not request for ``agency`` (R-REQUESTER);
        ``None`` when they may."""
        return authority_problem(
            authority, agency, allowed=self.authorities, justice_agencies=self.justice_agencies
        )


#: A rulebook without a ``requesters`` section gets the statute's list and the shipped
#: Justice agencies.
_SHIPPED_REQUESTERS: Mapping[str, Any] = {
    "authorities": list(AUTHORITIES),
    "justice_agencies": sorted(JUSTICE_AGENCIES),
}
#: A rulebook without an ``identity`` section gets the shipped element policy.
_SHIPPED_IDENTITY: Mapping[str, Any] = {"precision_target": 0.999, "elements": DEFAULT_ELEMENTS}


def _switch_value(raw: Any) -> str | None:
    if raw is True:
        return "on"
    if raw is False:
        return "off"
    if isinstance(raw, str) and raw.strip().lower() in SWITCHES:
        return raw.strip().lower()
    return None


def _mapping(doc: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    value = doc.get(key)
    if not isinstance(value, Mapping):
        problems.append(f"`{key}` must be a mapping")
        return {}
    return value


def _thresholds(section: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _INT_THRESHOLDS:
        value = section.get(key, _DEFAULT_THRESHOLDS.get(key))
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"`thresholds.{key}` must be an integer")
        elif value < 1:
            problems.append(f"`thresholds.{key}` must be at least 1, got {value}")
        else:
            out[key] = value
    for key in _FLOAT_THRESHOLDS:
        value = section.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"`thresholds.{key}` must be a number")
        elif not 0.0 < float(value) <= 1.0:
            problems.append(f"`thresholds.{key}` must be in (0, 1], got {value}")
        else:
            out[key] = float(value)
    known = set(_INT_THRESHOLDS) | set(_FLOAT_THRESHOLDS)
    problems.extend(f"unknown threshold `thresholds.{k}`" for k in section if k not in known)
    if "earliest_year" in out and not 1900 <= out["earliest_year"] <= 2100:
        problems.append("`thresholds.earliest_year` must be between 1900 and 2100")
    case, hard = out.get("max_requests_per_case"), out.get("max_requests_per_case_with_review")
    if case is not None and hard is not None and hard < case:
        problems.append(
            "`thresholds.max_requests_per_case_with_review` must be at least "
            "`max_requests_per_case` (above the first a person decides, above the second "
            "the requests are refused)"
        )
    return out


def _matching(section: Mapping[str, Any], problems: list[str]) -> MatchingThresholds | None:
    values: dict[str, float] = {}
    for key in _MATCHING:
        value = section.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"`matching.{key}` must be a number")
        elif not 0.0 <= float(value) <= 1.0:
            problems.append(f"`matching.{key}` must be in [0, 1], got {value}")
        else:
            values[key] = float(value)
    problems.extend(f"unknown setting `matching.{k}`" for k in section if k not in _MATCHING)
    if len(values) != len(_MATCHING):
        return None
    m = MatchingThresholds(**values)
    if not m.ambiguity_threshold <= m.review_threshold <= m.match_threshold:
        problems.append(
            "`matching` thresholds must satisfy ambiguity_threshold <= review_threshold"
            " <= match_threshold"
        )
    return m


def _rules(
    section: Mapping[str, Any], problems: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    enabled: dict[str, str] = {}
    citations: dict[str, str] = {}
    for code in RULE_CODES:
        entry = section.get(code)
        if not isinstance(entry, Mapping):
            problems.append(f"rule `{code}` is missing (give its switch and citation)")
            continue
        switch = _switch_value(entry.get("switch"))
        if switch is None:
            problems.append(f"rule `{code}`: `switch` must be one of on, off, review")
        elif (
            code in STATUTORY
            and switch != "on"
            and not (switch == "review" and code in REVIEW_ALLOWED)
        ):
            problems.append(
                f"rule `{code}` is required by {STATUTORY[code]}; it cannot be switched `{switch}`"
            )
        else:
            enabled[code] = switch
        kind = entry.get("kind")
        want = "statute" if code in STATUTORY else "policy"
        if kind is not None and kind != want:
            problems.append(f"rule `{code}`: `kind` is `{want}`, not `{kind}`")
        citation = entry.get("citation")
        if not isinstance(citation, str) or not citation.strip():
            problems.append(f"rule `{code}`: `citation` must be a non-empty string")
        else:
            citations[code] = citation.strip()
        extra = set(entry) - {"switch", "citation", "description", "kind"}
        problems.extend(f"rule `{code}`: unknown key `{k}`" for k in sorted(extra))
    for k in section:
        if k in RULE_CODES:
            continue
        if k in STATUTORY:
            problems.append(
                f"rule `{k}` is required by {STATUTORY[k]}; it has no switch and cannot be "
                "switched off or sent to review"
            )
        else:
            problems.append(f"unknown rule `{k}`")
    return enabled, citations


def _requesters(
    section: Mapping[str, Any], problems: list[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """``requesters.authorities`` (a subset of the statute's list) and
    ``requesters.justice_agencies`` (agency codes of the Department of Justice)."""
    problems.extend(f"unknown key `requesters.{k}`" for k in section if k not in _REQUESTER_KEYS)
    allowed: set[str] = set()
    raw = section.get("authorities")
    if not isinstance(raw, list) or not raw:
        problems.append("`requesters.authorities` must be a non-empty list")
    else:
        for a in raw:
            if a not in AUTHORITIES:
                problems.append(
                    f"`requesters.authorities`: `{a}` is not an authority 26 U.S.C. "
                    "6103(i)(2)(A) lists (one of " + ", ".join(AUTHORITIES) + ")"
                )
            else:
                allowed.add(a)
    justice: set[str] = set()
    raw = section.get("justice_agencies")
    if not isinstance(raw, list) or not all(isinstance(c, str) and c.strip() for c in raw):
        problems.append("`requesters.justice_agencies` must be a list of agency codes")
    else:
        justice = {c.strip().upper() for c in raw}
    return frozenset(allowed), frozenset(justice)


def _publication(section: object, problems: list[str]) -> tuple[bool, tuple[str, ...]]:
    """``publication``: ``publish_before_disclose`` and the ``witnesses`` whose cosignature
    counts (their verifier keys, ``name+hexid+base64``)."""
    from taxgate.audit.cosignature import parse_witness_key
    from taxgate.errors import AuditError

    if not isinstance(section, Mapping):
        problems.append("`publication` must be a mapping")
        return False, ()
    problems.extend(
        f"unknown setting `publication.{k}`"
        for k in section
        if k not in ("publish_before_disclose", "witnesses")
    )
    hold = section.get("publish_before_disclose", False)
    if not isinstance(hold, bool):
        problems.append("`publication.publish_before_disclose` must be true or false")
        hold = False
    raw = section.get("witnesses", [])
    keys: list[str] = []
    if not isinstance(raw, list):
        problems.append("`publication.witnesses` must be a list of witness keys")
        raw = []
    for n, text in enumerate(raw, start=1):
        try:
            keys.append(parse_witness_key(str(text)).text)
        except AuditError as e:
            problems.append(f"`publication.witnesses` item {n}: {e}")
    if hold and not keys and not raw:
        problems.append("`publication.publish_before_disclose` needs at least one witness")
    return hold, tuple(keys)


def compile_rulebook(doc: Mapping[str, Any], source: str) -> Rulebook:
    """Validate an authoring document and compile it.

    Args:
        doc: the parsed YAML document.
        source: where it came from (a path), named in errors.

    Returns:
        The compiled :class:`Rulebook`.

    Raises:
        ConfigError: with every problem found, not just the first.
    """
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise ConfigError("the rulebook must be a mapping", source)
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append("`version` must be a non-empty string")
    problems.extend(f"unknown key `{k}`" for k in doc if k not in _TOP_KEYS)
    thresholds = _thresholds(_mapping(doc, "thresholds", problems), problems)
    matching = _matching(_mapping(doc, "matching", problems), problems)
    identity = compile_identity(doc.get("identity", _SHIPPED_IDENTITY), problems)
    if matching is not None:
        check_match_threshold(identity, matching.match_threshold, problems)
    enabled, citations = _rules(_mapping(doc, "rules", problems), problems)
    authorities, justice = _requesters(
        _mapping(doc, "requesters", problems) if "requesters" in doc else _SHIPPED_REQUESTERS,
        problems,
    )
    publish, witnesses = _publication(doc.get("publication", {}), problems)
    safeguards = compile_safeguards(doc.get("safeguards"), problems)
    other = _mapping(doc, "citations", problems)
    for code in OTHER_CODES:
        text = other.get(code, _DEFAULT_CITATIONS.get(code))
        if not isinstance(text, str) or not text.strip():
            problems.append(f"`citations.{code}` must be a non-empty string")
        else:
            citations[code] = text.strip()
    problems.extend(f"unknown code `citations.{k}`" for k in other if k not in OTHER_CODES)
    if problems or matching is None or not isinstance(version, str):
        raise ConfigError(problems or ["invalid rulebook"], source)
    return Rulebook(
        version=version.strip(),
        enabled=MappingProxyType(enabled),
        matching=matching,
        citations=MappingProxyType(citations),
        source=source,
        identity=identity,
        authorities=authorities,
        justice_agencies=justice,
        publish_before_disclose=publish,
        witnesses=witnesses,
        safeguards=safeguards,
        **thresholds,
    )


def shipped_rulebooks() -> dict[str, Path]:
    """The rulebooks shipped with taxgate, by short name (``default``, ``strict``, ...)."""
    out = {"default": PACKAGE_DATA / "rulebook.yaml"}
    for path in sorted((PACKAGE_DATA / "rulebooks").glob("*.yaml")):
        out[path.stem.split("-", 1)[-1]] = path
        out[path.stem] = path
    return out


def shipped_rulebook(name_or_file: str) -> Path:
    """A rulebook file from a shipped rulebook's name (``strict``) or a path to a YAML file.

    Example:
        >>> shipped_rulebook("strict").name
        '6103i2-strict.yaml'
    """
    path = Path(name_or_file).expanduser()
    if path.is_file():
        return path
    shipped = shipped_rulebooks()
    if name_or_file in shipped:
        return shipped[name_or_file]
    names = ", ".join(sorted(k for k in shipped if "-" not in k))
    from taxgate.errors import UsageError

    raise UsageError(
        f"no rulebook file or shipped rulebook named `{name_or_file}` (shipped: {names})"
    )


def load_rulebook(path: Path | None = None) -> Rulebook:
    """Read and compile a rulebook file.

    Args:
        path: a ``rulebook.yaml``; ``None`` reads the one shipped with the package.

    Raises:
        ConfigError: the file is unreadable, not YAML, or fails validation (all problems).
    """
    path = Path(path) if path is not None else DEFAULT_RULEBOOK
    return compile_rulebook(read_yaml(path, "the rulebook"), str(path))


def read_yaml(path: Path, what: str) -> Any:
    """A configuration file's YAML document; ConfigError names ``what`` and the file."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}", str(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} is not valid YAML: {exc}", str(path)) from exc
