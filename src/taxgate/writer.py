"""A large batch's store writes overlapped with its deciding: a forked writer process.

A batch is decided a chunk at a time, and each chunk's writes (its rows, the content digests
its audit entries commit to, one commit) cost about as much as deciding it. The writer is
a child forked from the batch's process, so it has all the parent had (the workspace, the
configuration, the open decision-lines file); the parent sends it each decided chunk through
a pipe and decides the next one while the child writes. At most ``window`` chunks wait.

Each chunk is still written in one transaction, in the order sent. The child dies with its
parent (``PR_SET_PDEATHSIG``): a killed batch leaves every chunk written whole or not at
all, as in one process, and a rerun finds no writer of the dead run still at work. An
error in the child comes back to the parent at its next send or at :meth:`close`, without
the values it was writing (a store's exception can quote the row it refused).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pickle
import queue
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from taxgate.errors import StoreError, TaxgateError

T = TypeVar("T")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1
_END = None  # what the parent sends after its last chunk
_END_BYTES = pickle.dumps(_END)


def available() -> bool:
    """Whether this platform can fork a writer (Linux, macOS; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _die_with(parent: int) -> None:
    """Be killed when the parent dies (Linux); leave now if it died before this ran."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:
        os._exit(1)


def _portable(error: BaseException) -> BaseException:
    """The child's error as the parent may see it: taxgate's own errors as they are (they
    name request ids, never values), any other as which kind of error it was."""
    if isinstance(error, TaxgateError):
        try:
            copy: BaseException = pickle.loads(pickle.dumps(error))
            return copy
        except Exception:  # noqa: BLE001 - an error that does not pickle is told by its text
            return StoreError(str(error))
    return StoreError(
        f"the batch's writer process failed ({type(error).__name__}); the chunk it was "
        "writing was not stored, the chunks before it were"
    )


def _serve(
    inbox: Connection,
    outbox: Connection,
    handle: Callable[[Any], Any],
    start: Callable[[], None],
    finish: Callable[[], None],
    parent: int,
    window: int,
    theirs: tuple[Connection, Connection],
) -> None:
    _die_with(parent)
    # What the parent made is never collected here: a finaliser of an inherited object
    # (an embedded database's connection, whose threads stayed in the parent) crashed the
    # writer of a process that had used DuckDB before forking. The child keeps its
    # inherited references; only what it makes itself is collected.
    gc.freeze()
    for end in theirs:  # the parent's ends, inherited: held here, the parent's close of
        end.close()  # its sending end would never reach this process as the end of input
    # chunks wait as the bytes they came in (a few times smaller than the objects they
    # become), each unpickled only when its turn comes
    waiting: queue.Queue[tuple[bool, bytes]] = queue.Queue(maxsize=window)

    def receive() -> None:  # the next chunks are read while this one is written
        while True:
            try:
                data = inbox.recv_bytes()
            except (EOFError, OSError):
                waiting.put((False, b""))  # the parent stopped without its end mark
                return
            waiting.put((True, data))
            if data == _END_BYTES:
                return
            del data  # held only by the queue, freed once written

    threading.Thread(target=receive, daemon=True).start()
    try:
        start()
        while True:
            sent, data = waiting.get()
            if not sent:
                return  # the parent gave up on the batch: what was written is whole
            if data == _END_BYTES:
                break
            item = pickle.loads(data)
            del data
            done = handle(item)
            del item  # a chunk (or a batch's bytes) is not kept while the next waits
            # what the writer keeps (a batch's requests, their keys) leaves the collector's
            # walk: full collections walked it again and again (4.7 s of 35 at 128,000)
            gc.freeze()
            outbox.send(("ok", done))
        finish()
        outbox.send(("done", None))
    except BaseException as e:  # noqa: BLE001 - every failure goes back to the parent
        try:
            outbox.send(("error", _portable(e)))
        except OSError:
            pass


class ForkedWriter(Generic[T, R]):
    """Hand chunks to a forked child that runs ``handle`` on each, in order; ``done`` runs
    here on what ``handle`` returned for each chunk, in the same order.

    ``start`` runs first in the child (to open its own store connections: a connection is
    never shared across a fork), ``finish`` last, after the last chunk.
    """

    def __init__(
        self,
        handle: Callable[[T], R],
        *,
        done: Callable[[R], None],
        start: Callable[[], None],
        finish: Callable[[], None] = lambda: None,
        window: int = 2,
    ) -> None:
        self._done = done
        ctx = multiprocessing.get_context("fork")
        inbox, self._send = ctx.Pipe(duplex=False)
        self._acks, outbox = ctx.Pipe(duplex=False)
        theirs = (self._send, self._acks)
        self._proc = ctx.Process(
            target=_serve,
            args=(inbox, outbox, handle, start, finish, os.getpid(), window, theirs),
            name="taxgate-writer",
            daemon=True,
        )
        self._proc.start()
        inbox.close()
        outbox.close()
        self._window = window
        self._waiting = 0  # chunks sent and not yet written

    def _answer(self) -> tuple[str, Any]:
        try:
            kind, value = self._acks.recv()
        except (EOFError, OSError):
            self._proc.join()
            raise StoreError(
                f"the batch's writer process stopped (exit code {self._proc.exitcode}); "
                "the chunks it acknowledged are stored, a rerun decides the rest"
            ) from None
        if kind == "error":
            self.abort()
            raise value
        if kind == "ok":
            self._waiting -= 1
            self._done(value)
        return kind, value

    def send(self, chunk: T, *, window: int | None = None) -> None:
        """Queue a chunk; waits while ``window`` chunks are waiting already (the writer's
        own window, or a smaller one for this send).

        Raises:
            TaxgateError: the child failed on an earlier chunk (it has stopped).
        """
        limit = self._window if window is None else max(1, min(window, self._window))
        while self._waiting >= limit:
            self._answer()
        data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._send.send_bytes(data)
        except OSError:  # the child has stopped: its error (or its exit) is the answer
            while True:
                self._answer()
        self._waiting += 1

    @property
    def window(self) -> int:
        """How many chunks may wait before :meth:`send` waits."""
        return self._window

    def behind(self) -> int:
        """How many chunks sent are not written yet (answers already in are read now,
        without waiting): a parent may take on work the child would do when it lags."""
        while self._waiting and self._acks.poll():
            self._answer()
        return self._waiting

    def close(self) -> None:
        """Wait for every chunk to be written (and ``done`` to have run on each).

        Raises:
            TaxgateError: the child failed (the chunks before the failed one are written).
        """
        self._send.send_bytes(_END_BYTES)
        while True:
            kind, value = self._answer()
            if kind == "done":
                self._proc.join()
                return

    def abort(self) -> None:
        """Stop the child after the chunk it is writing (the parent failed); wait for it."""
        self._send.close()
        self._proc.join()
