"""A CSV file's first row checked against the contract's header, without quoting it.

The first row of a contract CSV names its columns. A file without that row (its first
row is data: a name, an address) must be refused as such, and the refusal must not
repeat what the row holds: columns are named by the contract's own names or by their
place in the header (1 for the first), never by a name read from the file.

    >>> header_positions(["b", "a"], ("a", "b"), file="f.csv")
    [1, 0]
    >>> try:
    ...     header_positions(["Ana", "12 Elm St"], ("a", "b"), file="f.csv")
    ... except InputError as e:
    ...     print(e.row, e.reason)
    1 not the contract's header: the file must start with the row `a,b`
"""

from __future__ import annotations

from collections.abc import Sequence

from taxgate.errors import InputError

#: How many columns a header may have before the row is refused without looking further:
#: generous for a contract of a few dozen columns, small enough for a short error.
MAX_COLUMNS = 256
#: How many column positions an error lists before it says "and N more".
SHOWN = 10


def _positions(places: Sequence[int]) -> str:
    shown = ", ".join(str(p) for p in places[:SHOWN])
    return shown + (f" and {len(places) - SHOWN} more" if len(places) > SHOWN else "")


def clean(cell: str) -> str:
    """A header cell as compared: outer spaces and a stray byte order mark removed, and
    in lower case (a spreadsheet's `Request_ID` is the contract's `request_id`).

    >>> clean("\ufeff Request_ID ")
    'request_id'
    """
    return cell.strip().lstrip("\ufeff").strip().lower()


def header_positions(
    cells: Sequence[str],
    contract: Sequence[str],
    *,
    file: str,
    readable: bool = True,
    optional: Sequence[str] = (),
) -> list[int]:
    """Where each contract column sits in the header ``cells`` (0-based, contract order).

    Args:
        cells: the file's first row, as parsed.
        contract: the column names the contract requires, all of them, in its order.
        file: the file's name, for errors.
        readable: false when the first row is not valid text (then it is no header).
        optional: columns the header may also hold (at most once each); their places are
            not returned.

    Raises:
        InputError: row 1, naming what is wrong by contract names and header positions
            only; every problem of the header in one message.
    """
    expected = ",".join(contract)
    if len(cells) > MAX_COLUMNS:
        raise InputError(
            f"the header has {len(cells)} columns, more than the {MAX_COLUMNS} a header may "
            f"have; the contract's header is the row `{expected}`",
            file=file,
            row=1,
        )
    names = [clean(c) for c in cells]
    if not readable or not any(n in contract for n in names):
        raise InputError(
            f"not the contract's header: the file must start with the row `{expected}`",
            file=file,
            row=1,
        )
    problems: list[str] = []
    missing = [c for c in contract if c not in names]
    if missing:
        word = "column" if len(missing) == 1 else "columns"
        problems.append(f"missing {word} " + ", ".join(f"`{c}`" for c in missing))
    unknown = [i + 1 for i, n in enumerate(names) if n not in contract and n not in optional]
    if unknown:
        word = "column" if len(unknown) == 1 else "columns"
        problems.append(f"{word} {_positions(unknown)} not in the contract")
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if n in contract or n in optional:
            seen.setdefault(n, []).append(i + 1)
    for name, places in seen.items():
        if len(places) > 1:
            problems.append(f"column `{name}` repeated at columns {_positions(places)}")
    if problems:
        err = InputError("; ".join(problems), file=file, row=1)
        err.column = missing[0] if missing else ""  # a contract name, for callers
        raise err
    return [names.index(c) for c in contract]
