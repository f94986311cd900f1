"""The disclosure plan: a pure decision, field by field, of what goes back to the agency.

The rules, in the order they apply:

1. Nothing at all unless the request's final status is ``DISCLOSED``: the plan is
   empty (no disclosed values *and* no withheld fields; the decision's reasons already
   say why nothing went out).
2. Only requested fields are considered. A catalogue field the request did not name is
   simply not disclosed (D-NOT-REQUESTED is not listed per field: that would be every
   field of the catalogue). A requested name that is not in the catalogue is withheld
   with ``D-NOT-REQUESTED`` (the rules stage refuses such requests, so this is defensive).
3. A requested field that is taxpayer return information is withheld with ``D-TRI``. Where
   the records say where a value came from (a date of birth from a Form W-7), the value's
   own source decides, either way (:meth:`Catalogue.value_category`; a word the vocabulary
   does not know counts as taxpayer return information), and a field takes the most
   protected category among the rows it would be taken from: one W-7 year withholds the
   date of birth of every year, since the same value would otherwise go out.
4. Values come only from the taxpayer's rows whose ``tax_year`` is one of the requested
   years ("filed years"):

   * identity fields (names, TIN, address lines) come from the latest filed year;
   * every other field is a mapping ``"YYYY" -> value`` over the filed years (the keys
     are strings so that the plan equals its JSON form);
   * a derived field is a mapping of the columns it is built from, taken from the latest
     filed year if it is an identity field (``last_known_address``), else per year.

   If the taxpayer filed in none of the requested years (or no row is given at all)
   nothing is disclosed: no field goes out without a value, and nothing is taken from
   another year. Fields that would be withheld anyway are still listed with their code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from taxgate.disclosure.fields import Catalogue, Category, FieldSpec, most_protected
from taxgate.types import Reason, WithheldField

DISCLOSED = "DISCLOSED"
D_TRI = "D-TRI"
D_NOT_REQUESTED = "D-NOT-REQUESTED"
D_NOT_DISCLOSABLE = "D-NOT-DISCLOSABLE"
DEFAULT_CITATIONS: Mapping[str, str] = MappingProxyType(
    {
        D_TRI: "26 U.S.C. 6103(i)(2)",
        D_NOT_REQUESTED: "minimum necessary",
        D_NOT_DISCLOSABLE: "26 U.S.C. 6103(i)(6)",
    }
)
_MESSAGES = {
    D_TRI: (
        "taxpayer return information withheld: it may be disclosed only under an ex parte "
        "order of a Federal district judge or magistrate judge (26 U.S.C. 6103(i)(1)), which "
        "only the Attorney General, the Deputy Attorney General, the Associate Attorney "
        "General, an Assistant Attorney General, a United States attorney, a special "
        "prosecutor or an attorney in charge of an organized crime strike force may apply for"
    ),
    D_NOT_REQUESTED: "not a field of the catalogue, withheld",
    D_NOT_DISCLOSABLE: (
        "withheld for every request: the field catalogue marks it not disclosable (an "
        "examination's status could impair a civil or criminal tax investigation)"
    ),
}


@dataclass(frozen=True)
class Plan:
    """What goes out for one request, and what is held back with its code.

    Attributes:
        disclosed: field name -> value, in the order the request named them.
        withheld: the requested fields held back, each with its code.
        reasons: one reason per withheld code (code, citation, message naming the fields).
    """

    disclosed: Mapping[str, object]
    withheld: tuple[WithheldField, ...] = ()
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.disclosed and not self.withheld

    @property
    def disclosed_fields(self) -> tuple[str, ...]:
        """The names of the disclosed fields (decisions.jsonl ``disclosed_fields``)."""
        return tuple(self.disclosed)

    def withheld_dicts(self) -> list[dict[str, str]]:
        """decisions.jsonl ``withheld_fields``: ``[{"field": ..., "code": ...}, ...]``."""
        return [{"field": w.field, "code": w.code} for w in self.withheld]


EMPTY_PLAN = Plan(disclosed=MappingProxyType({}))


def _year_of(row: Mapping[str, object]) -> int | None:
    value = row.get("tax_year")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _rows_by_year(
    rows: Sequence[Mapping[str, object]], years: frozenset[int]
) -> dict[int, Mapping[str, object]]:
    """The rows of the requested years, one per year (the last given wins), oldest first."""
    by_year: dict[int, Mapping[str, object]] = {}
    for row in rows:
        year = _year_of(row)
        if year is not None and year in years:
            by_year[year] = row
    return dict(sorted(by_year.items()))


def _value(spec: FieldSpec, row: Mapping[str, object]) -> object:
    if spec.is_derived:
        return {column: row.get(column) for column in spec.derived_from}
    return row.get(spec.name)


def _planned_value(spec: FieldSpec, filed: Mapping[int, Mapping[str, object]]) -> object:
    if spec.category == "identity":
        if not filed:
            return None
        latest = max(filed)
        return _value(spec, filed[latest])
    return {str(year): _value(spec, row) for year, row in filed.items()}


def record_columns(requested: Iterable[str], catalogue: Catalogue) -> frozenset[str]:
    """The records columns :func:`plan_disclosure` reads to plan these requested fields:
    the tax year, each field's column (a derived field's: those it is built from) and the
    column that says where its value came from. Nothing else of a taxpayer's rows needs to
    be read to decide what goes out.

        >>> from taxgate.disclosure.fields import load_catalogue
        >>> sorted(record_columns([" dob ", "nickname"], load_catalogue()))
        ['dob', 'dob_source', 'tax_year']
    """
    out = {"tax_year"}

    def add(spec: FieldSpec, depth: int = 0) -> None:
        if spec.is_derived:
            for column in spec.derived_from:
                out.add(column)
                part = catalogue.get(column)
                if part is not None and depth < len(catalogue.fields):
                    add(part, depth + 1)
        else:
            out.add(spec.name)
        if spec.source_column:
            out.add(spec.source_column)

    for raw in requested:
        spec = catalogue.get(raw.strip())
        if spec is not None:
            add(spec)
    return frozenset(out)


def plan_disclosure(
    requested: Sequence[str],
    tax_years: Sequence[int],
    status: str,
    taxpayer_rows: Sequence[Mapping[str, object]],
    catalogue: Catalogue,
    rulebook_citations: Mapping[str, str] | None = None,
) -> Plan:
    """Decide, field by field, what to disclose for one request.

    Args:
        requested: the field names the request asked for (``info_requested``); blanks
            and repeats are ignored.
        tax_years: the requested tax years; values come only from these years.
        status: the request's final status; anything but ``DISCLOSED`` gives an empty plan.
        taxpayer_rows: the matched taxpayer's records rows (all years); none (or none in
            the requested years) means nothing is disclosed.
        catalogue: the field catalogue.
        rulebook_citations: code -> citation from the rulebook, to cite in the reasons;
            missing codes fall back to :data:`DEFAULT_CITATIONS`.

    Returns:
        The plan: disclosed values, withheld fields with codes, one reason per code.

    Example:
        >>> from taxgate.disclosure.fields import load_catalogue
        >>> rows = [{"tax_year": 2022, "last_name": "Example", "wages": 10,
        ...          "adjusted_gross_income": 9}]
        >>> plan = plan_disclosure(["last_name", "wages", "adjusted_gross_income"], [2022],
        ...                        "DISCLOSED", rows, load_catalogue())
        >>> dict(plan.disclosed), [w.code for w in plan.withheld]
        ({'last_name': 'Example', 'wages': {'2022': 10}}, ['D-TRI'])
        >>> none = plan_disclosure(["last_name"], [2022], "DISCLOSED", [], load_catalogue())
        >>> dict(none.disclosed)
        {}
    """
    if status != DISCLOSED:
        return EMPTY_PLAN
    filed = _rows_by_year(taxpayer_rows, frozenset(int(y) for y in tax_years))
    disclosed: dict[str, object] = {}
    withheld: list[WithheldField] = []
    seen: set[str] = set()
    for raw in requested:
        name = raw.strip()
        if not name or name in seen:
            continue
        seen.add(name)
        spec = catalogue.get(name)
        if spec is None:
            withheld.append(WithheldField(name, D_NOT_REQUESTED))
        elif _category(spec, filed, catalogue) == "taxpayer_return_info":
            withheld.append(WithheldField(name, D_TRI))
        elif not spec.disclosable:
            withheld.append(WithheldField(name, D_NOT_DISCLOSABLE))
        elif filed:
            disclosed[name] = _planned_value(spec, filed)
    return Plan(
        disclosed=MappingProxyType(disclosed),
        withheld=tuple(withheld),
        reasons=_reasons(withheld, rulebook_citations or {}),
    )


def _category(
    spec: FieldSpec, filed: Mapping[int, Mapping[str, object]], catalogue: Catalogue
) -> Category:
    """The field's category over the rows its value would come from: the most protected of
    each row's (the row's own source, else the catalogue's category)."""
    rows = list(filed.values())
    if spec.category == "identity":  # identity comes from the latest filed year only
        rows = rows[-1:]
    if not rows:
        return spec.category
    return most_protected([catalogue.value_category(spec, row) for row in rows])


def _reasons(withheld: Sequence[WithheldField], citations: Mapping[str, str]) -> tuple[Reason, ...]:
    by_code: dict[str, list[str]] = {}
    for item in withheld:
        by_code.setdefault(item.code, []).append(item.field)
    return tuple(
        Reason(
            code=code,
            citation=citations.get(code) or DEFAULT_CITATIONS.get(code, ""),
            message=f"{_MESSAGES.get(code, 'withheld')}: "
            + ", ".join(f"`{name}`" for name in names),
        )
        for code, names in by_code.items()
    )
