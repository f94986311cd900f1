"""Where the records say where a value came from, the value's own source decides its category.

26 U.S.C. 6103(i)(2) discloses return information "other than taxpayer return information":
a date of birth the taxpayer wrote on a Form W-7 he filed is taxpayer return information
(withheld, D-TRI), the same date from Social Security records is not (it may go).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from taxgate.disclosure.fields import (
    MOST_PROTECTED,
    Catalogue,
    FieldSpec,
    ValueSource,
    load_catalogue,
    source_word,
)
from taxgate.disclosure.plan import D_TRI, plan_disclosure
from taxgate.errors import ConfigError

SHIPPED = load_catalogue()
CORPUS = json.loads(
    (Path(__file__).parents[1] / "law" / "corpora" / "value_sources.json").read_text("utf-8")
)
FIELDS_YAML = Path(__file__).resolve().parents[2] / "src" / "taxgate" / "data" / "fields.yaml"


def _row(year: int, source: object = None, **values: object) -> dict[str, object]:
    row: dict[str, object] = {"tax_year": year, "dob": "1980-02-29", "wages": 10, **values}
    if source is not None:
        row["dob_source"] = source
    return row


def _plan(rows: list[dict[str, object]], years: list[int], fields: list[str] | None = None):  # type: ignore[no-untyped-def]
    return plan_disclosure(fields or ["dob", "wages"], years, "DISCLOSED", rows, SHIPPED)


def test_a_date_of_birth_from_a_form_w7_is_withheld_with_d_tri() -> None:
    plan = _plan([_row(2022, "form_w7")], [2022])
    assert [(w.field, w.code) for w in plan.withheld] == [("dob", D_TRI)]
    assert "dob" not in plan.disclosed and plan.disclosed["wages"] == {"2022": 10}
    assert [r.code for r in plan.reasons] == [D_TRI]  # the agency is told why: an (i)(1) order


def test_a_date_of_birth_from_social_security_records_may_go() -> None:
    plan = _plan([_row(2022, "ssa")], [2022])
    assert plan.disclosed["dob"] == {"2022": "1980-02-29"} and not plan.withheld


@pytest.mark.parametrize("row", [_row(2022), _row(2022, ""), _row(2022, "  "), _row(2022, None)])
def test_no_source_recorded_leaves_the_catalogue_category(row: dict[str, object]) -> None:
    assert SHIPPED.fields["dob"].category == "other_return_info"
    assert _plan([row], [2022]).disclosed["dob"] == {"2022": "1980-02-29"}


@pytest.mark.parametrize("case", CORPUS["accepted"], ids=lambda c: repr(c["cell"]))
def test_accepted_cells_give_their_word_category(case: dict[str, str]) -> None:
    assert (
        SHIPPED.value_category(SHIPPED.fields["dob"], _row(2022, case["cell"])) == case["category"]
    )
    assert source_word(case["cell"]) == case["stored"]


@pytest.mark.parametrize("case", CORPUS["refused"], ids=lambda c: c["why"])
def test_a_cell_the_vocabulary_does_not_know_is_the_most_protected(case: dict[str, str]) -> None:
    """The loader refuses such a file; should a value reach a plan anyway, it is withheld."""
    assert MOST_PROTECTED == "taxpayer_return_info"
    assert SHIPPED.value_category(SHIPPED.fields["dob"], _row(2022, case["cell"])) == MOST_PROTECTED
    plan = _plan([_row(2022, case["cell"])], [2022])
    assert [(w.field, w.code) for w in plan.withheld] == [("dob", D_TRI)]


def test_one_w7_year_among_the_requested_withholds_every_year() -> None:
    """The same date would otherwise go out from the other year."""
    rows = [_row(2021, "ssa"), _row(2022, "form_w7"), _row(2023)]
    assert [w.code for w in _plan(rows, [2021, 2022, 2023]).withheld] == [D_TRI]
    # only the requested years' sources count: 2022 not requested, the date may go
    assert _plan(rows, [2021, 2023]).disclosed["dob"] == {
        "2021": "1980-02-29",
        "2023": "1980-02-29",
    }


def test_the_source_decides_either_way() -> None:
    """A column catalogued as taxpayer return information, whose value a row says came from
    a third party's information return, is other return information for that row."""
    phone = FieldSpec("phone", "taxpayer_return_info", "taxpayer", source_column="phone_source")
    cat = Catalogue("t", MappingProxyType({"phone": phone}), SHIPPED.value_sources)
    rows = [{"tax_year": 2022, "phone": "555", "phone_source": "third_party"}]
    assert plan_disclosure(["phone"], [2022], "DISCLOSED", rows, cat).disclosed == {
        "phone": {"2022": "555"}
    }
    rows[0]["phone_source"] = ""
    assert [
        w.code for w in plan_disclosure(["phone"], [2022], "DISCLOSED", rows, cat).withheld
    ] == [D_TRI]


