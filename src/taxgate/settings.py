"""Every environment variable taxgate reads, in one place, checked.

==================================  =========================================  ============
variable                            what                                        default
==================================  =========================================  ============
``TAXGATE_HOME``                    the work folder when ``--workdir`` is not   ``./taxgate-data``
                                    given
``TAXGATE_DATABASE_URL``            the store (PostgreSQL by URL)               SQLite in the
                                                                                work folder
``TAXGATE_CHUNK_SIZE``              requests decided per transaction (>= 1)     2000
``TAXGATE_MATCH_SLICE``             requests matched at a time by ``process``   200000
                                    (>= 1: what a batch holds in memory)
``TAXGATE_WRITER_FROM``             requests from which ``process`` writes      20000
                                    chunks in a forked writer process while
                                    it decides the next (0: always)
``TAXGATE_DEBUG``                   show whole tracebacks of internal errors    off
``TAXGATE_SPARK_MASTER``            Spark master URL for ``--engine spark``     ``local[2]``
                                    (``spark://host:7077`` for a cluster)
``TAXGATE_KEYS_FILE``               the encryption keys (JSON, mode 0600, see   ``keys/`` in the
                                    :mod:`taxgate.crypto`); must exist if set   work folder
``TAXGATE_SERVICE_<KNOB>``          the service's limits and timings, see       see below
                                    :class:`Settings`
==================================  =========================================  ============

A value that does not parse is an error naming the variable (never a silent default):

    >>> import os
    >>> os.environ["TAXGATE_CHUNK_SIZE"] = "abc"
    >>> try:
    ...     load_settings()
    ... except ConfigError as e:
    ...     print(e.problems[0].split(",")[0])
    `TAXGATE_CHUNK_SIZE`: input should be a valid integer
    >>> os.environ["TAXGATE_CHUNK_SIZE"] = "500"
    >>> load_settings().chunk_size
    500
    >>> del os.environ["TAXGATE_CHUNK_SIZE"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from taxgate.errors import ConfigError

PREFIX = "TAXGATE_"


class Settings(BaseSettings):
    """taxgate's environment. Read it with :func:`load_settings` (each call reads anew)."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", env_ignore_empty=True, frozen=True
    )

    home: Path | None = None
    database_url: str | None = None
    chunk_size: int = Field(default=2000, ge=1)
    match_slice: int = Field(default=200_000, ge=1)
    writer_from: int = Field(default=20_000, ge=0)
    debug: bool = False
    keys_file: Path | None = None
    spark_master: str = Field(
        default="local[2]", pattern=r"^(local(\[(\d+|\*)\])?|(spark|yarn|k8s)://\S+|yarn)$"
    )
    # the service (``taxgate serve`` and ``taxgate worker``)
    service_max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    service_max_requests_bytes: int = Field(default=60 * 1024 * 1024, ge=1)
    service_rate_per_minute: float = Field(default=600.0, gt=0)
    service_rate_burst: float = Field(default=120.0, gt=0)
    service_refusals_per_window: int = Field(default=10, ge=1)
    service_refusal_window_seconds: int = Field(default=60, ge=1)
    service_worker: bool = True
    service_poll_seconds: float = Field(default=0.5, gt=0)
    service_heartbeat_seconds: float = Field(default=5.0, gt=0)
    service_stale_seconds: float = Field(default=60.0, gt=0)
    service_max_attempts: int = Field(default=3, ge=1)
    service_login_per_minute: float = Field(default=10.0, gt=0)
    service_login_burst: float = Field(default=5.0, ge=1)
    service_session_idle_seconds: int = Field(default=30 * 60, ge=1)
    service_session_max_seconds: int = Field(default=8 * 3600, ge=1)


def load_settings() -> Settings:
    """The environment as settings; a bad value is a :class:`ConfigError` naming its
    variable (not its value)."""
    try:
        return Settings()
    except ValidationError as e:
        problems = [
            f"`{PREFIX}{str(err['loc'][0]).upper()}`: {str(err['msg']).lower()}"
            for err in e.errors()
        ]
        raise ConfigError(problems, "environment") from None


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Limits and timings of the service.

    Attributes:
        max_body_bytes: the largest request body accepted (a larger one is a 413).
        max_requests_bytes: the largest requests file a submission may carry.
        rate_per_minute: requests an agency's users may make per minute, all together.
        rate_burst: how many of those may come in any one second.
        refusals_per_window: refused authentications or authorisations written to the
            audit log one by one per user and window; the rest are counted in the user's
            next entry (``suppressed``).
        refusal_window_seconds: that window.
        worker: whether the app runs a background worker thread.
        poll_seconds: how often an idle worker looks for a job.
        heartbeat_seconds: how often a busy worker says it is alive.
        stale_seconds: after how long without a heartbeat a running job is taken over.
        max_attempts: how many times a job is tried before it is marked failed.
        login_per_minute: sign-ins (pages) or logins (API) one address may try per minute.
        login_burst: how many of those may come at once.
        session_idle_seconds: a web session ends after this long without a page view.
        session_max_seconds: a web session ends this long after it opened, whatever.
    """

    max_body_bytes: int = 64 * 1024 * 1024
    max_requests_bytes: int = 60 * 1024 * 1024
    rate_per_minute: float = 600.0
    rate_burst: float = 120.0
    refusals_per_window: int = 10
    refusal_window_seconds: int = 60
    worker: bool = True
    poll_seconds: float = 0.5
    heartbeat_seconds: float = 5.0
    stale_seconds: float = 60.0
    max_attempts: int = 3
    login_per_minute: float = 10.0
    login_burst: float = 5.0
    session_idle_seconds: int = 30 * 60
    session_max_seconds: int = 8 * 3600

    @classmethod
    def from_env(cls) -> ServiceSettings:
        """Defaults, overridden by ``TAXGATE_SERVICE_<FIELD>`` variables where set (read by
        :mod:`taxgate.settings`; a bad value is an error naming the variable)."""
        s = load_settings()
        return cls(
            max_body_bytes=s.service_max_body_bytes,
            max_requests_bytes=s.service_max_requests_bytes,
            rate_per_minute=s.service_rate_per_minute,
            rate_burst=s.service_rate_burst,
            refusals_per_window=s.service_refusals_per_window,
            refusal_window_seconds=s.service_refusal_window_seconds,
            worker=s.service_worker,
            poll_seconds=s.service_poll_seconds,
            heartbeat_seconds=s.service_heartbeat_seconds,
            stale_seconds=s.service_stale_seconds,
            max_attempts=s.service_max_attempts,
            login_per_minute=s.service_login_per_minute,
            login_burst=s.service_login_burst,
            session_idle_seconds=s.service_session_idle_seconds,
            session_max_seconds=s.service_session_max_seconds,
        )
