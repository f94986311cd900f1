"""Per-element agreement levels of a scored pair, as DuckDB SQL over Splink's predictions.

Each identity element the request supplies gets a level of the vocabulary in
:data:`taxgate.rules.identity.LEVELS`; the rulebook's ``identity`` policy then says which
levels disclose automatically, which go to a reviewer and which veto
(:func:`status_sql`). Columns are the standardised ones (``_l`` request, ``_r`` record):
names folded (case, accents, punctuation), surnames without particles (``last_full``
keeps them), addresses in USPS form.

Principles, one per kind of agreement:

- a typo is one keystroke (Damerau: an edit or a swap of neighbours) in a name long enough
  to carry it, keeping the first letter, that spells no taxpayer's name: a real name one
  edit away (Hansen/Hanson, Daniel/Daniela) is someone else's name, ``close``;
- a nickname is a known form of the record's whole given name (Bill/William) more than a
  keystroke away: a known form one keystroke away (Teresa/Theresa, Marian/Marion) is a
  spelling a relative may bear, ``close`` unless it spells no taxpayer's name (``typo``);
  sharing one of several given names (José Luis/José) is ``partial``: families reuse
  given names;
- a date of birth one keystroke away (a digit, two swapped digits, day and month swapped)
  is a ``typo``, unless the keystroke moves the year by a decade or more: one generation
  apart with the same birthday is a parent or a child, not a slip; more is another person;
- house numbers agree exactly; the same digits in another order are ``transposed``, any
  other number is the neighbour's house.
"""

from __future__ import annotations

from taxgate.rules.identity import ELEMENTS, PERSON_ELEMENTS, IdentityPolicy

#: Record-side columns a level needs beyond Splink's compared ones (retained by the model).
EXTRA_COLUMNS: tuple[str, ...] = (
    "suffix", "years", "directional", "first_parts", "street_suffix", "city", "last_full",
)  # fmt: skip


#: First and last name entered in each other's field (both agree once swapped back).
SWAPPED = """(first_name_l = replace(last_name_r, ' ', '')
    AND replace(last_name_l, ' ', '') = first_name_r)"""


def _typo(col: str, min_len: int, names: str | None) -> str:
    """One keystroke between two values of at least ``min_len`` letters, same first letter."""
    real = f" AND {col}_l NOT IN (SELECT v FROM {names})" if names else ""
    return f"""(least(length({col}_l), length({col}_r)) >= {min_len}
        AND damerau_levenshtein({col}_l, {col}_r) = 1
        AND left({col}_l, 1) = left({col}_r, 1){real})"""


def first_name_sql(first_names: str) -> str:
    """Level of the first name; ``first_names`` is a relation of taxpayers' names (``v``)."""
    # a known form one keystroke away (Teresa/Theresa, Marian/Marion) is a real name a
    # relative may bear, not a nickname: it falls to `typo` (spelling no taxpayer's name)
    # or `close`
    nickname = """(damerau_levenshtein(first_name_l, first_name_r) > 1
      AND list_has_any(first_forms_l, first_forms_r) AND (
        (first_parts_l = 1 AND first_parts_r = 1)
        OR (NOT list_contains(first_forms_r, first_name_l)
            AND list_has_any(coalesce((SELECT canon FROM tg_nick WHERE name = first_name_l),
                                      []::VARCHAR[]), first_forms_r))))"""
    typo = f"""(first_parts_l = 1 AND first_parts_r = 1 AND {_typo("first_name", 4, first_names)}
        AND (right(first_name_l, 1) = right(first_name_r, 1)
             OR list_sort(string_split(first_name_l, '')) =
                list_sort(string_split(first_name_r, ''))))"""
    return f"""CASE WHEN first_name_l IS NULL THEN 'not_given'
      WHEN first_name_r IS NULL THEN 'not_on_record'
      WHEN first_name_l = first_name_r THEN 'exact'
      WHEN {SWAPPED} THEN 'swapped'
      WHEN {nickname} THEN 'nickname'
      WHEN {typo} THEN 'typo'
      WHEN (length(first_name_l) = 1 OR length(first_name_r) = 1)
        AND left(first_name_l, 1) = left(first_name_r, 1) THEN 'initial'
      WHEN list_has_any(first_forms_l, first_forms_r)
        AND greatest(first_parts_l, first_parts_r) > 1 THEN 'partial'
      WHEN jaro_winkler_similarity(first_name_l, first_name_r) >= 0.88
        OR damerau_levenshtein(first_name_l, first_name_r) <= 2 THEN 'close'
      ELSE 'other' END"""


