"""Values written into SQL text: the one place a path or a value becomes an SQL literal.

DuckDB views, ``COPY ... TO`` and ``SET`` cannot take prepared parameters, so paths go
into the SQL text; every such place quotes through :func:`literal`.

    >>> literal("/tmp/it's here/records.parquet")
    "'/tmp/it''s here/records.parquet'"
    >>> literal(3), literal(0.5)
    ('3', '0.5')
"""

from __future__ import annotations

from pathlib import Path


def literal(value: str | Path | int | float) -> str:
    """``value`` as an SQL literal: numbers as they are, text and paths single-quoted with
    every quote doubled."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not an SQL literal here")
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
