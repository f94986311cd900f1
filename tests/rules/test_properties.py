"""Hypothesis properties: deny by default, and messages that carry no personal data."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxgate.rules import BatchContext, Rulebook, StatuteCatalog, evaluate_batch
from taxgate.types import Request

REQUIRED = (
    "case_number", "officer", "first_name", "last_name", "address_line1", "city", "state",
    "zip", "tax_periods", "statute", "reason", "info_requested",
)  # fmt: skip
FIRST = ["Ana", "María José", "Thị", "Jean-Luc", "Siobhan", "Wei", "Abd al-Rahman", "Łukasz"]
LAST = ["Ruiz", "García-López", "Nguyễn", "O'Brien", "de la Cruz", "Zhang", "Wójcik", "Okafor"]
STREETS = ["Main St", "Oak Ave", "Calle Ocho", "Pennsylvania Ave NW", "Elm Rd"]
PLACES = [("Austin", "TX", "787"), ("Miami", "FL", "331"), ("Chicago", "IL", "606")]
WORDS = "ledger courier warehouse invoice vessel cargo border permit account transfer".split()
# One failing value per element (each fails exactly its own rule).
FAILING = {
    "case_number": ["N/A", "TBD", "none-given"],
    "officer": ["Unknown", "Agent", "N/A"],
    "first_name": ["Unknown", "FNU", "J0hn", "Acme LLC"],
    "last_name": ["Doe", "LNU", "Smith Holdings Inc"],
    "address_line1": ["Failed to Provide", "Don't Care 12345", "78701", "Unknown Address"],
    "city": ["Unknown", "NA", "12345"],
    "state": ["XX", "Texass"],
    "zip": ["0000", "00000", "10001"],
    "tax_periods": ["2026", "2020-", "2015-2024", "1999"],
    "statute": ["26 U.S.C. 7201", "8 U.S.C. 1227", "99 U.S.C. 1"],
    "reason": ["investigation", "see attached"],
    "info_requested": ["ssn", "favorite_color"],
    "date_of_birth": ["2001-02-29", "2099-01-01"],
}


@st.composite
def valid_requests(draw: st.DrawFn) -> Request:
    city, state, z3 = draw(st.sampled_from(PLACES))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=6, max_size=10))
    return Request(
        request_id=f"P-{draw(st.integers(0, 10**6))}",
        case_number=f"HSI-{draw(st.integers(10, 99))}-{draw(st.integers(1, 99999)):05d}",
        officer=f"Special Agent {draw(st.sampled_from(FIRST))} {draw(st.sampled_from(LAST))}",
        first_name=draw(st.sampled_from(FIRST)),
        last_name=draw(st.sampled_from(LAST)),
        date_of_birth=draw(st.sampled_from(["", "1980-05-17", "2000-02-29"])),
        address_line1=f"{draw(st.integers(1, 99999))} {draw(st.sampled_from(STREETS))}",
        city=city,
        state=state,
        zip=f"{z3}{draw(st.integers(0, 99)):02d}",
        tax_periods=draw(st.sampled_from(["2022", "2020;2021", "2019-2024", "2025"])),
        statute=draw(st.sampled_from(["8 U.S.C. 1324", "18 USC § 1028", "21 u.s.c. 841"])),
        reason="The subject was observed moving " + " ".join(words) + " through the port twice",
        info_requested=draw(st.sampled_from(["last_known_address", "wages;employer_name"])),
    )


def _judge(
    r: Request, ctx: BatchContext, rb: Rulebook, statutes: StatuteCatalog
) -> tuple[str, set[str]]:
    d = evaluate_batch([r], ctx, rb, statutes)[0]
    return d.outcome, {x.code for x in d.reasons}


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(r=valid_requests())
def test_generated_valid_requests_are_accepted(
    r: Request, ctx: BatchContext, rulebook: Rulebook, statutes: StatuteCatalog
) -> None:
    assert _judge(r, ctx, rulebook, statutes) == ("accepted", set())


@SETTINGS
@given(
    r=valid_requests(), element=st.sampled_from(REQUIRED), blank=st.sampled_from(["", " ", "\t"])
)
def test_missing_required_element_is_never_accepted(
    r: Request, element: str, blank: str, ctx: BatchContext, rulebook: Rulebook,
    statutes: StatuteCatalog,
) -> None:  # fmt: skip
    outcome, codes = _judge(dataclasses.replace(r, **{element: blank}), ctx, rulebook, statutes)
    assert outcome != "accepted"
    assert codes
    if outcome == "review":  # only a one-word name goes to a person instead
        assert element in ("first_name", "last_name") and codes == {"R-NAME"}


@SETTINGS
@given(
    r=valid_requests(),
    elements=st.lists(st.sampled_from(sorted(FAILING)), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_adding_a_failing_element_never_turns_refusal_into_acceptance(
    r: Request, elements: list[str], data: st.DataObject, ctx: BatchContext,
    rulebook: Rulebook, statutes: StatuteCatalog,
) -> None:  # fmt: skip
    current = r
    previous_codes: set[str] = set()
    for i, element in enumerate(elements):
        current = dataclasses.replace(
            current, **{element: data.draw(st.sampled_from(FAILING[element]))}
        )
        outcome, codes = _judge(current, ctx, rulebook, statutes)
        assert outcome == "rejected", (i, element)
        assert previous_codes <= codes
        previous_codes = codes


PERSONAL = (
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "address_line1",
    "city",
    "zip",
)


@SETTINGS
@given(
    r=valid_requests(),
    elements=st.lists(st.sampled_from(sorted(FAILING)), min_size=1, max_size=6, unique=True),
    data=st.data(),
)
def test_messages_carry_no_personal_values(
    r: Request, elements: list[str], data: st.DataObject, ctx: BatchContext,
    rulebook: Rulebook, statutes: StatuteCatalog,
) -> None:  # fmt: skip
    for element in elements:
        r = dataclasses.replace(r, **{element: data.draw(st.sampled_from(FAILING[element]))})
    r = dataclasses.replace(
        r, middle_name="Quillon", first_name="Zebulonia" if r.first_name in FIRST else r.first_name
    )
    d = evaluate_batch([r], ctx, rulebook, statutes)[0]
    texts = [x.message for x in d.reasons] + [c.detail for c in d.trace]
    values = [
        getattr(r, f) for f in PERSONAL if len(getattr(r, f)) >= 4 and not getattr(r, f).isdigit()
    ]
    values += [v for v in (r.zip, r.address_line1) if v.isdigit() and len(v) >= 4]
    for text in texts:
        for value in values:
            assert value.casefold() not in text.casefold()


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=120))
def test_purpose_ascii_fast_path_folds_as_the_full_path(reason: str) -> None:
    from taxgate.rules import purpose

    assert purpose._fold(reason) == purpose._fold_unicode(reason)


CIVIL = ["deport", "de port", "r3move", "remove him", "removal", "I-200", "ERO", "detainer"]
FILL = ["the", "subject", "after", "was", "evidence", "of", "funds", "to", "locate", "and"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CIVIL + FILL), max_size=12), st.booleans())
def test_purpose_verdict_survives_unicode_dress(words: list[str], fullwidth: bool) -> None:
    """The same reason written in full-width letters or with a zero-width space after each
    word gets the verdict of its plain ASCII form (the fast path and the full path agree)."""
    from taxgate.rules.purpose import purpose_problem

    plain = " ".join(words)
    if fullwidth:
        dressed = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in plain)
    else:
        dressed = " ".join(w + "\u200b" for w in words)
    assert purpose_problem(dressed) == purpose_problem(plain)
