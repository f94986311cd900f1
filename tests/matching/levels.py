"""Element levels of one (request, record) pair from raw fields, through the real SQL.

Both sides go through the same standardisation as production (:mod:`taxgate.matching.prepare`),
then :func:`taxgate.matching.elements.level_columns_sql` and the policy's
:func:`~taxgate.matching.elements.status_sql` run over the pair.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa

from taxgate.matching.elements import level_columns_sql, status_sql
from taxgate.matching.prepare import forms_sql, register_helpers, standardise_sql
from taxgate.rules.identity import ELEMENTS, IdentityPolicy, default_policy

RAW = ("first_name", "middle_name", "last_name", "suffix", "date_of_birth", "address_line1",
       "address_line2", "city", "state", "zip")  # fmt: skip
BASE: dict[str, str] = {
    "first_name": "Samuel", "middle_name": "Scott", "last_name": "Johnson", "suffix": "",
    "date_of_birth": "1971-04-18", "address_line1": "3979 Rosewood Drive",
    "address_line2": "Apartment 26A", "city": "New York", "state": "NY", "zip": "10013",
}  # fmt: skip
#: Real names in the records (a typo may not spell one).
KNOWN_FIRST = ("samuel", "dragan", "dragana", "daniel", "daniela", "hung", "huong", "maria",
               "mariajose", "carlos", "juancarlos", "teresa", "theresa")  # fmt: skip
KNOWN_LAST = ("johnson", "hansen", "hanson", "garcia lopez", "brown")


def _table(rows: Sequence[Mapping[str, str]]) -> pa.Table:
    data: dict[str, list[object]] = {c: [r.get(c, "") for r in rows] for c in RAW}
    data["request_id"] = [str(i) for i in range(len(rows))]
    data["tin"] = [None] * len(rows)
    data["years"] = [[2022]] * len(rows)
    schema = pa.schema(
        [(c, pa.string()) for c in data if c != "years"] + [("years", pa.list_(pa.int32()))]
    )
    return pa.table(data, schema=schema)


@functools.cache
def _connection() -> duckdb.DuckDBPyConnection:
    """One connection with the nickname table and the taxpayers' names (built once)."""
    con = duckdb.connect()
    register_helpers(con)
    con.execute(
        "CREATE TABLE tg_first_names AS SELECT unnest(?::VARCHAR[]) AS v", [list(KNOWN_FIRST)]
    )
    con.execute(
        "CREATE TABLE tg_last_names AS SELECT unnest(?::VARCHAR[]) AS v", [list(KNOWN_LAST)]
    )
    return con


def pair_levels(
    pairs: Sequence[tuple[Mapping[str, str], Mapping[str, str]]],
    policy: IdentityPolicy | None = None,
) -> list[dict[str, object]]:
    """Per (request, record) pair: ``lv_<element>`` levels, ``vetoes``, ``discrepancies``."""
    con = _connection()
    cols = ["first_name", "first_forms", "first_parts", "middle_name", "last_name",
            "last_parts", "last_full", "suffix", "dob", "house_number", "directional",
            "street_name", "street_suffix", "unit", "city", "zip5", "years"]  # fmt: skip
    for side, rows in (("l", [p[0] for p in pairs]), ("r", [p[1] for p in pairs])):
        con.register(f"raw_{side}", _table(rows))
        std = standardise_sql(f"raw_{side}", is_records=False)
        con.execute(f"CREATE OR REPLACE TABLE std_{side} AS {std}")
        sel = ", ".join(f"{c} AS {c}_{side}" for c in cols)
        forms = forms_sql(f"std_{side}", is_records=side == "r")
        con.execute(f"CREATE OR REPLACE TABLE s_{side} AS SELECT src_id, {sel} FROM ({forms})")
    levels = level_columns_sql("tg_first_names", "tg_last_names")
    status = status_sql(policy or default_policy())
    sql = f"""
      WITH p AS (SELECT l.src_id, * EXCLUDE (src_id) FROM s_l l JOIN s_r r USING (src_id)),
      lv AS (SELECT *, {levels} FROM p)
      SELECT src_id, {", ".join(f"lv_{e}" for e in ELEMENTS)}, {status} FROM lv
      ORDER BY CAST(src_id AS INTEGER)"""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
