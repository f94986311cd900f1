"""The planted defects: each turns one otherwise valid request into one the rules must refuse.

``SINGLE_DEFECTS`` maps a defect name (the ground-truth noise tag) to the rule
code it must trigger and the edit. Group defects (boilerplate reasons, one case
behind too many requests, one officer behind too many cases) need several
requests and are planted by the batch builder.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import numpy as np

from taxgate.synth import geo
from taxgate.synth.noise import Req

_COMPANY = (
    ("Sunrise Logistics", "Holdings LLC"),
    ("Pacific Freight", "Inc"),
    ("Golden State", "Staffing Corp"),
    ("Lone Star Roofing", "Company"),
    ("Harbor", "Trust Bank"),
    ("Blue Ridge Foods", "Group"),
)
_PLACEHOLDER_NAMES = (
    ("Unknown", "Unknown"),
    ("John", "Doe"),
    ("Jane", "Doe"),
    ("FNU", "<last>"),
    ("<first>", "LNU"),
    ("Test", "Test"),
    ("NA", "NA"),
)
_SHORT_REASONS = (
    "Suspected immigration violation.",
    "Subject of interest in an ongoing investigation.",
    "Illegal alien, locate and remove.",
    "Needed for enforcement purposes.",
    "See attached.",
    "Criminal investigation, address needed.",
)
_OPEN_PERIODS = ("{y}-", "{y}-present", "{y}-current", "ongoing")
# Placeholder case numbers / officers are used at most twice each per batch; the rest are
# empty, so that no placeholder piles up into an R-ENGAGEMENT failure of its own.
CASE_PLACEHOLDERS = ("N/A", "TBD", "NONE", "UNKNOWN", "-", "0")
OFFICER_PLACEHOLDERS = ("N/A", "Unknown", "TBD", "None")
BOILERPLATE_TEMPLATES = (
    "{first} {last} is an alien believed to be present in the United States in violation of "
    "law and is the subject of an ongoing investigation.",
    "The agency requests the address of {first} {last} who is believed to be removable and "
    "is the target of an open criminal investigation.",
    "{first} {last} is suspected of immigration related offenses and the last known address "
    "is needed to locate this person.",
)


def _addr(line1: str) -> Callable[[Req, random.Random, date], None]:
    def edit(r: Req, rnd: random.Random, today: date) -> None:
        r["address_line1"] = line1.format(zip=r["zip"])
        r["address_line2"] = ""

    return edit


def _zip_only(r: Req, rnd: random.Random, today: date) -> None:
    r["address_line1"], r["address_line2"], r["city"], r["state"] = r["zip"], "", "", ""


def _zip_state(r: Req, rnd: random.Random, today: date) -> None:
    r["zip"] = geo.foreign_zip(np.random.default_rng(rnd.randrange(1 << 30)), r["state"])


def _name_empty(r: Req, rnd: random.Random, today: date) -> None:
    # No name at all (a one-word name is not a defect: it goes to review). The draw is
    # kept so the random stream of the requests after this one is unchanged.
    rnd.randrange(3)
    r["first_name"] = r["last_name"] = r["middle_name"] = r["suffix"] = ""


def _name_placeholder(r: Req, rnd: random.Random, today: date) -> None:
    first, last = _PLACEHOLDER_NAMES[rnd.randrange(len(_PLACEHOLDER_NAMES))]
    r["first_name"] = r["first_name"] if first == "<first>" else first
    r["last_name"] = r["last_name"] if last == "<last>" else last
    r["middle_name"] = r["suffix"] = r["date_of_birth"] = ""


def _name_company(r: Req, rnd: random.Random, today: date) -> None:
    r["first_name"], r["last_name"] = _COMPANY[rnd.randrange(len(_COMPANY))]
    r["middle_name"] = r["suffix"] = r["date_of_birth"] = ""


def _set(field: str, *values: str) -> Callable[[Req, random.Random, date], None]:
    def edit(r: Req, rnd: random.Random, today: date) -> None:
        r[field] = values[rnd.randrange(len(values))]

    return edit


def _short_reason(r: Req, rnd: random.Random, today: date) -> None:
    r["reason"] = _SHORT_REASONS[rnd.randrange(len(_SHORT_REASONS))]


def _future(r: Req, rnd: random.Random, today: date) -> None:
    r["tax_periods"] = str(today.year) if rnd.random() < 0.5 else f"{today.year - 1};{today.year}"


def _open(r: Req, rnd: random.Random, today: date) -> None:
    y = min(2022, today.year - 1)
    r["tax_periods"] = _OPEN_PERIODS[rnd.randrange(len(_OPEN_PERIODS))].format(y=y)


def _span(r: Req, rnd: random.Random, today: date) -> None:
    end = min(2024, today.year - 1)
    r["tax_periods"] = f"{end - 7}-{end}"


# name -> (rule code, edit). Edits that touch case/officer/reason are applied after those
# are assigned (see LATE).
SINGLE_DEFECTS: dict[str, tuple[str, Callable[[Req, random.Random, date], None]]] = {
    "addr_failed_to_provide": ("R-ADDRESS", _addr("Failed to Provide")),
    "addr_unknown_address": ("R-ADDRESS", _addr("Unknown Address")),
    "addr_na_na": ("R-ADDRESS", _addr("NA NA")),
    "addr_dont_care_zip": ("R-ADDRESS", _addr("Don't Care {zip}")),
    "addr_zip_only": ("R-ADDRESS", _zip_only),
    "addr_zip_not_in_state": ("R-ADDRESS", _zip_state),
    "name_empty": ("R-NAME", _name_empty),
    "name_placeholder": ("R-NAME", _name_placeholder),
    "name_company": ("R-NAME", _name_company),
    "statute_civil": ("R-STATUTE", _set("statute", "8 U.S.C. 1227", "8 U.S.C. § 1227(a)(1)")),
    "statute_tax": ("R-STATUTE", _set("statute", "26 U.S.C. 7201", "26 USC 7206")),
    "statute_unknown": ("R-STATUTE", _set("statute", "8 U.S.C. 1999", "47 U.S.C. 9999")),
    "reason_missing": ("R-REASON", _set("reason", "")),
    "reason_too_short": ("R-REASON", _short_reason),
    "case_missing": ("R-CASE", _set("case_number", "")),
    "officer_missing": ("R-OFFICER", _set("officer", "")),
    "period_future": ("R-PERIOD", _future),
    "period_open_ended": ("R-PERIOD", _open),
    "period_span_8_years": ("R-PERIOD", _span),
    "info_unknown_field": ("R-INFO", _set("info_requested", "bank_account;wages", "passport")),
}
LATE = frozenset(
    {"reason_missing", "reason_too_short", "case_missing", "officer_missing"}
    | {k for k in SINGLE_DEFECTS if k.startswith("statute_")}
    | {"info_unknown_field"}
)
GROUP_DEFECTS: dict[str, str] = {
    "reason_boilerplate": "R-REASON",
    "engagement_case": "R-ENGAGEMENT",
    "engagement_officer": "R-ENGAGEMENT",
}
