"""Encryption at rest: the keys, and AES-256-GCM over the personal values the store keeps.

The keys live in one JSON file (``TAXGATE_KEYS_FILE``, else ``keys/encryption.json`` in the
work folder, made with mode 0600 on first use)::

    {"version": 1, "active": "k-20261204-1a2b3c4d", "keys": {"k-20261204-1a2b3c4d":
     {"key": "<base64 of 32 random bytes>", "created_at": "..."}}}

New values are sealed under the ``active`` key; every sealed value names the key it was
sealed under, so a value sealed before a rotation still opens while the old key is in the
file (``taxgate keys rotate`` re-seals everything and then retires the old key).

A sealed value is the text ``tg1.<key id>.<base64url(nonce || ciphertext || tag)>``. Its
associated data is the table, the column and the request id of the row it belongs to, so
a value moved to another row (by someone with SQL access and no key) does not open:

    >>> ring = Keyring.generate()
    >>> sealed = ring.seal(b'{"first_name":"Ann"}', aad("requests.payload", "R-1"))
    >>> sealed.startswith("tg1." + ring.active + ".")
    True
    >>> ring.open(sealed, aad("requests.payload", "R-1"), "R-1")
    b'{"first_name":"Ann"}'
    >>> ring.open(sealed, aad("requests.payload", "R-2"), "R-2")
    Traceback (most recent call last):
    ...
    taxgate.errors.StoreError: request `R-2`: its stored value does not open under key ...

Key material is never printed: errors name the file or the variable, and the key id.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from taxgate.errors import ConfigError, StoreError

PREFIX = "tg1."
KEYS_VARIABLE = "TAXGATE_KEYS_FILE"
_NONCE = 12
_KEY_BYTES = 32


def aad(column: str, request_id: str) -> bytes:
    """The associated data of a sealed value: where it belongs (``table.column``, row)."""
    return f"taxgate/{column}/{request_id}".encode()


def is_sealed(text: object) -> bool:
    return isinstance(text, str) and text.startswith(PREFIX)


def sealed_key_id(text: str) -> str:
    """The id of the key a sealed value names (without opening it)."""
    return text[len(PREFIX) :].split(".", 1)[0]


def new_key_id(now: datetime | None = None) -> str:
    """``k-YYYYMMDD-<8 hex>``: the date it was made and 32 random bits."""
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"k-{day}-{secrets.token_hex(4)}"


@dataclass
class Keyring:
    """The keys of one keys file: the active one seals, any of them opens."""

    active: str
    keys: dict[str, bytes]
    created: dict[str, str] = field(default_factory=dict)
    source: str = "keys"
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    @classmethod
    def generate(cls, source: str = "keys") -> Keyring:
        kid = new_key_id()
        return cls(kid, {kid: AESGCM.generate_key(bit_length=256)}, {kid: _now()}, source)

    def _cipher(self, kid: str, request_id: str) -> AESGCM:
        cipher = self._aead.get(kid)
        if cipher is None:
            key = self.keys.get(kid)
            if key is None:
                raise StoreError(
                    f"request `{request_id}`: its stored value is sealed under key `{kid}`, "
                    f"which is not in `{self.source}`"
                )
            cipher = self._aead[kid] = AESGCM(key)
        return cipher

    def seal(self, plaintext: bytes, associated: bytes) -> str:
        nonce = os.urandom(_NONCE)
        body = self._cipher(self.active, "").encrypt(nonce, plaintext, associated)
        return f"{PREFIX}{self.active}.{base64.urlsafe_b64encode(nonce + body).decode()}"

    def seal_many(self, plaintexts: Iterable[tuple[bytes, bytes]]) -> list[str]:
        """Seal many (plaintext, associated data) pairs under the active key."""
        cipher = self._cipher(self.active, "")
        head = f"{PREFIX}{self.active}."
        enc = base64.urlsafe_b64encode
        out = []
        for plaintext, associated in plaintexts:
            nonce = os.urandom(_NONCE)
            out.append(head + enc(nonce + cipher.encrypt(nonce, plaintext, associated)).decode())
        return out

    def open(self, sealed: str, associated: bytes, request_id: str) -> bytes:
        """The plaintext of ``sealed``; a :class:`StoreError` naming the request and the key
        when the key is unknown, or the value was altered or moved from another row."""
        kid, _, body = sealed[len(PREFIX) :].partition(".")
        cipher = self._cipher(kid, request_id)
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], associated)
        except (InvalidTag, ValueError):
            raise StoreError(
                f"request `{request_id}`: its stored value does not open under key `{kid}` "
                "(altered, sealed under another key with the same id, or moved from another row)"
            ) from None

    def with_new_key(self) -> tuple[Keyring, str]:
        """A copy with a new active key (the old ones kept); the new key's id."""
        kid = new_key_id()
        while kid in self.keys:
            kid = new_key_id()
        keys = {**self.keys, kid: AESGCM.generate_key(bit_length=256)}
        return Keyring(kid, keys, {**self.created, kid: _now()}, self.source), kid

    def only(self, kid: str) -> Keyring:
        """A copy holding only key ``kid`` (active): the others retired."""
        return Keyring(kid, {kid: self.keys[kid]}, {kid: self.created.get(kid, "")}, self.source)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": 1,
                "active": self.active,
                "keys": {
                    k: {"key": base64.b64encode(v).decode(), "created_at": self.created.get(k, "")}
                    for k, v in self.keys.items()
                },
            },
            indent=1,
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_keyring(text: str, source: str) -> Keyring:
    """A keys file's text as a :class:`Keyring`; a :class:`ConfigError` naming ``source`` and
    what is wrong (never a key's value)."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise ConfigError("not JSON", source) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("keys"), Mapping):
        raise ConfigError("no `keys` object", source)
    problems: list[str] = []
    keys: dict[str, bytes] = {}
    created: dict[str, str] = {}
    for kid, entry in doc["keys"].items():
        raw = entry.get("key") if isinstance(entry, Mapping) else None
        try:
            key = base64.b64decode(str(raw), validate=True)
        except ValueError:
            key = b""
        if len(key) != _KEY_BYTES or "." in str(kid) or not str(kid):
            problems.append(f"key `{kid}` is not a base64 256-bit key with an id free of dots")
            continue
        keys[str(kid)] = key
        created[str(kid)] = str(entry.get("created_at", ""))
    active = doc.get("active")
    if not problems and active not in keys:
        problems.append(f"the active key `{active}` is not among the keys")
    if problems:
        raise ConfigError(problems, source)
    return Keyring(str(active), keys, created, source)


@dataclass(frozen=True, slots=True)
class KeysFile:
    """Where the keys are: the file, and whether an operator named it (then it must exist)."""

    path: Path
    named: bool

    @property
    def source(self) -> str:
        return f"{KEYS_VARIABLE}={self.path}" if self.named else str(self.path)

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> Keyring:
        """The keyring; a :class:`ConfigError` naming the file (and the variable) when it is
        missing, unreadable, malformed or readable by others than its owner."""
        try:
            text = self.path.read_text(encoding="utf-8")
            mode = self.path.stat().st_mode & 0o077
        except FileNotFoundError:
            raise ConfigError("no such keys file", self.source) from None
        except OSError as e:
            raise ConfigError(f"unreadable keys file ({type(e).__name__})", self.source) from None
        if mode:
            raise ConfigError(
                "the keys file is readable by other users: make it mode 0600", self.source
            )
        return parse_keyring(text, self.source)

    def write(self, ring: Keyring) -> None:
        """Replace the file atomically (a temporary file, mode 0600, renamed over it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(ring.to_json())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load_or_create(self) -> Keyring:
        """The keyring, a new one made (and written, 0600) when the default file does not
        exist yet; a named file must exist."""
        if not self.named and not self.exists():
            ring = Keyring.generate(self.source)
            self.write(ring)
            return self.read()
        return self.read()


def keys_file(workdir: Path, named: str | Path | None) -> KeysFile:
    """The keys file of a work folder: ``named`` (from ``TAXGATE_KEYS_FILE``) or the default."""
    if named:
        return KeysFile(Path(named).expanduser(), True)
    return KeysFile(workdir / "keys" / "encryption.json", False)
