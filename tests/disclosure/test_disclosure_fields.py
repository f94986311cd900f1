"""The field catalogue: the shipped file is complete, and every kind of mistake is collected."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taxgate.disclosure.fields import CATEGORIES, COLUMN_SOURCES, load_catalogue
from taxgate.errors import ConfigError
from taxgate.types import RECORD_COLUMNS

SHIPPED = load_catalogue()


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "fields.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _shipped_document() -> dict[str, object]:
    path = Path(__file__).resolve().parents[2] / "src" / "taxgate" / "data" / "fields.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_shipped_catalogue_covers_every_records_column() -> None:
    assert set(RECORD_COLUMNS) <= SHIPPED.names()
    assert "last_known_address" in SHIPPED.names()
    assert SHIPPED.version


def test_shipped_catalogue_categories_and_sources_are_known() -> None:
    for spec in SHIPPED.fields.values():
        assert spec.category in CATEGORIES
        assert spec.source in (*COLUMN_SOURCES, "derived")
        # what the taxpayer supplied is either identity or taxpayer return information
        if spec.source == "taxpayer":
            assert spec.category in ("identity", "taxpayer_return_info"), spec.name


def test_last_known_address_is_built_from_the_address_columns() -> None:
    spec = SHIPPED.fields["last_known_address"]
    assert spec.is_derived and spec.category == "identity"
    assert spec.derived_from == ("address_line1", "address_line2", "city", "state", "zip")


def test_a_records_column_missing_from_the_catalogue_is_an_error(tmp_path: Path) -> None:
    document = _shipped_document()
    fields = dict(document["fields"])  # type: ignore[call-overload]
    del fields["wages"]
    document["fields"] = fields
    with pytest.raises(ConfigError) as caught:
        load_catalogue(_write(tmp_path, document))
    assert any("`wages`" in p and "missing" in p for p in caught.value.problems)


def test_every_problem_is_collected_before_raising(tmp_path: Path) -> None:
    document = _shipped_document()
    fields = dict(document["fields"])  # type: ignore[call-overload]
    del fields["phone"]
    fields["wages"] = {"category": "secret", "source": "third_party"}
    fields["dob"] = {"category": "other_return_info", "source": "the_moon"}
    fields["balance_due"] = {"category": "other_return_info", "source": "agency", "catgory": 1}
    fields["shoe_size"] = {"category": "identity", "source": "taxpayer"}
    fields["dependents"] = {"category": "other_return_info", "source": "taxpayer"}
    document["fields"] = fields
    document["derived"] = {
        "last_known_address": {
            "category": "identity",
            "source": "derived",
            "from": ["address_line1", "planet"],
        },
        "income_band": {
            "category": "identity",
            "source": "derived",
            "from": ["adjusted_gross_income"],
        },
        "nothing": {"category": "identity", "source": "derived", "from": []},
    }
    with pytest.raises(ConfigError) as caught:
        load_catalogue(_write(tmp_path, document))
    problems = caught.value.problems
    expected = [
        ("`phone`", "missing from the catalogue"),
        ("`wages`", "unknown category `secret`"),
        ("`dob`", "unknown source `the_moon`"),
        ("`balance_due`", "unknown key `catgory`"),
        ("`shoe_size`", "not a taxpayer records column"),
        ("`shoe_size`", "only the name, mailing address and TIN are taxpayer identity"),
        ("`dependents`", "taxpayer return information"),
        ("`last_known_address`", "unknown columns `planet`"),
        ("`income_band`", "built from taxpayer return information"),
        ("`nothing`", "`from` must list"),
    ]
    for name, words in expected:
        assert any(name in p and words in p for p in problems), (name, problems)
    assert len(problems) == len(expected)
    assert str(tmp_path) in str(caught.value)


def test_a_duplicate_key_is_an_error_not_a_silent_override(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    text = (Path(__file__).resolve().parents[2] / "src/taxgate/data/fields.yaml").read_text()
    text = text.replace(
        "derived:",
        "  phone: {category: other_return_info, source: third_party}\nderived:",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_catalogue(path)
    assert any("duplicate key `phone`" in p for p in caught.value.problems)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("fields: [1, 2", "not valid YAML"),
        ("- just a list", "expected a mapping"),
        ("version: ''\nfields: {}\n", "missing `version`"),
        ("version: v1\nfields: {}\ncolour: red\n", "unknown top-level key `colour`"),
        ("version: v1\nfields: {tin: identity}\n", "`tin`: expected a mapping"),
        ("version: v1\nfields: {tin: {category: identity}}\n", "`tin`: missing `source`"),
        ("version: v1\nfields: {}\nderived: [a]\n", "`derived` must be a mapping"),
    ],
)
def test_malformed_catalogues_are_refused(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_catalogue(path, record_columns=("tin",))
    assert words in str(caught.value)


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalogue(tmp_path / "nope.yaml")


def test_a_derived_field_may_not_shadow_a_column(tmp_path: Path) -> None:
    document = _shipped_document()
    document["derived"] = {
        "zip": {"category": "identity", "source": "derived", "from": ["zip"]},
    }
    with pytest.raises(ConfigError, match="name of a records column"):
        load_catalogue(_write(tmp_path, document))


def test_other_record_columns_can_be_checked(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(
        "version: v9\nfields:\n  tin: {category: identity, source: taxpayer}\n"
        "  b: {category: taxpayer_return_info, source: taxpayer}\n",
        encoding="utf-8",
    )
    catalogue = load_catalogue(path, record_columns=("tin", "b"))
    assert catalogue.version == "v9"
    assert catalogue.names() == {"tin", "b"}
    with pytest.raises(ConfigError, match="`c` is missing"):
        load_catalogue(path, record_columns=("tin", "b", "c"))


@pytest.mark.parametrize("column", ["dob", "phone", "employer_name", "wages", "tax_year"])
def test_identity_is_only_name_address_and_tin(tmp_path: Path, column: str) -> None:
    document = _shipped_document()
    fields = dict(document["fields"])  # type: ignore[call-overload]
    fields[column] = {"category": "identity", "source": "agency"}
    document["fields"] = fields
    with pytest.raises(ConfigError, match=r"6103\(b\)\(6\)"):
        load_catalogue(_write(tmp_path, document))


def test_the_shipped_identity_items_are_name_address_tin() -> None:
    from taxgate.disclosure.fields import IDENTITY_ITEMS

    shipped = load_catalogue()
    columns = {
        n for n, f in shipped.fields.items() if f.category == "identity" and not f.is_derived
    }
    assert columns <= IDENTITY_ITEMS
    assert shipped.fields["balance_due"].category == "taxpayer_return_info"
    assert not shipped.fields["audit_status"].disclosable


def test_derived_takes_the_most_protected_category(tmp_path: Path) -> None:
    document = _shipped_document()
    document["derived"] = {
        **document["derived"],  # type: ignore[dict-item]
        "pay_and_address": {
            "category": "identity",
            "source": "derived",
            "from": ["address_line1", "wages"],
        },
    }
    with pytest.raises(ConfigError, match="most protected source .`other_return_info`"):
        load_catalogue(_write(tmp_path, document))
    document["derived"]["pay_and_address"]["category"] = "other_return_info"  # type: ignore[index]
    assert load_catalogue(_write(tmp_path, document)).fields["pay_and_address"].category == (
        "other_return_info"
    )


def test_balance_due_and_audit_status_are_withheld() -> None:
    from taxgate.disclosure.plan import plan_disclosure

    rows = [{"tax_year": 2022, "wages": 10, "balance_due": 5, "audit_status": "open"}]
    plan = plan_disclosure(
        ["wages", "balance_due", "audit_status"], [2022], "DISCLOSED", rows, load_catalogue()
    )
    assert dict(plan.disclosed) == {"wages": {"2022": 10}}
    assert {(w.field, w.code) for w in plan.withheld} == {
        ("balance_due", "D-TRI"),
        ("audit_status", "D-NOT-DISCLOSABLE"),
    }
    tri = next(r for r in plan.reasons if r.code == "D-TRI")
    assert "ex parte" in tri.message and "6103(i)(1)" in tri.message
