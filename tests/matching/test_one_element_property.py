"""Property: one supplied identity element replaced by an unrelated value never turns a
non-disclosure into an automatic disclosure, and always stops an automatic one.

Requests are drawn as variations of one record (each element exact, respelt, abbreviated,
left out, ...); the levels and the verdict come from the production SQL and the shipped
rulebook's policy (:mod:`levels`).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from levels import BASE, pair_levels

from taxgate.rules.rulebook import load_rulebook

POLICY = load_rulebook().identity
#: Plausible ways a request gives each element of the base record ("" = not given).
VARIANTS: dict[str, tuple[str, ...]] = {
    "first_name": ("Samuel", "Sam", "Samule", "SAMUEL", "S", ""),
    "middle_name": ("Scott", "S", "", "Scot"),
    "last_name": ("Johnson", "Jonhson", "JOHNSON", ""),
    "suffix": ("", "Jr"),
    "date_of_birth": ("1971-04-18", "04/18/1971", "1971-04-19", ""),
    "address_line1": (
        "3979 Rosewood Drive",
        "3979 Rosewood Dr",
        "3979 Rosewod Drive",
        "3997 Rosewood Drive",
    ),  # fmt: skip
    "address_line2": ("Apartment 26A", "Apt 26A", "# 26A", ""),
    "city": ("New York", "NEW YORK", "New Yrok"),
    "zip": ("10013", "10013-0001", "10014"),
}
#: Unrelated values: nothing in common with the record's.
UNRELATED: dict[str, tuple[str, ...]] = {
    "first_name": ("Gertrude", "Thaddeus", "Xiomara"),
    "middle_name": ("Quentin", "Beatrix"),
    "last_name": ("Fairweather", "Okonkwo", "Brown"),
    "suffix": ("Sr", "III"),
    "date_of_birth": ("1931-11-30", "2001-02-03"),
    "address_line1": ("3981 Rosewood Drive", "12 Elm Street", "PO Box 77"),
    "address_line2": ("Apt 14C", "Unit 902"),
    "city": ("Kalamazoo", "Boise"),
    "zip": ("49001", "83702"),
}

requests = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in VARIANTS.items()})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(req=requests, element=st.sampled_from(sorted(UNRELATED)), data=st.data())
def test_one_unrelated_element_never_makes_a_disclosure(
    req: dict[str, str], element: str, data: st.DataObject
) -> None:
    other = dict(req, **{element: data.draw(st.sampled_from(UNRELATED[element]))})
    before, after = pair_levels([(dict(BASE, **req), BASE), (dict(BASE, **other), BASE)], POLICY)
    was_auto = not before["vetoes"] and not before["discrepancies"]
    now_auto = not after["vetoes"] and not after["discrepancies"]
    assert not now_auto, (element, after)  # an unrelated element never discloses
    if not was_auto:
        assert not now_auto
