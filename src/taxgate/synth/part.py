"""A batch under construction, held column-wise: one Python list per request column.

Row-wise edits (noise, planted defects) go through ``noise.RowOf``, a mapping onto
one row of the columns, so the same small string functions serve either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from taxgate.synth.noise import RowOf
from taxgate.types import REQUEST_COLUMNS


@dataclass
class Part:
    """Requests of one kind (or several), column-wise, with their ground truth.

    ``defect``, ``fixed_case`` ("" = none), ``fixed_officer`` and ``boilerplate`` (-1 = none)
    tell the batch builder what to plant.
    """

    cols: dict[str, list[str]]
    kind: list[str]
    tin: list[str]
    status: list[str]
    codes: list[str]
    noise: list[str]
    defect: list[str] = field(default_factory=list)
    fixed_case: list[str] = field(default_factory=list)
    fixed_officer: list[bool] = field(default_factory=list)
    boilerplate: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.kind)
        self.defect = self.defect or [""] * n
        self.fixed_case = self.fixed_case or [""] * n
        self.fixed_officer = self.fixed_officer or [False] * n
        self.boilerplate = self.boilerplate or [-1] * n

    def __len__(self) -> int:
        return len(self.kind)

    def row(self, i: int) -> RowOf:
        return RowOf(self.cols, i)

    def select(self, idx: list[int]) -> Part:
        """The rows ``idx``, in that order (a copy)."""
        return Part(
            {c: [v[i] for i in idx] for c, v in self.cols.items()},
            [self.kind[i] for i in idx],
            [self.tin[i] for i in idx],
            [self.status[i] for i in idx],
            [self.codes[i] for i in idx],
            [self.noise[i] for i in idx],
            [self.defect[i] for i in idx],
            [self.fixed_case[i] for i in idx],
            [self.fixed_officer[i] for i in idx],
            [self.boilerplate[i] for i in idx],
        )


def empty(n: int, kind: str, status: str, noise: list[str] | None = None) -> Part:
    """``n`` requests of ``kind`` with every request column empty."""
    return Part(
        {c: [""] * n for c in REQUEST_COLUMNS},
        [kind] * n,
        [""] * n,
        [status] * n,
        [""] * n,
        noise if noise is not None else ["none"] * n,
    )


def concat(parts: list[Part]) -> Part:
    """The rows of every part, in order."""
    out = empty(0, "", "")
    for p in parts:
        for c in REQUEST_COLUMNS:
            out.cols[c] += p.cols[c]
        out.kind += p.kind
        out.tin += p.tin
        out.status += p.status
        out.codes += p.codes
        out.noise += p.noise
        out.defect += p.defect
        out.fixed_case += p.fixed_case
        out.fixed_officer += p.fixed_officer
        out.boilerplate += p.boilerplate
    return out
