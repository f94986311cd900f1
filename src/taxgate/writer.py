"""A large batch's store writes overlapped with its deciding: a forked writer process.

A batch is decided a chunk at a time, and each chunk's writes (its rows, the content digests
its audit entries commit to, one commit) cost about as much as deciding it. The writer is
a child forked from the batch's process, so it has all the parent had (the workspace, the
configuration, the open decision-lines file); the parent hands it each decided chunk (through
an in-memory file, :class:`Spool`) and decides the next one while the child writes. At most
``window`` chunks wait.

Each chunk is still written in one transaction, in the order sent. The child dies with its
parent (``PR_SET_PDEATHSIG``): a killed batch leaves every chunk written whole or not at
all, as in one process, and a rerun finds no writer of the dead run still at work. An
error in the child comes back to the parent at its next send or at :meth:`close`, without
the values it was writing (a store's exception can quote the row it refused).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import multiprocessing
import os
import pickle
import signal
import struct
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from taxgate.errors import StoreError, TaxgateError

T = TypeVar("T")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1
_END = None  # what the parent sends after its last chunk
_END_BYTES = pickle.dumps(_END)


@functools.cache
def available() -> bool:
    """Whether this platform can fork a writer and hand it chunks through an anonymous
    in-memory file (Linux), tried once per process: a sandbox may refuse ``memfd_create``
    or punching holes (a batch is then written by its own process, as a small one is)."""
    if "fork" not in multiprocessing.get_all_start_methods() or not hasattr(os, "memfd_create"):
        return False
    try:
        spool = Spool()
    except OSError:
        return False
    try:
        return spool.take(spool.put(b"taxgate")) == b"taxgate"
    except OSError:
        return False
    finally:
        spool.close()


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


_PAGE = 4096
_WHERE = struct.Struct("<QQ")  # a chunk's offset and length in the spool
_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
#: Chunks that may wait, at most: their 20-byte messages then always fit in the pipe's
#: buffer (64 KiB), so the parent never waits on the pipe, nor the child on its answers.
MAX_WINDOW = 2048


class Spool:
    """The chunks on their way to the writer: an anonymous in-memory file (``memfd``),
    made before the fork so that both processes hold it.

    The parent appends a chunk's bytes and sends the child only where they are (16 bytes
    through the pipe); the child reads them when their turn comes and gives their pages
    back (a hole punched in the file), so the spool holds only what waits. Through the pipe
    itself, a chunk of 2 MB went over in 64 KB pieces, each taken by a thread of the child
    that had to get the interpreter's lock from the thread writing the store: the parent
    waited on the pipe for much of its deciding.
    The file has no name in any folder and goes when both processes have closed it (a
    killed batch leaves nothing behind); its pages are memory, never written to disk.
    """

    def __init__(self) -> None:
        self.fd = os.memfd_create("taxgate-writer")
        self._end = 0
        libc = ctypes.CDLL(None, use_errno=True)
        self._fallocate = libc.fallocate
        self._fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]

    def put(self, data: bytes) -> bytes:
        """Append ``data`` (from a page boundary); the message that says where it is."""
        at = self._end
        view, pos = memoryview(data), at
        while view:
            n = os.pwrite(self.fd, view, pos)
            view, pos = view[n:], pos + n
        self._end = -(-pos // _PAGE) * _PAGE  # the next chunk shares no page with this one
        return _WHERE.pack(at, len(data))

    def take(self, where: bytes) -> bytes:
        """The bytes ``where`` (a message of :meth:`put`) points to; their pages freed."""
        at, size = _WHERE.unpack(where)
        parts, pos, left = [], at, size
        while left:
            part = os.pread(self.fd, left, pos)
            if not part:
                raise OSError("the writer's spool ended before its chunk")
            parts.append(part)
            pos, left = pos + len(part), left - len(part)
        span = -(-size // _PAGE) * _PAGE
        mode = _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE
        if self._fallocate(self.fd, mode, at, span) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"freeing the writer's spool failed: {os.strerror(errno)}")
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _serve(
    inbox: Connection,
    outbox: Connection,
    spool: Spool,
    handle: Callable[[Any], Any],
    start: Callable[[], None],
    finish: Callable[[], None],
    parent: int,
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
    try:
        start()
        while True:
            try:
                where = inbox.recv_bytes()
            except (EOFError, OSError):
                return  # the parent gave up on the batch: what was written is whole
            if where == _END_BYTES:
                break
            item = pickle.loads(spool.take(where))
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
        self._spool = Spool()
        self._proc = ctx.Process(
            target=_serve,
            args=(inbox, outbox, self._spool, handle, start, finish, os.getpid(), theirs),
            name="taxgate-writer",
            daemon=True,
        )
        self._proc.start()
        inbox.close()
        outbox.close()
        self._window = max(1, min(window, MAX_WINDOW))
        self._waiting = 0  # chunks sent and not yet written

    def _answer(self) -> tuple[str, Any]:
        try:
            kind, value = self._acks.recv()
        except (EOFError, OSError):
            self._reap()
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
        where = self._spool.put(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
        try:
            self._send.send_bytes(where)
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
                self._reap()
                return

    def abort(self) -> None:
        """Stop the child after the chunk it is writing (the parent failed); wait for it."""
        self._send.close()
        self._reap()

    def _reap(self) -> None:
        """Wait for the child to end; close this process's hold on the spool."""
        self._proc.join()
        self._spool.close()
