"""One work folder opened: its store, its configuration, the tax agency's own key.

Every command works on a :class:`Workspace`; the CLI and the service open it the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from taxgate.config import Paths, config_dir, resolve_workdir
from taxgate.crypto import KeysFile, keys_file
from taxgate.disclosure.fields import Catalogue, load_catalogue
from taxgate.intake.signing import generate_key, load_private_key
from taxgate.rules.rulebook import Rulebook, load_rulebook
from taxgate.rules.statutes import StatuteCatalog, load_statutes
from taxgate.settings import load_settings
from taxgate.storage.audit_log import AuditLog
from taxgate.storage.db import Store
from taxgate.storage.encryption import attach

AGENCY_KEY_NAME = "taxgate-tax-agency"


@dataclass
class Workspace:
    """A work folder with its store and configuration, opened lazily."""

    paths: Paths
    config: Path
    rulebook_override: Path | None = None
    user: str = "system"
    origin: str = "cli"
    _store: Store | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        workdir: str | Path | None = None,
        *,
        config: str | Path | None = None,
        rulebook: str | Path | None = None,
        user: str | None = None,
        origin: str = "cli",
    ) -> Workspace:
        import getpass

        paths = Paths(resolve_workdir(workdir)).ensure()
        return cls(
            paths=paths,
            config=config_dir(config),
            rulebook_override=Path(rulebook) if rulebook else None,
            user=user or getpass.getuser(),
            origin=origin,
        )

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.paths.database_url)
        attach(self._store.engine, self.keys_file)
        return self._store

    @cached_property
    def keys_file(self) -> KeysFile:
        """Where the encryption keys are (``TAXGATE_KEYS_FILE``, else in the work folder)."""
        return keys_file(self.paths.root, load_settings().keys_file)

    def compile_configuration(self) -> tuple[Rulebook, StatuteCatalog, Catalogue]:
        """The rulebook, statute catalogue and field catalogue, compiled now (and kept), so
        a configuration error stops a command before it touches anything."""
        return self.rulebook, self.statutes, self.catalogue

    def open_store(self) -> Store:
        """Open the store now and bring its schema to the latest revision (a long-running
        front door does this before it listens, so the first request does not wait)."""
        return self.store

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, AuditLog]]:
        """A store session in one transaction, with the audit log appending inside it."""
        with self.store.session() as s:
            yield s, AuditLog(s, user=self.user, origin=self.origin)

    @property
    def rulebook_file(self) -> Path:
        return self.rulebook_override or self.config / "rulebook.yaml"

    @cached_property
    def rulebook(self) -> Rulebook:
        return load_rulebook(self.rulebook_file)

    @cached_property
    def statutes(self) -> StatuteCatalog:
        return load_statutes(self.config / "statutes.yaml")

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.config / "fields.yaml")

    def agency_key(self) -> Ed25519PrivateKey:
        """The tax agency's own signing key, made (and its making logged) on first use."""
        path = self.paths.agency_key
        if not path.exists():
            generate_key(path)
            from taxgate.intake.signing import key_id

            with self.transaction() as (_, log):
                log.append(
                    "key_registered",
                    AGENCY_KEY_NAME,
                    {"key_id": key_id(load_private_key(path).public_key()), "role": "tax_agency"},
                )
        return load_private_key(path)

    def agency_public_key(self) -> Ed25519PublicKey | None:
        """The public half of the tax agency's signing key, None before it has one (a store
        whose log was never signed); never makes one."""
        path = self.paths.agency_key
        return load_private_key(path).public_key() if path.exists() else None

    @property
    def store_opened(self) -> bool:
        """Whether this run has opened the store (a command that keeps no state has not)."""
        return self._store is not None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
