"""Where taxgate keeps its state and finds its configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def resolve_workdir(workdir: str | Path | None) -> Path:
    """``--workdir``, else ``$TAXGATE_HOME``, else ``./taxgate-data``."""
    if workdir:
        return Path(workdir).expanduser().resolve()
    env = os.environ.get("TAXGATE_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path("taxgate-data").resolve()


@dataclass(frozen=True, slots=True)
class Paths:
    """Files inside one work folder."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "taxgate.sqlite"

    @property
    def records(self) -> Path:
        return self.root / "records" / "records.parquet"

    @property
    def model(self) -> Path:
        return self.root / "model" / "model.json"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def agency_key(self) -> Path:
        """The tax agency's own Ed25519 key: signs responses and checkpoints."""
        return self.keys / "agency.key"

    def ensure(self) -> Paths:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def database_url(self) -> str:
        return os.environ.get("TAXGATE_DATABASE_URL") or f"sqlite:///{self.database}"


def config_dir(override: str | Path | None = None) -> Path:
    """The configuration folder: ``--config DIR`` or the one shipped with the package."""
    return Path(override).resolve() if override else PACKAGE_DATA


def chunk_size() -> int:
    """Requests decided per transaction (``$TAXGATE_CHUNK_SIZE``, default 2000)."""
    try:
        return max(1, int(os.environ.get("TAXGATE_CHUNK_SIZE", "2000")))
    except ValueError:
        return 2000
