"""The optional columns of the taxpayer records that say where a value came from.

The field catalogue may give a column a *source column* (``dob_source`` for ``dob``) whose
cells hold a word of its ``value_sources`` vocabulary (``ssa``, ``form_w7``, ...): the
value's own source then decides its category when it is disclosed. A records file may
carry such a column or not; when it does, each cell is blank (no source recorded) or one
of the words, in any case and with outer spaces (stored lowercased and trimmed). Anything
else — another word, a look-alike letter, SQL — refuses the file, naming the row and the
column, never the cell.

    >>> checks(["dob_source"], {"dob_source": frozenset({"ssa"})})[0][2]
    'not a known source: expected one of ssa (or blank)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from taxgate.sqltext import literal

SourceColumns = Mapping[str, Iterable[str]]


def present(names: Sequence[str], source_columns: SourceColumns) -> list[str]:
    """The source columns the file's header holds, in the catalogue's order."""
    found = {n.strip() for n in names}
    return [c for c in source_columns if c in found]


def checks(columns: Sequence[str], source_columns: SourceColumns) -> list[tuple[str, str, str]]:
    """(column, SQL true for a bad cell, message) for each present source column."""
    out = []
    for column in columns:
        words = sorted(source_columns[column])
        known = ", ".join(literal(w) for w in words) or "NULL"
        bad = (
            f"coalesce(trim(\"{column}\"), '') <> '' AND NOT ("
            f"regexp_full_match(trim(\"{column}\"), '[A-Za-z0-9_]+') "
            f'AND lower(trim("{column}")) IN ({known}))'
        )
        out.append(
            (column, bad, f"not a known source: expected one of {', '.join(words)} (or blank)")
        )
    return out


def stored(columns: Sequence[str]) -> str:
    """The SELECT items that store each present source column: lowercased, blank as null."""
    return "".join(f', nullif(lower(trim("{c}")), \'\') AS "{c}"' for c in columns)