def test_a_derived_field_takes_its_sources_values_categories() -> None:
    dob = FieldSpec("dob", "other_return_info", "third_party", source_column="dob_source")
    band = FieldSpec("birth_decade", "other_return_info", "derived", ("dob",))
    cat = Catalogue(
        "t", MappingProxyType({"dob": dob, "birth_decade": band}), SHIPPED.value_sources
    )
    assert cat.value_category(band, {"dob_source": "form_w7"}) == "taxpayer_return_info"
    assert cat.value_category(band, {"dob_source": "ssa"}) == "other_return_info"
    plan = plan_disclosure(["birth_decade"], [2022], "DISCLOSED", [_row(2022, "form_w7")], cat)
    assert [w.code for w in plan.withheld] == [D_TRI]


# --- the property: never out under a less protected category than the source says --------

WORDS = st.one_of(
    st.none(),
    st.sampled_from(sorted(SHIPPED.value_sources)),
    st.sampled_from([c["cell"] for c in CORPUS["accepted"] + CORPUS["refused"]]),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(
    sources=st.lists(WORDS, min_size=1, max_size=5),
    years=st.lists(st.integers(2019, 2024), min_size=1, max_size=4),
)
def test_never_out_under_a_less_protected_category_than_its_source(
    sources: list[object], years: list[int]
) -> None:
    rows = [_row(2019 + i, s) for i, s in enumerate(sources)]
    plan = _plan(rows, years, ["dob"])
    used = [r for r in rows if r["tax_year"] in years]
    for row in used:
        word = source_word(row.get("dob_source"))
        said = (
            SHIPPED.fields["dob"].category
            if word is None
            else (
                SHIPPED.value_sources[word].category
                if word in SHIPPED.value_sources
                else MOST_PROTECTED
            )
        )
        if said == "taxpayer_return_info":
            assert "dob" not in plan.disclosed
            assert [(w.field, w.code) for w in plan.withheld] == [("dob", D_TRI)]
    if "dob" in plan.disclosed:
        assert set(plan.disclosed["dob"]) == {str(r["tax_year"]) for r in used}  # type: ignore[arg-type]


# --- the catalogue refuses a source column that cannot mean anything ----------------------


def _doc() -> dict[str, object]:
    document = yaml.safe_load(FIELDS_YAML.read_text("utf-8"))
    assert isinstance(document, dict)
    return document


def _problems(tmp_path: Path, document: dict[str, object]) -> list[str]:
    path = tmp_path / "fields.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_catalogue(path)
    return caught.value.problems


def test_shipped_vocabulary_and_source_column() -> None:
    assert SHIPPED.source_columns() == {"dob_source": frozenset(SHIPPED.value_sources)}
    assert SHIPPED.value_sources["form_w7"].category == "taxpayer_return_info"
    assert SHIPPED.value_sources["ssa"].category == "other_return_info"
    assert all(v.description for v in SHIPPED.value_sources.values())
    assert isinstance(SHIPPED.value_sources["ssa"], ValueSource)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d["fields"]["last_name"].update(source_column="name_source"), "identity"),
        (lambda d: d["fields"]["wages"].update(source_column="dob_source"), "also `dob`"),
        (lambda d: d["fields"]["wages"].update(source_column="tin"), "records column"),
        (lambda d: d["fields"]["wages"].update(source_column="Wages Source"), "lowercase ASCII"),
        (lambda d: d["fields"]["wages"].update(source_column=["x"]), "lowercase ASCII"),
        (lambda d: d.pop("value_sources"), "needs the `value_sources`"),
        (lambda d: d["value_sources"].update(w2={"category": "identity", "description": "x"}),
         "never makes a value taxpayer identity"),
        (lambda d: d["value_sources"].update(W2={"category": "other_return_info",
                                                 "description": "x"}), "lowercase ASCII"),
        (lambda d: d["value_sources"].update(w2={"category": "other_return_info"}),
         "missing `description`"),
        (lambda d: d["value_sources"].update(w2={"category": "other_return_info",
                                                 "description": "x", "trust": 1}),
         "unknown key `trust`"),
        (lambda d: d.update(value_sources=["ssa"]), "mapping of source words"),
        (lambda d: d["derived"]["last_known_address"].update(source_column="a_source"),
         "unknown key `source_column`"),
    ],
    ids=["identity", "shared", "records-column", "bad-name", "list-name", "no-vocabulary",
         "identity-word", "upper-word", "no-description", "unknown-key", "not-mapping",
         "derived"],
)  # fmt: skip
def test_a_meaningless_source_column_is_a_compile_error(
    tmp_path: Path, change: object, needle: str
) -> None:
    document = _doc()
    change(document)  # type: ignore[operator]
    problems = _problems(tmp_path, document)
    assert any(needle in p for p in problems), problems
