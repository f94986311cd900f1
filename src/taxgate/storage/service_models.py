"""Tables only the service needs: its users and its queue of batch-processing jobs.

A user authenticates with a bearer token of which only the SHA-256 is kept (tokens are
32 random bytes, so a fast hash is enough). A job is one submitted batch waiting for,
or under, processing; a worker that dies leaves its job ``running`` with a heartbeat
that stops moving, and another worker takes it over once the heartbeat is stale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from taxgate.storage.models import Base

ROLES = ("agency", "officer", "reviewer", "auditor", "admin")
JOB_STATES = ("queued", "running", "done", "failed")


class User(Base):
    """A person or system that may call the service, with one role."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    agency_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(40))


class Job(Base):
    """A submitted batch and where its processing stands."""

    __tablename__ = "jobs"
    batch_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(64), index=True)
    requests_sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[bytes] = mapped_column(LargeBinary)
    requests: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # dropped when done
    request_count: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), index=True, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(60), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat: Mapped[float] = mapped_column(Float, default=0.0)  # seconds since the epoch
    worker: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    submitted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[str] = mapped_column(String(40))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
