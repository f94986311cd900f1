"""The service's knobs, read once from the environment (``TAXGATE_SERVICE_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Limits and timings of the service.

    Attributes:
        max_body_bytes: the largest request body accepted (a larger one is a 413).
        max_requests_bytes: the largest requests file a submission may carry.
        rate_per_minute: requests an agency's users may make per minute, all together.
        rate_burst: how many of those may come at once.
        worker: whether the app runs a background worker thread.
        poll_seconds: how often an idle worker looks for a job.
        heartbeat_seconds: how often a busy worker says it is alive.
        stale_seconds: after how long without a heartbeat a running job is taken over.
        max_attempts: how many times a job is tried before it is marked failed.
    """

    max_body_bytes: int = 64 * 1024 * 1024
    max_requests_bytes: int = 60 * 1024 * 1024
    rate_per_minute: float = 600.0
    rate_burst: float = 120.0
    worker: bool = True
    poll_seconds: float = 0.5
    heartbeat_seconds: float = 5.0
    stale_seconds: float = 60.0
    max_attempts: int = 3

    @classmethod
    def from_env(cls) -> ServiceSettings:
        """Defaults, overridden by ``TAXGATE_SERVICE_<FIELD>`` variables where set."""
        d = cls()
        p = "TAXGATE_SERVICE_"
        return cls(
            max_body_bytes=int(_number(p + "MAX_BODY_BYTES", d.max_body_bytes)),
            max_requests_bytes=int(_number(p + "MAX_REQUESTS_BYTES", d.max_requests_bytes)),
            rate_per_minute=_number(p + "RATE_PER_MINUTE", d.rate_per_minute),
            rate_burst=_number(p + "RATE_BURST", d.rate_burst),
            worker=os.environ.get(p + "WORKER", "1") not in ("0", "false", "no"),
            poll_seconds=_number(p + "POLL_SECONDS", d.poll_seconds),
            heartbeat_seconds=_number(p + "HEARTBEAT_SECONDS", d.heartbeat_seconds),
            stale_seconds=_number(p + "STALE_SECONDS", d.stale_seconds),
            max_attempts=int(_number(p + "MAX_ATTEMPTS", d.max_attempts)),
        )