MIDDLE_NAME = f"""CASE WHEN middle_name_l IS NULL THEN 'not_given'
  WHEN middle_name_r IS NULL THEN 'not_on_record'
  WHEN middle_name_l = middle_name_r THEN 'exact'
  WHEN (length(middle_name_l) = 1 OR length(middle_name_r) = 1)
    AND left(middle_name_l, 1) = left(middle_name_r, 1) THEN 'initial'
  WHEN {_typo("middle_name", 4, None)} THEN 'typo'
  ELSE 'other' END"""


def last_name_sql(last_names: str) -> str:
    """Level of the surname; ``last_names`` is a relation of taxpayers' surnames (``v``)."""
    return f"""CASE WHEN last_name_l IS NULL THEN 'not_given'
      WHEN last_name_r IS NULL THEN 'not_on_record'
      WHEN last_name_l = last_name_r AND last_full_l = last_full_r THEN 'exact'
      WHEN {SWAPPED} THEN 'swapped'
      WHEN last_name_l = last_name_r THEN 'particles'
      WHEN replace(last_name_l, ' ', '') = replace(last_name_r, ' ', '') THEN 'hyphenation'
      WHEN least(len(last_parts_l), len(last_parts_r)) = 1
        AND greatest(len(last_parts_l), len(last_parts_r)) > 1
        AND last_parts_l[1] = last_parts_r[1] THEN 'second_surname_dropped'
      WHEN {_typo("last_name", 4, last_names)} THEN 'typo'
      WHEN list_has_any(last_parts_l, last_parts_r) THEN 'surname_part'
      WHEN jaro_winkler_similarity(last_name_l, last_name_r) >= 0.9 THEN 'close'
      ELSE 'other' END"""


SUFFIX = """CASE WHEN suffix_l IS NULL THEN 'not_given'
  WHEN suffix_r IS NULL THEN 'not_on_record'
  WHEN suffix_l = suffix_r THEN 'exact' ELSE 'conflict' END"""

DOB = """CASE WHEN dob_l IS NULL THEN 'not_given'
  WHEN dob_r IS NULL THEN 'not_on_record'
  WHEN dob_l = dob_r THEN 'exact'
  WHEN (damerau_levenshtein(dob_l, dob_r) = 1
        AND abs(CAST(left(dob_l, 4) AS INTEGER) - CAST(left(dob_r, 4) AS INTEGER)) < 10)
    OR dob_l = substr(dob_r, 1, 5) || substr(dob_r, 9, 2) || '-' || substr(dob_r, 6, 2)
    THEN 'typo'
  ELSE 'other' END"""

HOUSE_NUMBER = """CASE WHEN house_number_l IS NULL THEN 'not_given'
  WHEN house_number_r IS NULL THEN 'not_on_record'
  WHEN house_number_l = house_number_r THEN 'exact'
  WHEN damerau_levenshtein(house_number_l, house_number_r) = 1
    AND list_sort(string_split(house_number_l, '')) = list_sort(string_split(house_number_r, ''))
    THEN 'transposed'
  ELSE 'other' END"""

STREET = """CASE WHEN street_name_l IS NULL THEN 'not_given'
  WHEN street_name_r IS NULL THEN 'not_on_record'
  WHEN street_name_l = street_name_r AND coalesce(street_suffix_l = street_suffix_r, true)
    AND coalesce(directional_l = directional_r, true) THEN 'exact'
  WHEN street_name_l = street_name_r THEN 'type_differs'
  WHEN (street_name_l = 'PO BOX') <> (street_name_r = 'PO BOX') THEN 'other'
  WHEN jaro_winkler_similarity(street_name_l, street_name_r) >= 0.9
    OR (left(street_name_l, 1) = left(street_name_r, 1) AND (
        (least(length(street_name_l), length(street_name_r)) >= 3
         AND damerau_levenshtein(street_name_l, street_name_r) = 1)
        OR (least(length(street_name_l), length(street_name_r)) >= 6
            AND damerau_levenshtein(street_name_l, street_name_r) <= 2))) THEN 'typo'
  ELSE 'other' END"""

UNIT = """CASE WHEN unit_l IS NULL THEN 'not_given'
  WHEN unit_r IS NULL THEN 'not_on_record'
  WHEN unit_l = unit_r THEN 'exact'
  WHEN damerau_levenshtein(unit_l, unit_r) = 1 THEN 'close'
  ELSE 'other' END"""

CITY = """CASE WHEN city_l IS NULL THEN 'not_given'
  WHEN city_r IS NULL THEN 'not_on_record'
  WHEN city_l = city_r THEN 'exact'
  WHEN jaro_winkler_similarity(city_l, city_r) >= 0.9
    OR (least(length(city_l), length(city_r)) >= 5
        AND damerau_levenshtein(city_l, city_r) <= 1) THEN 'typo'
  ELSE 'other' END"""

