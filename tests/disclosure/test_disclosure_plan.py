"""The disclosure plan: for every field of the shipped catalogue, what goes out and what is held."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from taxgate.disclosure.fields import load_catalogue
from taxgate.disclosure.plan import D_NOT_REQUESTED, D_TRI, Plan, plan_disclosure
from taxgate.types import RECORD_COLUMNS, STATUSES

CATALOGUE = load_catalogue()
ADDRESS = ("address_line1", "address_line2", "city", "state", "zip")


def _row(year: int, **overrides: object) -> dict[str, object]:
    """A synthetic taxpayer row whose every value names its column and year."""
    row: dict[str, object] = {c: f"{c}-{year}" for c in RECORD_COLUMNS}
    row["tax_year"] = year
    row.update(overrides)
    return row


# filed 2019, 2021, 2022 (not 2020); rows deliberately out of order
ROWS = [_row(2021), _row(2019), _row(2022)]


def _plan(
    requested: list[str],
    years: list[int],
    status: str = "DISCLOSED",
    rows: list[dict[str, object]] = ROWS,
) -> Plan:
    return plan_disclosure(requested, years, status, rows, CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE.names()))
def test_each_catalogue_field_goes_out_or_is_withheld_by_its_category(name: str) -> None:
    spec = CATALOGUE.fields[name]
    plan = _plan([name], [2020, 2021])
    if spec.category == "taxpayer_return_info":
        assert dict(plan.disclosed) == {}
        assert [(w.field, w.code) for w in plan.withheld] == [(name, D_TRI)]
        assert [r.code for r in plan.reasons] == [D_TRI]
        assert plan.reasons[0].citation == "26 U.S.C. 6103(i)(2)"
        return
    if not spec.disclosable:  # audit_status: an examination, (i)(6)
        assert dict(plan.disclosed) == {}
        assert [(w.field, w.code) for w in plan.withheld] == [(name, "D-NOT-DISCLOSABLE")]
        return
    assert plan.withheld == ()
    value = plan.disclosed[name]
    if spec.is_derived:  # last_known_address: identity, latest requested filed year
        assert value == {c: f"{c}-2021" for c in spec.derived_from}
    elif spec.category == "identity":
        assert value == f"{name}-2021"
    else:  # other_return_info, third party or agency: one value per requested filed year
        expected = 2021 if name == "tax_year" else f"{name}-2021"
        assert value == {"2021": expected}


@pytest.mark.parametrize("source", ["taxpayer", "third_party", "agency", "derived"])
def test_for_each_source_only_non_tri_fields_go_out(source: str) -> None:
    names = sorted(n for n, s in CATALOGUE.fields.items() if s.source == source)
    assert names, source
    plan = _plan(names, [2019, 2022])
    for name in names:
        spec = CATALOGUE.fields[name]
        if spec.is_taxpayer_return_info or not spec.disclosable:
            assert name not in plan.disclosed
        else:
            assert name in plan.disclosed
    assert {w.field for w in plan.withheld} == {
        n
        for n in names
        if CATALOGUE.fields[n].is_taxpayer_return_info or not CATALOGUE.fields[n].disclosable
    }
    assert {w.code for w in plan.withheld} <= {D_TRI, "D-NOT-DISCLOSABLE"}


def test_the_taxpayer_supplied_return_fields_never_go_out() -> None:
    tri = {"filing_status", "adjusted_gross_income", "dependents", "phone", "balance_due"}
    plan = _plan(sorted(CATALOGUE.names()), [2019, 2020, 2021, 2022])
    assert tri.isdisjoint(plan.disclosed)
    assert {w.field for w in plan.withheld if w.code == D_TRI} == tri
    assert {w.field for w in plan.withheld if w.code != D_TRI} == {"audit_status"}


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "DISCLOSED"] + ["", "disclosed"])
def test_nothing_at_all_unless_disclosed(status: str) -> None:
    plan = _plan(["tin", "wages", "phone", "bogus"], [2021], status=status)
    assert dict(plan.disclosed) == {} and plan.withheld == () and plan.reasons == ()
    assert plan.is_empty


def test_only_requested_fields_and_no_per_field_not_requested_noise() -> None:
    plan = _plan(["wages", " last_name ", "wages", ""], [2022])
    assert list(plan.disclosed) == ["wages", "last_name"]
    assert plan.withheld == ()


def test_values_come_only_from_requested_years() -> None:
    plan = _plan(["wages", "employer_ein", "last_name", "last_known_address"], [2019, 2020])
    assert plan.disclosed["wages"] == {"2019": "wages-2019"}  # 2020 not filed, 2021/22 not asked
    assert plan.disclosed["employer_ein"] == {"2019": "employer_ein-2019"}
    assert plan.disclosed["last_name"] == "last_name-2019"
    assert plan.disclosed["last_known_address"] == {c: f"{c}-2019" for c in ADDRESS}


def test_identity_comes_from_the_latest_requested_year_filed() -> None:
    rows = [_row(2019, last_name="Oldname"), _row(2022, last_name="Newname"), _row(2021)]
    plan = _plan(["last_name", "tin"], [2019, 2021], rows=rows)
    assert plan.disclosed["last_name"] == "last_name-2021"
    plan = _plan(["last_name"], [2019, 2020], rows=rows)
    assert plan.disclosed["last_name"] == "Oldname"
    plan = _plan(["last_name"], [2022, 2019], rows=rows)
    assert plan.disclosed["last_name"] == "Newname"


def test_last_known_address_is_the_latest_requested_year_not_the_latest_year() -> None:
    rows = [
        _row(2020, address_line1="1 Old Rd", zip="10001"),
        _row(2023, address_line1="9 New Ave", zip="20002"),
    ]
    plan = _plan(["last_known_address"], [2019, 2020, 2021], rows=rows)
    address = plan.disclosed["last_known_address"]
    assert isinstance(address, Mapping)
    assert address["address_line1"] == "1 Old Rd" and address["zip"] == "10001"
    assert set(address) == set(ADDRESS)


def test_tax_year_given_as_text_is_understood() -> None:
    rows = [_row(2021, tax_year="2021", wages=5), _row(2022, tax_year=" 2022 ", wages=7)]
    plan = _plan(["wages"], [2021, 2022], rows=rows)
    assert plan.disclosed["wages"] == {"2021": 5, "2022": 7}


def test_no_filed_year_discloses_nothing_from_other_years() -> None:
    plan = _plan(["last_name", "wages", "last_known_address", "phone"], [2015])
    assert dict(plan.disclosed) == {}
    assert [(w.field, w.code) for w in plan.withheld] == [("phone", D_TRI)]  # still said why


@pytest.mark.parametrize("rows", [[], [_row(2021, tax_year="n/a")]])
def test_no_rows_disclose_nothing(rows: list[dict[str, object]]) -> None:
    """A plan for a taxpayer with no rows (say, a review approved without a candidate)."""
    plan = _plan(["last_name", "last_known_address", "wages", "employer_name"], [2021], rows=rows)
    assert dict(plan.disclosed) == {} and plan.withheld == ()


def test_an_unknown_field_is_withheld_as_not_requested() -> None:
    plan = _plan(["shoe_size", "wages"], [2021])
    assert [(w.field, w.code) for w in plan.withheld] == [("shoe_size", D_NOT_REQUESTED)]
    assert list(plan.disclosed) == ["wages"]
    assert plan.reasons[0].code == D_NOT_REQUESTED and "`shoe_size`" in plan.reasons[0].message


def test_rulebook_citations_are_used() -> None:
    plan = plan_disclosure(
        ["phone", "zz"], [2021], "DISCLOSED", ROWS, CATALOGUE, {D_TRI: "§6103(i)(2)(A)"}
    )
    citations = {r.code: r.citation for r in plan.reasons}
    assert citations == {D_TRI: "§6103(i)(2)(A)", D_NOT_REQUESTED: "minimum necessary"}
