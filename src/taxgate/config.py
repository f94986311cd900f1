"""Where taxgate keeps its state and finds its configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from taxgate.settings import load_settings

PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def resolve_workdir(workdir: str | Path | None) -> Path:
    """``--workdir``, else ``$TAXGATE_HOME``, else ``./taxgate-data``."""
    if workdir:
        return Path(workdir).expanduser().resolve()
    env = load_settings().home
    if env:
        return env.expanduser().resolve()
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
    def model_records(self) -> Path:
        """Which records the model was trained on (their SHA-256)."""
        return self.root / "model" / "trained_on.json"

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
        return load_settings().database_url or f"sqlite:///{self.database}"


def config_dir(override: str | Path | None = None) -> Path:
    """The configuration folder: ``--config DIR`` or the one shipped with the package."""
    return Path(override).resolve() if override else PACKAGE_DATA


def chunk_size() -> int:
    """Requests decided per transaction (``$TAXGATE_CHUNK_SIZE``, default 2000; a value
    that is not a whole number >= 1 is an error naming the variable)."""
    return load_settings().chunk_size


def match_slice() -> int:
    """Requests matched at a time by a batch (``$TAXGATE_MATCH_SLICE``, default 200,000):
    a large batch is matched and decided a slice at a time, so that it never holds every
    request's match result at once."""
    return load_settings().match_slice


def writer_from() -> int:
    """Requests from which a batch's decided chunks are written by a forked writer process
    while the next is decided (``$TAXGATE_WRITER_FROM``, default 20,000; 0: always)."""
    return load_settings().writer_from


def read_settings_file(config_dir: Path, name: str) -> tuple[dict[str, object], Path]:
    """A settings file (a YAML mapping) from the configuration folder, else the shipped one;
    the mapping and the path it came from.

    Raises:
        ConfigError: the file cannot be read, is not YAML, or is not a mapping.
    """
    import yaml

    from taxgate.errors import ConfigError

    path = config_dir / name
    if not path.exists():
        path = PACKAGE_DATA / name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read it ({type(e).__name__})", str(path)) from None
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping", str(path))
    return raw, path