ZIP = """CASE WHEN zip5_l IS NULL THEN 'not_given'
  WHEN zip5_r IS NULL THEN 'not_on_record'
  WHEN zip5_l = zip5_r THEN 'exact'
  WHEN damerau_levenshtein(zip5_l, zip5_r) = 1 THEN 'typo'
  ELSE 'other' END"""


def level_columns_sql(first_names: str, last_names: str) -> str:
    """``lv_<element>`` columns, one per identity element, for a SELECT over predictions."""
    exprs = {
        "first_name": first_name_sql(first_names),
        "middle_name": MIDDLE_NAME,
        "last_name": last_name_sql(last_names),
        "suffix": SUFFIX,
        "dob": DOB,
        "house_number": HOUSE_NUMBER,
        "street": STREET,
        "unit": UNIT,
        "city": CITY,
        "zip": ZIP,
    }
    assert tuple(exprs) == ELEMENTS
    return ",\n".join(f"({sql}) AS lv_{name}" for name, sql in exprs.items())


#: The Splink comparison that weighs each element's evidence (city and suffix: none).
COMPARISON_OF: dict[str, str] = {
    "first_name": "first_name", "middle_name": "middle_name", "last_name": "last_name",
    "dob": "dob", "house_number": "house_number", "street": "street_name", "unit": "unit",
    "zip": "zip5",
}  # fmt: skip


def review_weight_sql(swapped_names_weight: float = 0.0) -> str:
    """The match weight with the evidence *against* each element that does not agree
    exactly, but at a level the rulebook accepts or sends to review, set aside.

    A reviewer is asked whether a named discrepancy (a transposed house number, a new
    surname) or an accepted variant (a one-keystroke first name) is a slip; the rest of
    the evidence must be strong on its own. Splink's weight for a transposed house number
    is that of any other number, so it alone would keep such a request from ever
    reaching a reviewer. (A pair with a vetoed element is never reviewed.) First and last
    name entered in each other's field agree once swapped back: they count
    ``swapped_names_weight`` (exact agreement on both,
    :func:`.splink_model.name_agreement_weight`), never more, and only towards review
    (``swapped`` is not a level that discloses automatically).
    """
    terms = " + ".join(
        f"CASE WHEN list_contains(discrepancies, '{e}') OR lv_{e} NOT IN "
        f"('exact', 'not_given', 'not_on_record') THEN least(coalesce(mw_{c}, 0), 0) ELSE 0 END"
        for e, c in COMPARISON_OF.items()
    )
    swapped = (
        f"CASE WHEN lv_first_name = 'swapped' AND lv_last_name = 'swapped' "
        f"THEN {float(swapped_names_weight)!r} ELSE 0 END"
    )
    return f"(match_weight - ({terms}) + {swapped})"


def _in(col: str, values: frozenset[str]) -> str:
    if not values:
        return "false"
    return f"{col} IN ({', '.join(repr(v) for v in sorted(values))})"


def status_sql(policy: IdentityPolicy) -> str:
    """Columns ``vetoes``, ``discrepancies`` (element lists) and ``person_veto`` over ``lv_*``.

    Mirrors :meth:`taxgate.rules.identity.IdentityPolicy.verdict`, in SQL.
    """
    veto, review = [], []
    for name in ELEMENTS:
        pol = policy.elements[name]
        col = f"lv_{name}"
        ok = (
            f"({col} = 'not_given' OR {_in(col, pol.auto)} OR (lv_dob = 'exact' AND "
            f"{_in(col, pol.auto_with_exact_dob)}))"
        )
        rev = (
            f"({_in(col, pol.review)} OR {_in(col, pol.auto_with_exact_dob)} OR "
            f"(lv_dob = 'exact' AND {_in(col, pol.review_with_exact_dob)}))"
        )
        veto.append(f"CASE WHEN NOT {ok} AND NOT {rev} THEN '{name}' END")
        review.append(f"CASE WHEN NOT {ok} AND {rev} THEN '{name}' END")
    person = [v for name, v in zip(ELEMENTS, veto, strict=True) if name in PERSON_ELEMENTS]
    return f"""
      list_filter([{", ".join(veto)}], lambda x: x IS NOT NULL) AS vetoes,
      list_filter([{", ".join(review)}], lambda x: x IS NOT NULL) AS discrepancies,
      len(list_filter([{", ".join(person)}], lambda x: x IS NOT NULL)) > 0 AS person_veto"""
