"""Sealed columns: JSON values kept encrypted in the store, opened only with the row's id.

:class:`SealedJSON` is the column type of a request's payload as received and of a
disclosure's payload (what went out). Writing, it serialises the value to JSON and seals it
(:mod:`taxgate.crypto`) with the request id found in the value as associated data; reading,
it selects the row's own ``request_id`` beside the stored text (a column expression) and
opens the value with that id, so a ciphertext moved to another row by someone with SQL
access does not open: the error names the request.

The keys come from the work folder's keys file, attached to the engine by
:func:`attach` (the workspace does it). A value written before encryption (plain JSON) is
still read, and ``taxgate keys rotate`` seals it. A value that cannot be opened (no keys
file, or it does not open under its key) reads as :class:`Unreadable`: ``taxgate audit
verify`` leaves the first unchecked and names the second; any other use of it is an error
naming the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, Text, literal, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from taxgate.canonical import json_encoder
from taxgate.crypto import Keyring, KeysFile, aad, is_sealed
from taxgate.errors import StoreError

_SEP = "\x1f"  # never inside a sealed value or a JSON text (JSON escapes control characters)
_ATTR = "_taxgate_keys"
_RELOAD_SECONDS = 1.0


class Unreadable(Mapping[str, Any]):
    """A sealed value that cannot be opened here: no keys file (``state`` ``no-key``: the
    audit log's content check leaves it unchecked, :data:`taxgate.audit.content.UNREADABLE`),
    or it does not open under its key (``broken``: altered, or moved from another row; the
    check names it). Any other use is the :class:`StoreError` naming the request."""

    def __init__(self, request_id: str, key_id: str, state: str, error: StoreError) -> None:
        self.request_id, self.key_id, self.sealed_state, self.error = (
            request_id,
            key_id,
            state,
            error,
        )

    def _refuse(self) -> StoreError:
        return StoreError(self.error.message)

    def __getitem__(self, key: str) -> Any:
        raise self._refuse()

    def __iter__(self) -> Iterator[str]:
        raise self._refuse()

    def __len__(self) -> int:
        raise self._refuse()

    def __repr__(self) -> str:
        return f"Unreadable({self.request_id!r}, {self.key_id!r}, {self.sealed_state!r})"


class StoreKeys:
    """The keyring of one store: read from its file (re-read when the file changes, so a
    rotation by another process is seen), made on first write when the default file does
    not exist yet."""

    def __init__(self, file: KeysFile) -> None:
        self.file = file
        self._ring: Keyring | None = None
        self._checked = 0.0
        self._mtime = 0

    def _fresh(self) -> None:
        now = time.monotonic()
        if self._ring is not None and now - self._checked < _RELOAD_SECONDS:
            return
        self._checked = now
        try:
            mtime = self.file.path.stat().st_mtime_ns
        except OSError:
            mtime = -1
        if self._ring is None or mtime != self._mtime:
            self._ring = self.file.read() if mtime != -1 else None
            self._mtime = mtime

    def for_writing(self) -> Keyring:
        self._fresh()
        if self._ring is None:
            self._ring = self.file.load_or_create()
            self._mtime = self.file.path.stat().st_mtime_ns
        return self._ring

    def for_reading(self, reload: bool = False) -> Keyring | None:
        """The keyring, or None when there is no keys file (values then read as
        :class:`Unreadable`); a named file that is missing is an error."""
        if reload:
            self._checked = 0.0
        self._fresh()
        if self._ring is None and self.file.named:
            self.file.read()  # raises, naming the variable and the file
        return self._ring

    def forget(self) -> None:
        self._ring = None
        self._checked = 0.0


def attach(engine: Engine, file: KeysFile) -> StoreKeys:
    """Give ``engine``'s sealed columns the keys of ``file`` (once; later calls keep them)."""
    found: StoreKeys | None = getattr(engine.dialect, _ATTR, None)
    if found is None or found.file != file:
        found = StoreKeys(file)
        setattr(engine.dialect, _ATTR, found)
    return found


def keys_of(dialect: Dialect) -> StoreKeys:
    found: StoreKeys | None = getattr(dialect, _ATTR, None)
    if found is None:
        raise StoreError("the store was opened without its encryption keys")
    return found


_dumps = json_encoder(sort_keys=False)


def seal_value(ring: Keyring, column: str, request_id: str, value: Any) -> str:
    """``value`` as its JSON text sealed under ``ring``'s active key, bound to its column
    (``table.column``) and its row's request id."""
    return ring.seal(_dumps(value).encode("utf-8"), aad(column, request_id))


class SealedJSON(TypeDecorator[Any]):
    """A JSON value sealed under the store's active key; ``column`` (``table.column``) and
    the row's request id are its associated data."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or is_sealed(value):
            return value  # type: ignore[no-any-return]
        if isinstance(value, Unreadable):
            raise value._refuse()  # never written back as anything
        rid = value.get("request_id") if isinstance(value, Mapping) else None
        if not isinstance(rid, str) or not rid:
            raise StoreError(f"a value for `{self.column}` names no request id")
        return seal_value(keys_of(dialect).for_writing(), self.column, rid, value)

    def column_expression(self, colexpr: ColumnElement[Any]) -> ColumnElement[Any]:
        table = getattr(colexpr, "table", None)
        if table is None:  # not a plain column: no row id to open it with
            return colexpr
        joined = table.c.request_id.concat(literal(_SEP)).concat(type_coerce(colexpr, Text))
        return type_coerce(joined, self)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        rid, sep, stored = str(value).rpartition(_SEP)
        if not sep:
            raise StoreError(f"`{self.column}` read without its row's request id")
        if not is_sealed(stored):
            return json.loads(stored)  # written before encryption; `keys rotate` seals it
        return open_value(keys_of(dialect), self.column, rid, stored)


def open_value(keys: StoreKeys, column: str, rid: str, stored: str) -> Any:
    """The JSON value of a sealed text of row ``rid``."""
    from taxgate.crypto import sealed_key_id

    kid = sealed_key_id(stored)
    ring = keys.for_reading()
    if ring is None:
        missing = StoreError(
            f"request `{rid}`: its stored value is encrypted under key `{kid}` and no keys "
            "file is present"
        )
        return Unreadable(rid, kid, "no-key", missing)
    if kid not in ring.keys:  # rotated by another process meanwhile?
        ring = keys.for_reading(reload=True) or ring
    try:
        return json.loads(ring.open(stored, aad(column, rid), rid))
    except StoreError as e:
        return Unreadable(rid, kid, "broken", e)
