"""What a signed checkpoint says of the log's control entries.

The control tables (held-back taxpayers, officials, safeguards, privacy spends, users) are
checked against the replay of their events before a batch relies on them
(:mod:`taxgate.storage.control`). That replay finds its entries by the store's event-type
column, which is not signed: an insider who deletes a holdback's row and relabels its
``holdback_added`` entry as a ``decision`` would leave a replay that agrees with the table.

So each checkpoint taxgate signs also counts the control entries below its size, in an
extension line ``control <count> <base64 chain>``; the chain runs over each control entry's
index and leaf hash in log order. The signer finds control entries by their bytes, never
by the column; a reader recomputes the chain from the entries the column gives and
compares it with the signed line: a relabelled or deleted control entry changes it.

>>> head = ControlHead().then(3, bytes(32)).then(9, bytes(32))
>>> parse_line(head.line()) == head, head.count
(True, 2)
>>> event_type_of(b'{"details":{"event_type":"x"},"event_type":"holdback_added","masked":[]}')
'holdback_added'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from taxgate.audit.rfc9162 import HASH_SIZE
from taxgate.errors import AuditError

__all__ = ["CONTROL_EVENTS", "ControlHead", "event_type_of", "parse_line", "signed_head"]

#: The entries the control state is replayed from.
CONTROL_EVENTS: frozenset[str] = frozenset(
    {
        "holdback_added",
        "holdback_removed",
        "key_registered",
        "permission_change",
        "safeguard_status",
        "transparency_release",
    }
)
_PREFIX = "control "
_START = bytes(HASH_SIZE)
_COUNT = re.compile(r"(0|[1-9][0-9]*)\Z")
# in an entry's canonical bytes the top-level event type follows the details; nothing after
# it (strings, whose quotes are escaped, and a number) can hold this text again
_MARK = b',"event_type":"'


@dataclass(frozen=True, slots=True)
class ControlHead:
    """The control entries up to some size: how many, and the chain over them."""

    count: int = 0
    chain: bytes = _START

    def then(self, index: int, leaf: bytes) -> ControlHead:
        """The head with one more control entry (its log index and leaf hash)."""
        step = hashlib.sha256(self.chain + index.to_bytes(8, "big") + leaf).digest()
        return ControlHead(self.count + 1, step)

    def extended(self, entries: Iterable[tuple[int, bytes]]) -> ControlHead:
        """The head with these (index, leaf hash) entries added in order."""
        head = self
        for index, leaf in entries:
            head = head.then(index, leaf)
        return head

    def line(self) -> str:
        """The checkpoint extension line."""
        return f"{_PREFIX}{self.count} {base64.b64encode(self.chain).decode('ascii')}"


def parse_line(line: str) -> ControlHead:
    """A ``control`` extension line read back.

    Raises:
        AuditError: the line is not ``control <count> <base64 of 32 bytes>``.
    """
    parts = line.removeprefix(_PREFIX).split(" ")
    if not line.startswith(_PREFIX) or len(parts) != 2 or not _COUNT.match(parts[0]):
        raise AuditError("a checkpoint's control line is not `control <count> <chain>`")
    try:
        chain = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise AuditError("a checkpoint's control chain is not base64") from None
    if len(chain) != HASH_SIZE:
        raise AuditError("a checkpoint's control chain is not 32 bytes")
    return ControlHead(int(parts[0]), chain)


def signed_head(extensions: Iterable[str]) -> ControlHead | None:
    """The control head among a checkpoint's extension lines (None: it counts none, it was
    signed before checkpoints did).

    Raises:
        AuditError: more than one control line, or one malformed.
    """
    lines = [e for e in extensions if e.startswith(_PREFIX)]
    if len(lines) > 1:
        raise AuditError("a checkpoint has more than one control line")
    return parse_line(lines[0]) if lines else None


def event_type_of(data: bytes) -> str:
    """The event type an entry's canonical bytes record ("" if none can be read)."""
    at = data.rfind(_MARK)
    if at < 0:
        return ""
    start = at + len(_MARK)
    end = data.find(b'"', start)
    return data[start:end].decode("utf-8", "replace") if end > start else ""
