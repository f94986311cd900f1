"""Standardisation at scale: the tables of :mod:`.standardise` rendered as DuckDB SQL.

Records and requests go through the same SQL, so both sides of every comparison are
standardised identically. Records are collapsed to *versions*: one row per taxpayer
per distinct (name, date of birth, address), with the list of tax years it was used,
which is what the address-in-period check needs and cuts the rows to compare.

The standardised schema (``STD_COLUMNS``) is what the Splink model compares.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import duckdb
import jellyfish
import pyarrow as pa

from taxgate import duck
from taxgate.dates import DOB_FORMATS
from taxgate.sqltext import literal
from taxgate.types import IDENTITY_COLUMNS

from .standardise import (
    DIRECTIONALS,
    NAME_SUFFIXES,
    PARTICLES,
    SUFFIXES,
    UNDECOMPOSED,
    UNIT_DESIGNATORS,
    nickname_table,
)

STD_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "tin",
    "first_name",
    "first_forms",
    "first_init",
    "first_parts",
    "middle_name",
    "last_name",
    "last_parts",
    "last_code",
    "last_full",
    "suffix",
    "dob",
    "house_number",
    "directional",
    "street_name",
    "street_suffix",
    "unit",
    "city",
    "state",
    "zip5",
    "years",
)

_DOB_FORMATS = DOB_FORMATS  # the rules accept exactly these (taxgate.dates)


def _map_sql(table: Mapping[str, str]) -> str:
    body = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in sorted(table.items()))
    return "MAP {" + body + "}"


def _list_sql(values: frozenset[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(literal(v) for v in sorted(values)) + "]::VARCHAR[]"


def fold_sql(expr: str) -> str:
    """SQL twin of :func:`.standardise.fold`."""
    src, dst = "".join(UNDECOMPOSED), "".join(UNDECOMPOSED.values())
    lowered = (
        f"lower(strip_accents(translate(coalesce({expr}, ''), {literal(src)}, {literal(dst)})))"
    )
    no_apos = f"regexp_replace({lowered}, '[''’`]', '', 'g')"
    return f"trim(regexp_replace({no_apos}, '[^a-z0-9]+', ' ', 'g'))"


#: "P.O. Box", "P O Box", "Post Office Box", "POBox" -> "PO BOX" (before tokenising).
_PO_BOX = r"^\s*(P\s*\.?\s*O\s*\.?|POST\s+OFFICE)\s*BOX\b"


def _tokens_sql(expr: str) -> str:
    up = f"replace(upper(strip_accents(coalesce({expr}, ''))), '#', ' # ')"
    po = f"regexp_replace({up}, '{_PO_BOX}', 'PO BOX ')"
    cleaned = f"regexp_replace({po}, '[^A-Z0-9# ]+', ' ', 'g')"
    return f"list_filter(string_split({cleaned}, ' '), lambda t: t <> '')"


def register_helpers(con: duckdb.DuckDBPyConnection, *, temp: bool = True) -> None:
    """Create the nickname table and the soundex function on a connection (idempotent);
    ``temp=False``: the table is the database's, seen by every cursor on it."""
    con.register("tg_nick_arrow", _nickname_arrow())  # one columnar insert, not a row each
    con.execute(
        f"CREATE OR REPLACE {'TEMP ' if temp else ''}TABLE tg_nick AS SELECT name::VARCHAR"
        " AS name, canon::VARCHAR[] AS canon FROM tg_nick_arrow"
    )
    con.unregister("tg_nick_arrow")
    try:
        con.create_function(  # type: ignore[call-overload]
            "tg_soundex",
            _soundex_batch,
            [duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("VARCHAR"),
            type="arrow",
        )
    except duckdb.CatalogException:
        pass


def helper_cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the process's shared DuckDB (:mod:`taxgate.duck`) where the nickname
    table and the soundex function exist: what standardising and deciding a batch need,
    without opening a database per batch."""
    duck.once("matching helpers", lambda con: register_helpers(con, temp=False))
    return duck.cursor()


@functools.cache
def _nickname_arrow() -> pa.Table:
    """The nickname table as Arrow columns (built once per process)."""
    table = nickname_table()
    return pa.table(
        {
            "name": pa.array(list(table), pa.string()),
            "canon": pa.array([list(forms) for forms in table.values()], pa.list_(pa.string())),
        }
    )


@functools.cache
def _soundex(name: str) -> str:
    return str(jellyfish.soundex(name)) if name else ""


def _soundex_batch(names: pa.Array) -> pa.Array:
    """Vectorised soundex: one Python call per batch, cached per distinct surname."""
    return pa.array([None if n is None else _soundex(n) for n in names.to_pylist()], pa.string())


def standardise_sql(source: str, *, is_records: bool) -> str:
    """SELECT producing ``STD_COLUMNS`` from a relation with the raw columns.

    Records need ``tin``, ``dob`` and ``years`` (INTEGER[]: the tax years of an identity,
    :func:`record_identities_sql`); requests need ``request_id``, ``date_of_birth``,
    ``tin`` (may be null) and ``years``.
    """
    dob_raw = "dob" if is_records else "date_of_birth"
    dob = (
        "coalesce("
        + ", ".join(f"try_strptime(trim(CAST({dob_raw} AS VARCHAR)), '{f}')" for f in _DOB_FORMATS)
        + ")"
    )
    last_folded = fold_sql(r"regexp_replace(last_name, '(?i)(^|\s)al-', '\1')")
    particles = _list_sql(PARTICLES)
    units = _map_sql(UNIT_DESIGNATORS)
    suffixes = _map_sql(SUFFIXES)
    dirs = _map_sql(DIRECTIONALS)
    zip_digits = "regexp_replace(CAST(zip AS VARCHAR), '[^0-9]', '', 'g')"
    # a request's misspelt street type ("Stret", "Avenu") is read as the type it is one
    # keystroke from (records are entered from returns, requests by hand)
    long_types = _list_sql(tuple(k for k in SUFFIXES if len(k) >= 5))
    suffix_typo = (
        "st0"
        if is_records
        else f"""CASE WHEN len(st0) > 1 AND {suffixes}[st0[-1]] IS NULL
          AND length(st0[-1]) >= 4 THEN list_concat(st0[1:-2], [coalesce(list_filter(
            {long_types}, lambda k: damerau_levenshtein(k, st0[-1]) = 1)[1], st0[-1])])
          ELSE st0 END"""
    )
    id_col = "CAST(tin AS VARCHAR)" if is_records else "CAST(request_id AS VARCHAR)"
    tin_col = "NULLIF(regexp_replace(CAST(tin AS VARCHAR), '[^0-9]', '', 'g'), '')"
    return f"""
WITH a AS (
  SELECT {id_col} AS src_id, {tin_col} AS tin, years,
    replace({fold_sql("first_name")}, ' ', '') AS first_name,
    string_split({fold_sql("first_name")}, ' ')[1] AS first_head,
    string_split({fold_sql("first_name")}, ' ')[2] AS first_second,
    len(string_split({fold_sql("first_name")}, ' ')) AS first_parts,
    replace({fold_sql("middle_name")}, ' ', '') AS middle_name,
    list_filter(string_split({last_folded}, ' '),
                lambda t: t <> '' AND NOT list_contains({particles}, t)) AS last_parts,
    NULLIF({last_folded}, '') AS last_full,
    {_map_sql(NAME_SUFFIXES)}[upper(replace({fold_sql("suffix")}, ' ', ''))] AS suffix,
    strftime({dob}, '%Y-%m-%d') AS dob,
    {_tokens_sql("address_line1")} AS toks,
    {_tokens_sql("address_line2")} AS toks2,
    trim(regexp_replace(upper(strip_accents(coalesce(city, ''))), '[^A-Z0-9]+', ' ', 'g')) AS city,
    upper(trim(coalesce(state, ''))) AS state,
    CASE WHEN length({zip_digits}) >= 5 THEN {zip_digits}[1:5] END AS zip5
  FROM {source}
), b AS (
  SELECT *,
    CASE WHEN toks[1] = 'PO' AND toks[2] = 'BOX' THEN toks[3]
         WHEN regexp_full_match(coalesce(toks[1], ''), '[0-9]+[A-Z]?|[0-9]+-[0-9A-Z]+')
         THEN toks[1] END AS house_number,
    CASE WHEN toks[1] = 'PO' AND toks[2] = 'BOX' THEN []::VARCHAR[]
         WHEN regexp_full_match(coalesce(toks[1], ''), '[0-9]+[A-Z]?|[0-9]+-[0-9A-Z]+')
         THEN toks[2:] ELSE toks END AS rest,
    toks[1] = 'PO' AND toks[2] = 'BOX' AS po_box
  FROM a
), c AS (
  SELECT *,
    list_filter(list_transform(rest, lambda t, i: CASE WHEN i > 1 AND {units}[t] IS NOT NULL
                THEN i END), lambda x: x IS NOT NULL)[1] AS ui
  FROM b
), d AS (
  SELECT *,
    CASE WHEN ui IS NULL THEN rest ELSE rest[1:ui - 1] END AS st,
    CASE WHEN ui IS NULL THEN NULL
         ELSE array_to_string(list_filter(rest[ui + 1:], lambda t: t <> '#'), '') END AS unit1
  FROM c
), e AS (
  SELECT *,
    CASE WHEN len(st) > 2 AND {dirs}[st[-1]] IS NOT NULL THEN {dirs}[st[-1]] END AS post_,
    CASE WHEN len(st) > 2 AND {dirs}[st[-1]] IS NOT NULL THEN st[1:-2] ELSE st END AS st0
  FROM d
), e1 AS (
  SELECT *, {suffix_typo} AS st1 FROM e
), f AS (
  SELECT *,
    CASE WHEN len(st1) > 1 AND {suffixes}[st1[-1]] IS NOT NULL THEN {suffixes}[st1[-1]] END
      AS street_suffix_,
    CASE WHEN len(st1) > 1 AND {suffixes}[st1[-1]] IS NOT NULL THEN st1[1:-2] ELSE st1 END
      AS st2
  FROM e1
), g AS (
  SELECT *,
    coalesce(CASE WHEN len(st2) > 1 AND {dirs}[st2[1]] IS NOT NULL THEN {dirs}[st2[1]] END,
             post_) AS directional_,
    CASE WHEN len(st2) > 1 AND {dirs}[st2[1]] IS NOT NULL THEN st2[2:] ELSE st2 END AS st3
  FROM f
)
SELECT src_id, tin, years,
  NULLIF(first_name, '') AS first_name, first_head, NULLIF(first_second, '') AS first_second,
  NULLIF(first_name, '')[1] AS first_init,
  CASE WHEN NULLIF(first_name, '') IS NOT NULL THEN first_parts END AS first_parts,
  NULLIF(middle_name, '') AS middle_name,
  NULLIF(array_to_string(last_parts, ' '), '') AS last_name,
  CASE WHEN len(last_parts) > 0 THEN last_parts END AS last_parts,
  CASE WHEN len(last_parts) > 0 THEN tg_soundex(last_parts[1]) END AS last_code,
  last_full,
  suffix, dob,
  house_number,
  directional_ AS directional,
  CASE WHEN po_box THEN 'PO BOX' ELSE NULLIF(array_to_string(st3, ' '), '') END
    AS street_name,
  street_suffix_ AS street_suffix,
  NULLIF(coalesce(NULLIF(unit1, ''), array_to_string(
    list_filter(CASE WHEN {units}[toks2[1]] IS NOT NULL THEN toks2[2:] ELSE toks2 END,
                lambda t: t <> '#'), '')), '') AS unit,
  NULLIF(city, '') AS city, NULLIF(state, '') AS state, zip5
FROM g
"""


def forms_sql(source: str, *, is_records: bool = False) -> str:
    """Add ``first_forms`` (the name and its canonical forms) by joining the nickname table.

    A record's forms also hold its second given name (María Guadalupe -> guadalupe), so a
    request for "Lupe" agrees with every Guadalupe at the address and comes out ambiguous
    instead of picking one; a request's forms do not, so "María Guadalupe" does not agree
    with a "Guadalupe" living with her.
    """
    second = "s.first_second" if is_records else "NULL::VARCHAR"
    return f"""
SELECT s.* EXCLUDE (first_second), CASE WHEN s.first_name IS NULL THEN NULL ELSE
  list_sort(list_distinct(list_concat(
    [s.first_name, s.first_head, {second}],
    coalesce(n1.canon, []), coalesce(n2.canon, []), coalesce(n3.canon, [])
  ))) END AS first_forms
FROM {source} s
LEFT JOIN tg_nick n1 ON n1.name = s.first_name
LEFT JOIN tg_nick n2 ON n2.name = s.first_head
LEFT JOIN tg_nick n3 ON n3.name = {second}
"""


def record_identities_sql(source: str) -> str:
    """Taxpayer-year rows collapsed to their distinct raw identities, each with the list of
    its tax years as ``years``: what :func:`standardise_sql` reads for records. A taxpayer
    files under the same name and address year after year, so this is a fraction of the rows
    (2.3 of 9.2 million in the full-size replay) and standardising, a function of the
    identity alone, is done once per identity instead of once per year."""
    cols = ", ".join(IDENTITY_COLUMNS)
    return f"SELECT {cols}, list(tax_year) AS years FROM {source} GROUP BY {cols}"


def records_versions_sql(source: str) -> str:
    """Collapse standardised record identities to one row per distinct identity version."""
    keys = [c for c in STD_COLUMNS if c not in ("unique_id", "years")]
    cols = ", ".join(keys)
    return f"""
SELECT 'r' || CAST(row_number() OVER (ORDER BY {cols}) AS VARCHAR) AS unique_id, {cols},
  years
FROM (
  SELECT {cols}, list_sort(list_distinct(flatten(list(years)))) AS years
  FROM ({forms_sql(source, is_records=True)}) GROUP BY ALL
)
"""


def requests_std_sql(source: str) -> str:
    """Standardised requests with ``unique_id`` = request id."""
    cols = ", ".join(c for c in STD_COLUMNS if c not in ("unique_id",))
    return f"SELECT src_id AS unique_id, {cols} FROM ({forms_sql(source)})"
