"""Tables of the store. Taxpayer records are not here: they live in Parquet, read by DuckDB.

The service's own tables are here too: its users and its queue of batch-processing jobs.
A user authenticates with a bearer token of which only the SHA-256 is kept (tokens are
32 random bytes, so a fast hash is enough). A job is one submitted batch waiting for,
or under, processing; a worker that dies leaves its job ``running`` with a heartbeat
that stops moving, and another worker takes it over once the heartbeat is stale.

    >>> sorted(Base.metadata.tables)[:3]
    ['agencies', 'audit_entries', 'batches']
    >>> ROLES
    ('agency', 'officer', 'reviewer', 'auditor', 'admin')
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from taxgate.storage.base import Base
from taxgate.storage.encryption import SealedJSON

ROLES = ("agency", "officer", "reviewer", "auditor", "admin")
JOB_STATES = ("queued", "running", "done", "failed")


class Agency(Base):
    """A requesting agency: a Federal agency (6103(i)(2)(A) names no other requester)."""

    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default="federal")


class Official(Base):
    """An official the agency registered as authorized to request, with an Ed25519 key."""

    __tablename__ = "officials"
    __table_args__ = (UniqueConstraint("agency_code", "key_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    authority: Mapped[str] = mapped_column(String(40), default="")  # rules/authority.py
    public_key: Mapped[str] = mapped_column(String(100))  # base64 of the raw 32 bytes
    key_id: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the raw key
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(40))


class Batch(Base):
    __tablename__ = "batches"
    batch_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(64), index=True)
    official_name: Mapped[str] = mapped_column(String(200))
    official_title: Mapped[str] = mapped_column(String(200))
    official_authority: Mapped[str] = mapped_column(String(40), default="")
    submitted_at: Mapped[str] = mapped_column(String(40))
    requests_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[str] = mapped_column(String(40))
    request_count: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="received")  # received|processing|done
    submitted_by: Mapped[str] = mapped_column(String(200), default="")
    processed_by: Mapped[str] = mapped_column(String(200), default="")


class RequestRow(Base):
    """A request as received. Its values are kept for re-audit, encrypted (``payload``:
    :mod:`taxgate.storage.encryption`); never logged.

    A request id belongs to its agency: the key is (agency, request id), so another
    agency's id is another request.
    """

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_agency_received", "agency_code", "received_at"),
        Index("ix_requests_case", "agency_code", "case_key"),
    )
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.batch_id"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON("requests.payload"))
    reason_key: Mapped[str] = mapped_column(Text, default="")
    case_key: Mapped[str] = mapped_column(String(200), default="")
    officer_key: Mapped[str] = mapped_column(String(200), default="")


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_code", "request_id"], ["requests.agency_code", "requests.request_id"]
        ),
    )
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    rulebook_version: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(100), default="")
    matched_tin: Mapped[str] = mapped_column(String(20), default="")  # the candidate taxpayer
    runner_up_tin: Mapped[str] = mapped_column(String(20), default="", server_default="")
    audit_index: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the decisions.jsonl line


class Disclosure(Base):
    """What went out for one request: the accounting of 6103(p)(3)(A)."""

    __tablename__ = "disclosures"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_code", "request_id"], ["requests.agency_code", "requests.request_id"]
        ),
        UniqueConstraint("agency_code", "request_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(200), index=True)
    batch_id: Mapped[str] = mapped_column(String(200), index=True)
    agency_code: Mapped[str] = mapped_column(String(64))
    tin: Mapped[str] = mapped_column(String(20), index=True)
    fields: Mapped[list[Any]] = mapped_column(JSON)
    # the response line that went out
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON("disclosures.payload"))
    audit_index: Mapped[int] = mapped_column(Integer)
    disclosed_at: Mapped[str] = mapped_column(String(40))


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_code", "request_id"], ["requests.agency_code", "requests.request_id"]
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_code: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(20))  # approve|refuse
    user: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    audit_index: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))


#: The event types the log's event-type index leaves out (nine entries in ten): nothing
#: looks them up by type. A query by type for any other kind goes through :func:`of_events`.
UNINDEXED_EVENTS = ("decision", "disclosure")
#: The condition of the event-type index: entries of every kind it holds.
INDEXED_EVENTS = text("event_type NOT IN ('decision', 'disclosure')")


class AuditEntry(Base):
    """One leaf of the RFC 9162 log: the canonical entry bytes and their leaf hash."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index(
            "ix_audit_entries_event_type",
            "event_type",
            sqlite_where=INDEXED_EVENTS,
            postgresql_where=INDEXED_EVENTS,
        ),
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(200), index=True)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


def of_events(*kinds: str) -> ColumnElement[bool]:
    """The log's entries of these event types, said so that the event-type index serves
    the query (SQLite uses a partial index only when the query repeats its condition)."""
    cond: ColumnElement[bool] = AuditEntry.event_type.in_(kinds)
    if set(kinds).isdisjoint(UNINDEXED_EVENTS):
        cond = cond & INDEXED_EVENTS
    return cond


class Checkpoint(Base):
    __tablename__ = "checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    time: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class Holdback(Base):
    """A taxpayer under the 6103(i)(6) holdback: nothing about them is disclosed."""

    __tablename__ = "holdbacks"
    tin: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))  # informant | tax-investigation
    added_at: Mapped[str] = mapped_column(String(40))
    added_by: Mapped[str] = mapped_column(String(200), default="")


class Safeguard(Base):
    """An agency's 6103(p)(4) safeguard status as last registered."""

    __tablename__ = "safeguards"
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_report: Mapped[str] = mapped_column(String(10))  # date of the last safeguard report
    open_findings: Mapped[int] = mapped_column(Integer, default=0)
    corrective_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[str] = mapped_column(String(40))


class Setting(Base):
    """Small named values: the log head, the salt for personal-value hashes."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


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


class PrivacySpend(Base):
    """What one public transparency release spent of its year's privacy budget."""

    __tablename__ = "privacy_spend"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    epsilon: Mapped[float] = mapped_column(Float)
    mechanism: Mapped[str] = mapped_column(String(60))
    scale: Mapped[float] = mapped_column(Float)
    output_sha256: Mapped[str] = mapped_column(String(64))
    released_by: Mapped[str] = mapped_column(String(200))
    released_at: Mapped[str] = mapped_column(String(40))
    audit_index: Mapped[int] = mapped_column(Integer)
    #: The release as published (the JSON form: noisy counts only, public by design), so
    #: the pages can show it again without spending anything; empty for older releases.
    document: Mapped[str] = mapped_column(Text, default="", server_default="")


class WebSession(Base):
    """A signed-in web page session, apart from API tokens: the cookie carries a random id
    of which only the SHA-256 is kept; it expires when idle or old, and logout deletes it.
    ``csrf`` is the token every form of the session must send back."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(200), index=True)
    csrf: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch
    last_seen: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)  # absolute end of the session
