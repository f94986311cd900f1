"""The rulebook's ``identity`` section: which agreement of each identity element may disclose.

A Fellegi-Sunter sum lets strong agreements buy off a hard disagreement; a disclosure must
not. So every identity element the request supplies is compared on its own and given a
*level* (``exact``, ``typo``, ``nickname``, ``other``, ...; the vocabulary is
:data:`LEVELS`), and the rulebook says, per element, which levels allow an automatic
disclosure (``auto``, and ``auto_with_exact_dob`` for slips that identify the person only
when the date of birth agrees exactly too: a first name one keystroke from the record's is
a typo or a relative's name, and without the date of birth nothing tells which; otherwise
they go to a reviewer) and which only a human reviewer's (``review``, and
``review_with_exact_dob`` for those that are plausible only when the date of birth agrees
exactly, such as another surname after a marriage). Any other level *vetoes* the
disclosure whatever the total weight. An element the request does not supply
(``not_given``) is never held against it.

Example:
    >>> p = compile_identity({"precision_target": 0.999, "elements": DEFAULT_ELEMENTS}, [])
    >>> p.verdict({"last_name": "other", "dob": "not_given"})
    ('veto', ('last_name',), ())
    >>> p.verdict({"last_name": "other", "dob": "exact"})
    ('review', (), ('last_name',))
    >>> p.verdict({"first_name": "typo", "dob": "not_given"})
    ('auto', (), ())
    >>> p.verdict({"first_name": "typo", "dob": "typo"})
    ('review', (), ('dob',))
    >>> p.verdict({"first_name": "close", "dob": "exact"})
    ('review', (), ('first_name',))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: Identity elements in the order evidence lists them, with the levels each can reach
#: (besides ``not_given``: the request did not supply the element).
LEVELS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "first_name": (
            "exact", "nickname", "typo", "initial", "partial", "close", "swapped",
            "not_on_record", "other",
        ),
        "middle_name": ("exact", "initial", "typo", "not_on_record", "other"),
        "last_name": (
            "exact", "particles", "hyphenation", "second_surname_dropped", "typo",
            "surname_part", "close", "swapped", "not_on_record", "other",
        ),
        "suffix": ("exact", "not_on_record", "conflict"),
        "dob": ("exact", "typo", "not_on_record", "other"),
        "house_number": ("exact", "transposed", "not_on_record", "other"),
        "street": ("exact", "typo", "type_differs", "not_on_record", "other"),
        "unit": ("exact", "close", "not_on_record", "other"),
        "city": ("exact", "typo", "not_on_record", "other"),
        "zip": ("exact", "typo", "not_on_record", "other"),
    }
)  # fmt: skip
ELEMENTS: tuple[str, ...] = tuple(LEVELS)
#: Elements that describe the person (a veto here: not this person, not even a candidate).
PERSON_ELEMENTS: tuple[str, ...] = ("first_name", "middle_name", "last_name", "suffix", "dob")
#: Elements that describe the address (a veto here: this person, perhaps, but not there).
ADDRESS_ELEMENTS: tuple[str, ...] = ("house_number", "street", "unit", "city", "zip")

#: The shipped policy (also written out in ``data/rulebook.yaml``).
DEFAULT_ELEMENTS: Mapping[str, Mapping[str, list[str]]] = MappingProxyType(
    {
        "first_name": {"auto": ["exact", "nickname", "typo"],
                       "review": ["initial", "partial", "close", "swapped"]},
        "middle_name": {"auto": ["exact", "initial", "typo"],
                        "review": ["not_on_record", "other"]},
        "last_name": {"auto": ["exact", "particles", "hyphenation", "second_surname_dropped",
                               "typo"],
                      "review": ["surname_part", "close", "swapped"],
                      "review_with_exact_dob": ["other"]},
        "suffix": {"auto": ["exact"], "review": ["not_on_record"]},
        "dob": {"auto": ["exact", "not_on_record"], "review": ["typo"]},
        "house_number": {"auto": ["exact"], "review": ["transposed"]},
        "street": {"auto": ["exact", "typo"], "review": ["type_differs"]},
        "unit": {"auto": ["exact"], "review": ["close", "not_on_record"]},
        "city": {"auto": ["exact", "typo"], "review": ["other"]},
        "zip": {"auto": ["exact"], "review": ["typo"]},
    }
)  # fmt: skip

_POLICY_KEYS = ("auto", "auto_with_exact_dob", "review", "review_with_exact_dob")


@dataclass(frozen=True)
class ElementPolicy:
    """The levels of one element that allow an automatic disclosure or a review."""

    auto: frozenset[str]
    auto_with_exact_dob: frozenset[str] = frozenset()
    review: frozenset[str] = frozenset()
    review_with_exact_dob: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Band:
    """Observed precision of automatic disclosures in one probability band (calibration)."""

    low: float
    precision: float
    pairs: int


@dataclass(frozen=True)
class IdentityPolicy:
    """The compiled ``identity`` section.

    Attributes:
        elements: per element, the levels that allow ``auto`` disclosure or ``review``.
        precision_target: observed precision an automatic band must reach.
        calibration: bands measured on labelled data (highest first); the match
            threshold may not sit in a band whose precision is below the target.
    """

    elements: Mapping[str, ElementPolicy]
    precision_target: float = 0.999
    calibration: tuple[Band, ...] = field(default=())

    def verdict(self, levels: Mapping[str, str]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """``(auto|review|veto, vetoing elements, discrepancies)`` of one compared pair.

        ``levels`` maps elements to their level; a missing element is ``not_given``.
        """
        dob_exact = levels.get("dob") == "exact"
        vetoes: list[str] = []
        review: list[str] = []
        for name in ELEMENTS:
            level = levels.get(name, "not_given")
            pol = self.elements[name]
            if level == "not_given" or level in pol.auto:
                continue
            if dob_exact and level in pol.auto_with_exact_dob:
                continue
            if (
                level in pol.review
                or level in pol.auto_with_exact_dob
                or (dob_exact and level in pol.review_with_exact_dob)
            ):
                review.append(name)
            else:
                vetoes.append(name)
        status = "veto" if vetoes else "review" if review else "auto"
        return status, tuple(vetoes), tuple(review)


def compile_identity(section: Any, problems: list[str]) -> IdentityPolicy:
    """Validate and compile the ``identity`` section; problems are appended, not raised."""
    if not isinstance(section, Mapping):
        problems.append("`identity` must be a mapping")
        return default_policy()
    target = section.get("precision_target")
    if isinstance(target, bool) or not isinstance(target, int | float):
        problems.append("`identity.precision_target` must be a number")
        target = 0.999
    elif not 0.0 < float(target) <= 1.0:
        problems.append(f"`identity.precision_target` must be in (0, 1], got {target}")
    elements_doc = section.get("elements")
    elements: dict[str, ElementPolicy] = {}
    if not isinstance(elements_doc, Mapping):
        problems.append("`identity.elements` must be a mapping")
        elements_doc = {}
    for name in ELEMENTS:
        entry = elements_doc.get(name)
        if not isinstance(entry, Mapping):
            problems.append(f"`identity.elements.{name}` is missing (give its auto levels)")
            continue
        sets: dict[str, frozenset[str]] = {}
        for key in _POLICY_KEYS:
            raw = entry.get(key, [])
            if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                problems.append(f"`identity.elements.{name}.{key}` must be a list of levels")
                raw = []
            unknown = [v for v in raw if v not in LEVELS[name]]
            problems.extend(
                f"`identity.elements.{name}.{key}`: unknown level `{v}`"
                f" (one of {', '.join(LEVELS[name])})"
                for v in unknown
            )
            sets[key] = frozenset(v for v in raw if v in LEVELS[name])
        problems.extend(
            f"`identity.elements.{name}`: unknown key `{k}`" for k in entry if k not in _POLICY_KEYS
        )
        if {"other", "conflict"} & (sets["auto"] | sets["auto_with_exact_dob"]):
            problems.append(
                f"`identity.elements.{name}.auto`: a disagreeing element may never disclose"
                " automatically"
            )
        both = (sets["auto"] | sets["auto_with_exact_dob"]) & (
            sets["review"] | sets["review_with_exact_dob"]
        ) | (sets["auto"] & sets["auto_with_exact_dob"])
        problems.extend(
            f"`identity.elements.{name}`: level `{v}` is both auto and review" for v in sorted(both)
        )
        elements[name] = ElementPolicy(**sets)
    problems.extend(
        f"unknown identity element `identity.elements.{k}`" for k in elements_doc if k not in LEVELS
    )
    calibration = _calibration(section.get("calibration", []), problems)
    problems.extend(
        f"unknown setting `identity.{k}`"
        for k in section
        if k not in ("precision_target", "elements", "calibration", "description")
    )
    if len(elements) != len(ELEMENTS):
        return default_policy()
    return IdentityPolicy(MappingProxyType(elements), float(target), calibration)


def _calibration(raw: Any, problems: list[str]) -> tuple[Band, ...]:
    if not isinstance(raw, list):
        problems.append("`identity.calibration` must be a list of bands")
        return ()
    bands = []
    for i, b in enumerate(raw):
        ok = isinstance(b, Mapping) and all(
            isinstance(b.get(k), int | float) and not isinstance(b.get(k), bool)
            for k in ("from", "precision", "pairs")
        )
        if not ok:
            problems.append(
                f"`identity.calibration[{i}]` needs numbers `from`, `precision`, `pairs`"
            )
            continue
        bands.append(Band(float(b["from"]), float(b["precision"]), int(b["pairs"])))
    return tuple(sorted(bands, key=lambda x: -x.low))


def check_match_threshold(
    policy: IdentityPolicy, match_threshold: float, problems: list[str]
) -> None:
    """A band whose observed precision is below the target may not disclose automatically.

    The band holding ``match_threshold`` and every band above it must reach the target.
    """
    for band in policy.calibration:
        if band.low < match_threshold and band is not _band_of(policy, match_threshold):
            continue
        if band.precision < policy.precision_target:
            problems.append(
                f"`matching.match_threshold` {match_threshold} discloses automatically in the band"
                f" from {band.low}, whose observed precision {band.precision} is below"
                f" `identity.precision_target` {policy.precision_target}"
            )


def _band_of(policy: IdentityPolicy, p: float) -> Band | None:
    for band in policy.calibration:  # highest first
        if p >= band.low:
            return band
    return None


def default_policy() -> IdentityPolicy:
    """The shipped policy (:data:`DEFAULT_ELEMENTS`), for code paths without a rulebook."""
    elements = {
        name: ElementPolicy(**{k: frozenset(v) for k, v in entry.items()})
        for name, entry in DEFAULT_ELEMENTS.items()
    }
    return IdentityPolicy(MappingProxyType(elements))
