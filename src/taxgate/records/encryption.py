"""The records Parquet file encrypted at rest: Parquet modular encryption through pyarrow.

The file is written with uniform encryption (footer and every column under one data key,
AES-GCM); the data key is made by pyarrow and wrapped, inside the file's footer, by
:class:`KeyringKms` under the work folder's active key (:mod:`taxgate.crypto`), named by its
key id. DuckDB reads such a file when handed the data key (``PRAGMA add_parquet_key``):
:func:`duckdb_source` unwraps it with the keyring and registers it on the connection.

A file written before encryption (plain Parquet, ``PAR1``) is still read as it is.

The Spark path reads the standardised record versions DuckDB derives from this file, never
the file itself, so it needs no key.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from taxgate.crypto import Keyring, keys_file
from taxgate.errors import StoreError
from taxgate.sqltext import literal

_MAGIC_ENCRYPTED = b"PARE"
_NO_LIMIT = 2**63 - 1
#: Rows per row group. Each column chunk is one data page without a dictionary: DuckDB
#: (2.0.1) fails the tag check of the second and later pages of an encrypted column chunk.
ROW_GROUP = 250_000


def _wrap_aad(kid: str) -> bytes:
    return f"taxgate/parquet-data-key/{kid}".encode()


class KeyringKms(pe.KmsClient):  # type: ignore[misc]
    """pyarrow's key management over a :class:`Keyring`: wraps a file's data key under the
    master key it names (AES-GCM); remembers the last key it unwrapped (for DuckDB)."""

    def __init__(self, ring: Keyring) -> None:
        super().__init__()
        self.ring = ring
        self.unwrapped: bytes | None = None

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        key = self.ring.keys[master_key_identifier]
        nonce = os.urandom(12)
        body = AESGCM(key).encrypt(nonce, bytes(key_bytes), _wrap_aad(master_key_identifier))
        return base64.b64encode(nonce + body).decode()

    def unwrap_key(self, wrapped_key: str, master_key_identifier: str) -> bytes:
        key = self.ring.keys.get(master_key_identifier)
        if key is None:
            raise StoreError(
                f"the records file is encrypted under key `{master_key_identifier}`, "
                f"which is not in `{self.ring.source}`"
            )
        raw = base64.b64decode(wrapped_key)
        try:
            self.unwrapped = AESGCM(key).decrypt(
                raw[:12], raw[12:], _wrap_aad(master_key_identifier)
            )
        except InvalidTag:
            raise StoreError(
                f"the records file's data key does not open under key `{master_key_identifier}`"
            ) from None
        return self.unwrapped


def _factory(ring: Keyring) -> tuple[pe.CryptoFactory, list[KeyringKms]]:
    made: list[KeyringKms] = []

    def client(_config: pe.KmsConnectionConfig) -> KeyringKms:
        kms = KeyringKms(ring)
        made.append(kms)
        return kms

    return pe.CryptoFactory(client), made


def encryption_properties(ring: Keyring) -> Any:
    """File encryption properties: uniform, data key wrapped under the active key."""
    factory, _ = _factory(ring)
    config = pe.EncryptionConfiguration(
        footer_key=ring.active,
        uniform_encryption=True,
        double_wrapping=False,
        internal_key_material=True,
        data_key_length_bits=256,
        cache_lifetime=None,
    )
    return factory.file_encryption_properties(pe.KmsConnectionConfig(), config)


def decryption_properties(ring: Keyring) -> tuple[Any, list[KeyringKms]]:
    factory, made = _factory(ring)
    props = factory.file_decryption_properties(
        pe.KmsConnectionConfig(), pe.DecryptionConfiguration()
    )
    return props, made


def is_encrypted(path: Path) -> bool:
    """Whether ``path`` is a Parquet file with an encrypted footer."""
    try:
        with path.open("rb") as f:
            return f.read(4) == _MAGIC_ENCRYPTED
    except OSError:
        return False


def write_batches(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, path: Path, ring: Keyring
) -> int:
    """Write ``batches`` as one encrypted Parquet file (zstd, row groups of
    :data:`ROW_GROUP` rows, one page per column chunk); the rows written."""
    rows = 0
    with pq.ParquetWriter(
        path,
        schema,
        compression="zstd",
        use_dictionary=False,
        data_page_size=1 << 30,
        max_rows_per_page=ROW_GROUP,
        encryption_properties=encryption_properties(ring),
    ) as writer:
        for batch in batches:
            writer.write_batch(batch, row_group_size=ROW_GROUP)
            rows += batch.num_rows
    return rows


def data_key(path: Path, ring: Keyring) -> bytes:
    """The data key of an encrypted file, unwrapped with ``ring``."""
    props, made = decryption_properties(ring)
    try:
        pq.ParquetFile(path, decryption_properties=props).close()
    except StoreError:
        raise
    except Exception as e:
        if isinstance(e.__context__, StoreError):
            raise e.__context__ from None
        raise StoreError(
            f"the records file `{path.name}` cannot be decrypted with `{ring.source}` "
            f"({type(e).__name__})"
        ) from None
    found = next((k.unwrapped for k in made if k.unwrapped), None)
    if found is None:
        raise StoreError(f"the records file `{path.name}` named no data key")
    return found


def work_folder_ring(records: Path) -> Keyring:
    """The keyring of the work folder holding ``records`` (``<work>/records/records.parquet``):
    ``TAXGATE_KEYS_FILE``, else the folder's keys file."""
    from taxgate.settings import load_settings

    return keys_file(records.resolve().parent.parent, load_settings().keys_file).read()


def duckdb_source(con: duckdb.DuckDBPyConnection, path: Path, ring: Keyring | None = None) -> str:
    """A DuckDB table expression reading the Parquet file ``path``: an encrypted file's data
    key is unwrapped (with ``ring``, else the work folder's keys) and added to ``con``.

    DuckDB (2.0.1) fails the tag check of a pyarrow-encrypted page when a filter is pushed
    into the scan (it then reads the columns in another order), so the scan sits under a
    ``LIMIT`` no filter is pushed through: the rows are decrypted, then filtered.
    """
    if not is_encrypted(path):
        return f"read_parquet({literal(path)})"
    key = data_key(path, ring or work_folder_ring(path))
    name = f"tg_{secrets.token_hex(6)}"
    con.execute(
        f"PRAGMA add_parquet_key({literal(name)}, {literal(base64.b64encode(key).decode())})"
    )
    scan = f"read_parquet({literal(path)}, encryption_config = {{footer_key: {literal(name)}}})"
    return f"(SELECT * FROM {scan} LIMIT {_NO_LIMIT})"


def reencrypt(path: Path, out: Path, ring: Keyring) -> int:
    """Write ``path`` (encrypted or not) again as ``out`` under ``ring``'s active key, a row
    group at a time; the rows written."""
    props = decryption_properties(ring)[0] if is_encrypted(path) else None
    source = pq.ParquetFile(path, decryption_properties=props)
    try:
        return write_batches(source.iter_batches(ROW_GROUP), source.schema_arrow, out, ring)
    finally:
        source.close()


def read_table(path: Path, ring: Keyring) -> pa.Table:
    """The whole file as an Arrow table (encrypted or not)."""
    if not is_encrypted(path):
        return pq.read_table(path)
    props, _ = decryption_properties(ring)
    return pq.read_table(path, decryption_properties=props)
