"""The first-name agreement rule (``first_name_ok_sql``) on hand-built pairs, both sides.

Each case is one scored pair as Splink leaves it (folded names, token counts, forms,
the first-name comparison level); the rule decides whether it may disclose.
"""

from __future__ import annotations

import duckdb
import pytest

from taxgate.matching.match import first_name_ok_sql
from taxgate.matching.prepare import register_helpers
from taxgate.matching.standardise import first_name_forms

#: Records' first names (the term-frequency lookup's keys): real names, not typos.
KNOWN = ("dragan", "dragana", "hung", "huong", "maria", "mariajose", "elizabeth", "carlos")
EXACT, NICK, CLOSE = 3, 2, 1


def _ok(con: duckdb.DuckDBPyConnection, left: str, right: str, gamma: int,
        dob_l: str | None = None, dob_r: str | None = None) -> bool:  # fmt: skip
    """Whether the rule lets the pair (request ``left``, record ``right``) disclose."""
    row = con.execute(
        f"""SELECT {first_name_ok_sql("tf")} FROM (SELECT
          ?::VARCHAR AS first_name_l, ?::VARCHAR AS first_name_r,
          ?::INTEGER AS first_parts_l, ?::INTEGER AS first_parts_r,
          ?::VARCHAR[] AS first_forms_l, ?::VARCHAR[] AS first_forms_r,
          ?::INTEGER AS gamma_first_name, ?::VARCHAR AS dob_l, ?::VARCHAR AS dob_r)""",
        [
            left.replace(" ", ""),
            right.replace(" ", ""),
            len(left.split()),
            len(right.split()),
            list(first_name_forms(left)),
            list(first_name_forms(right, record=True)),
            gamma,
            dob_l,
            dob_r,
        ],  # fmt: skip
    ).fetchall()
    return bool(row[0][0])


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    register_helpers(c)
    c.execute("CREATE TABLE tf (first_name VARCHAR)")
    c.executemany("INSERT INTO tf VALUES (?)", [(n,) for n in KNOWN])
    return c


def test_exact_and_whole_name_nicknames_agree(con: duckdb.DuckDBPyConnection) -> None:
    assert _ok(con, "maria", "maria", EXACT)
    assert _ok(con, "bill", "william", NICK)
    assert _ok(con, "lupe", "maria guadalupe", NICK)  # nickname of a given name
    assert _ok(con, "majo", "maria jose", NICK)  # nickname of the compound name
    assert _ok(con, "pepe luis", "jose luis", NICK)


def test_partial_agreement_needs_the_exact_date_of_birth(con: duckdb.DuckDBPyConnection) -> None:
    for left, right in (("maria", "maria jose"), ("jose luis", "jose"),
                        ("maria guadalupe", "maria jose"), ("ji ho", "eun ji")):  # fmt: skip
        assert not _ok(con, left, right, NICK), (left, right)
        assert not _ok(con, left, right, NICK, "1980-01-02", "1980-01-03"), (left, right)
        assert _ok(con, left, right, NICK, "1980-01-02", "1980-01-02"), (left, right)


def test_close_spelling_agrees_only_as_a_typo(con: duckdb.DuckDBPyConnection) -> None:
    assert _ok(con, "elizbeth", "elizabeth", CLOSE)  # one inner edit, not a name
    assert _ok(con, "carols", "carlos", CLOSE)  # transposition keeps both ends
    assert _ok(con, "vladimri", "vladimir", CLOSE)  # the last two letters swapped
    assert not _ok(con, "mario", "maria", CLOSE)  # another last letter: another name
    assert not _ok(con, "dragana", "dragan", CLOSE)  # the ending marks another name
    assert not _ok(con, "dragan", "dragana", CLOSE)
    assert not _ok(con, "hung", "huong", CLOSE)  # the request spells a real name
    assert not _ok(con, "elizbth", "elizabeth", CLOSE)  # two edits
    assert _ok(con, "dragana", "dragan", CLOSE, "1985-01-01", "1985-01-01")
    assert _ok(con, "hung", "huong", CLOSE, "1985-01-01", "1985-01-01")


def test_disagreement_never_agrees(con: duckdb.DuckDBPyConnection) -> None:
    assert not _ok(con, "gertrude", "evangelina", 0, "1952-01-05", "1952-01-05")
    assert _ok(con, "", "maria", -1)  # no first name on one side: nothing to disagree


def test_letters_with_a_stroke_fold_like_their_plain_letter() -> None:
    from taxgate.matching.prepare import fold_sql
    from taxgate.matching.standardise import fold

    assert fold("Paweł Đặng") == "pawel dang" != fold("Pawe Dang")
    sql = duckdb.sql(f"SELECT {fold_sql(repr('Paweł Đặng'))}").fetchall()[0][0]
    assert sql == fold("Paweł Đặng")
