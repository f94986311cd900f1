"""Properties of the disclosure plan over random catalogues, records and requests."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from taxgate.disclosure.fields import CATEGORIES, Catalogue, FieldSpec
from taxgate.disclosure.plan import D_NOT_REQUESTED, D_TRI, plan_disclosure
from taxgate.types import STATUSES

YEARS = st.integers(min_value=2018, max_value=2023)
COLUMN_NAMES = st.sampled_from([f"c{i}" for i in range(12)])


@st.composite
def catalogues(draw: st.DrawFn) -> Catalogue:
    columns = draw(st.lists(COLUMN_NAMES, min_size=1, max_size=10, unique=True))
    specs = {
        name: FieldSpec(name, draw(st.sampled_from(CATEGORIES)), "taxpayer") for name in columns
    }
    for i in range(draw(st.integers(0, 3))):
        built_from = tuple(draw(st.lists(st.sampled_from(columns), min_size=1, unique=True)))
        tri = any(specs[c].is_taxpayer_return_info for c in built_from)
        category = "taxpayer_return_info" if tri else draw(st.sampled_from(CATEGORIES))
        specs[f"d{i}"] = FieldSpec(f"d{i}", category, "derived", built_from)
    return Catalogue(version="test", fields=MappingProxyType(specs))


def _row(columns: list[str], year: object, serial: int) -> dict[str, object]:
    """Each value records the year of its row, so a leak from another year is visible."""
    row: dict[str, object] = dict.fromkeys(columns, ("value", year, serial))
    row["tax_year"] = year
    return row


@st.composite
def cases(draw: st.DrawFn) -> tuple[Catalogue, list[str], list[int], str, list[dict[str, object]]]:
    catalogue = draw(catalogues())
    columns = [n for n, s in catalogue.fields.items() if not s.is_derived]
    names = sorted(catalogue.names())
    requested = draw(
        st.lists(st.one_of(st.sampled_from(names), st.sampled_from(["zz", "c99", " ", ""])))
    )
    years = draw(st.lists(YEARS, max_size=4))
    status = draw(st.one_of(st.just("DISCLOSED"), st.sampled_from(STATUSES)))
    row_years = draw(st.lists(st.one_of(YEARS, YEARS.map(str), st.just("bad")), max_size=8))
    rows = [_row(columns, year, serial) for serial, year in enumerate(row_years)]
    return catalogue, requested, years, status, rows


def _leaves(value: object) -> list[object]:
    if isinstance(value, Mapping):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


@settings(max_examples=300, deadline=None)
@given(cases())
def test_plans_disclose_only_requested_non_tri_values_of_requested_years(
    case: tuple[Catalogue, list[str], list[int], str, list[dict[str, object]]],
) -> None:
    catalogue, requested, years, status, rows = case
    plan = plan_disclosure(requested, years, status, rows, catalogue)
    if status != "DISCLOSED":
        assert not plan.disclosed and not plan.withheld
        return
    wanted = {name.strip() for name in requested if name.strip()}
    withheld = {w.field: w.code for w in plan.withheld}
    assert len(withheld) == len(plan.withheld)  # each field listed once
    filed = {int(str(r["tax_year"])) for r in rows if str(r["tax_year"]).isdigit()} & set(years)
    # every requested field is either disclosed or withheld with a code, never both; with
    # no row in the requested years nothing goes out (no value, so nothing to disclose)
    coded = {
        n for n in wanted if catalogue.get(n) is None or catalogue.fields[n].is_taxpayer_return_info
    }
    assert set(withheld) == coded
    assert set(plan.disclosed) == (wanted - coded if filed else set())
    for name, code in withheld.items():
        spec = catalogue.get(name)
        assert code == (D_NOT_REQUESTED if spec is None else D_TRI)
    for name, value in plan.disclosed.items():
        spec = catalogue.get(name)
        assert spec is not None and not spec.is_taxpayer_return_info
        for leaf in _leaves(value):
            if leaf is None:
                continue
            assert isinstance(leaf, tuple) and leaf[0] == "value"
            assert int(str(leaf[1])) in years  # no value from a year not requested
        if spec.category == "identity":  # from the latest requested year filed, or nothing
            latest = max(filed, default=None)
            assert {None if leaf is None else int(str(leaf[1])) for leaf in _leaves(value)} <= {
                latest
            }
        else:  # one entry per requested year filed
            assert isinstance(value, Mapping)
            assert set(value) == {str(y) for y in filed}
