"""The service's knobs, from ``TAXGATE_SERVICE_*`` (read by :mod:`taxgate.settings`)."""

from __future__ import annotations

from dataclasses import dataclass

from taxgate.settings import load_settings


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
        """Defaults, overridden by ``TAXGATE_SERVICE_<FIELD>`` variables where set (read by
        :mod:`taxgate.settings`; a bad value is an error naming the variable)."""
        s = load_settings()
        return cls(
            max_body_bytes=s.service_max_body_bytes,
            max_requests_bytes=s.service_max_requests_bytes,
            rate_per_minute=s.service_rate_per_minute,
            rate_burst=s.service_rate_burst,
            worker=s.service_worker,
            poll_seconds=s.service_poll_seconds,
            heartbeat_seconds=s.service_heartbeat_seconds,
            stale_seconds=s.service_stale_seconds,
            max_attempts=s.service_max_attempts,
        )
