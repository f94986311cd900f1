"""The per-request stage of :func:`~taxgate.rules.evaluate_stream`, in one or more processes.

Every request is judged on its own (:class:`Stage`) into a compact :data:`Judged` tuple:
its failures, years, fields and the keys the batch-level rules count. Large batches are
judged in chunks by forked worker processes (``fork`` start method: the stage is inherited,
not pickled); results come back in file order, so the outcome does not depend on the
number of workers. A bounded window of chunks in flight keeps memory flat.

Chunks travel as columns, each column of strings joined into one string (:func:`_pack`):
pickling one long string costs far less than pickling thousands of short ones, and the main
process, which feeds the workers and counts their results, is the bottleneck. For the same
reason the workers hash the reasons for the near-duplicate grouping (a hash per reason key,
its shingle set) and send those rather than the keys.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections import deque, namedtuple
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from multiprocessing.pool import AsyncResult
from operator import attrgetter

from taxgate.rules.checks import RequestJudge, case_key
from taxgate.rules.names import officer_key
from taxgate.rules.reasons import reason_key, word_count
from taxgate.rules.rulebook import Rulebook
from taxgate.rules.shingles import ShingleSets, shingle_sets
from taxgate.types import Request

#: request_id, failures (code -> messages) or None, years, fields, case key, officer key,
#: reason key ("" when not counted).
Judged = tuple[str, dict[str, list[str]] | None, tuple[int, ...], tuple[str, ...], str, str, str]
#: A chunk's :data:`Judged` tuples as columns: request ids, failures, years, fields, case keys,
#: officer keys, then each reason key's hash (``None``: not counted) and the chunk's reason
#: shingle sets (an empty set where no reason is counted).
Columns = tuple[
    Sequence[str],
    Sequence[dict[str, list[str]] | None],
    Sequence[tuple[int, ...]],
    Sequence[tuple[str, ...]],
    Sequence[str],
    Sequence[str],
    Sequence[int | None],
    ShingleSets,
]

#: R-REASON's statutory part: a request with no reason is refused whatever the switch.
NO_REASON = "no reason is given"

CHUNK = 8_192
#: Batches with fewer requests are judged in this process (forking costs more than it saves).
PARALLEL_MIN = 4 * CHUNK
_NAMES = tuple(f.name for f in dataclasses.fields(Request))
_ROW = attrgetter(*_NAMES)
#: What a worker judges: the request's fields by name (a tuple, cheaper than a Request).
_Row = namedtuple("_Row", _NAMES)  # type: ignore[misc]


class Stage:
    """Judges one request alone; holds the per-batch caches of :class:`RequestJudge`."""

    def __init__(self, judge: RequestJudge, rulebook: Rulebook) -> None:
        self.judge = judge
        self.checks = [(code, judge.checks[code]) for code in judge.active]
        self.check_period = rulebook.switch("R-PERIOD") != "off"
        self.check_reason = rulebook.switch("R-REASON") != "off"
        self.min_words = rulebook.min_reason_words

    def one(self, r: Request) -> Judged:
        """The per-request verdict of ``r`` (batch-level rules are decided later)."""
        failures: dict[str, list[str]] = {}
        for code, check in self.checks:
            problems = check(r)
            if problems:
                failures[code] = problems
        years: tuple[int, ...] = ()
        judge = self.judge
        if self.check_period:
            years, period_problems = judge.periods(r.tax_periods)
            if period_problems:
                failures["R-PERIOD"] = list(period_problems)
        fields = judge.info(r.info_requested)[0]
        key = ""
        if self.check_reason:
            n_words = word_count(r.reason)
            if n_words == 0:
                failures["R-REASON"] = [NO_REASON]
            elif n_words < self.min_words:
                failures["R-REASON"] = [f"the reason has fewer than {self.min_words} words"]
            key = reason_key(r)
        return (
            r.request_id,
            failures or None,
            years,
            fields,
            case_key(r.case_number),
            officer_key(r.officer),
            key,
        )


_STAGE: Stage | None = None


_SEP = "\x00"
#: Packed columns of a chunk: every field of :class:`Request` but ``row`` (last), then rows.
_Packed = tuple[str | list[str] | tuple[int, ...], ...]
#: What a worker sends back: failures, years, fields, packed case and officer keys, then the
#: reason hashes and shingle sets.
_Result = tuple[
    list[dict[str, list[str]] | None],
    list[tuple[int, ...]],
    list[tuple[str, ...]],
    str | list[str],
    str | list[str],
    list[int | None],
    ShingleSets,
]


def _pack(values: Sequence[str]) -> str | list[str]:
    """``values`` as one string for pickling; the list itself when a value holds the separator."""
    text = _SEP.join(values)
    return text if text.count(_SEP) == len(values) - 1 else list(values)


def _unpack(packed: str | list[str], n: int) -> list[str]:
    """The ``n`` strings :func:`_pack` packed."""
    if isinstance(packed, list):
        return packed
    return packed.split(_SEP) if n else []


def _work(packed: _Packed) -> _Result:
    stage = _STAGE
    assert stage is not None, "worker started without a stage"
    rows = packed[-1]
    n = len(rows)
    columns = [_unpack(c, n) for c in packed[:-1]]  # type: ignore[arg-type]  # str columns
    one = stage.one
    make = _Row._make
    rows_in = zip(*columns, rows, strict=True)
    got = [one(make(row)) for row in rows_in]  # type: ignore[arg-type]  # duck-typed Request
    _, failures, years, fields, cases, officers, reasons = zip(*got, strict=True)
    return (
        list(failures),
        list(years),
        list(fields),
        _pack(cases),
        _pack(officers),
        *reason_hashes(reasons),
    )


def reason_hashes(keys: Sequence[str]) -> tuple[list[int | None], ShingleSets]:
    """Each reason key's hash (``None`` for ``""``: not counted) and the keys' shingle sets.

    Equal keys have equal hashes; two different keys sharing a 64-bit hash (odds about
    ``n**2 / 2**65``) would count as one reason, which can only refuse, never accept.
    """
    return [hash(k) if k else None for k in keys], shingle_sets(keys)


def default_workers() -> int:
    """Worker processes to use: the CPUs this process may run on, 1 without ``fork``."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def judged(
    requests: Iterable[Request], stage: Stage, workers: int | None = None
) -> Iterator[Columns]:
    """Every request's :data:`Judged` tuple, in order, a chunk's :data:`Columns` at a time.

    In ``workers`` processes when the batch is large.
    """
    global _STAGE
    n = default_workers() if workers is None else workers
    it = iter(requests)
    head = list(islice(it, PARALLEL_MIN))
    if n <= 1 or len(head) < PARALLEL_MIN:
        for chunk in _chunks(head, it):
            *columns, keys = zip(*map(stage.one, chunk), strict=True)
            yield (*columns, *reason_hashes(keys))  # type: ignore[misc]
        return
    _STAGE = stage
    try:
        with multiprocessing.get_context("fork").Pool(n) as pool:
            window: deque[tuple[Sequence[str], AsyncResult[_Result]]] = deque()
            for chunk in _chunks(head, it):
                *columns, rows = zip(*map(_ROW, chunk), strict=True)
                packed = (*map(_pack, columns), rows)
                window.append((columns[0], pool.apply_async(_work, (packed,))))
                if len(window) >= 2 * n:
                    yield _columns(*window.popleft())
            while window:
                yield _columns(*window.popleft())
    finally:
        _STAGE = None


def _columns(ids: Sequence[str], result: AsyncResult[_Result]) -> Columns:
    failures, years, fields, cases, officers, hashes, sets = result.get()
    n = len(ids)
    return (ids, failures, years, fields, _unpack(cases, n), _unpack(officers, n), hashes, sets)


def _chunks(head: list[Request], rest: Iterator[Request]) -> Iterator[list[Request]]:
    for lo in range(0, len(head), CHUNK):
        yield head[lo : lo + CHUNK]
    head.clear()
    while chunk := list(islice(rest, CHUNK)):
        yield chunk
