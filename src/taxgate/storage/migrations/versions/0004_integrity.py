"""integrity: a request id belongs to its agency

Requests, decisions, disclosures and reviews are keyed by (agency, request id): another
agency's id is another request. The four tables are rebuilt (renamed aside, created anew,
copied, the old ones dropped), which works the same on SQLite and PostgreSQL.

Revision ID: 0004_integrity
Revises: 0003_law
Create Date: 2026-12-03 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_integrity"
down_revision = "0003_law"
branch_labels = None
depends_on = None

_OLD_INDEXES = {
    "reviews": ["ix_reviews_request_id"],
    "disclosures": ["ix_disclosures_tin", "ix_disclosures_request_id", "ix_disclosures_batch_id"],
    "decisions": ["ix_decisions_status", "ix_decisions_batch_id"],
    "requests": ["ix_requests_case", "ix_requests_batch_id", "ix_requests_agency_received"],
}
_KEY = ["agency_code", "request_id"]
_REQ_KEY = ["requests.agency_code", "requests.request_id"]


def _create(suffix: str) -> None:
    """The four tables in their new shape; constraint names carry ``suffix`` (PostgreSQL
    names of keys are global to the schema)."""
    op.create_table(
        "requests",
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("batch_id", sa.String(length=200), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reason_key", sa.Text(), nullable=False),
        sa.Column("case_key", sa.String(length=200), nullable=False),
        sa.Column("officer_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.batch_id"]),
        sa.PrimaryKeyConstraint(*_KEY, name=f"pk_requests{suffix}"),
    )
    op.create_table(
        "decisions",
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("batch_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rulebook_version", sa.String(length=100), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("matched_tin", sa.String(length=20), nullable=False),
        sa.Column("audit_index", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.String(length=40), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(_KEY, _REQ_KEY),
        sa.PrimaryKeyConstraint(*_KEY, name=f"pk_decisions{suffix}"),
    )
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("batch_id", sa.String(length=200), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("tin", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("audit_index", sa.Integer(), nullable=False),
        sa.Column("disclosed_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(_KEY, _REQ_KEY),
        sa.PrimaryKeyConstraint("id", name=f"pk_disclosures{suffix}"),
        sa.UniqueConstraint(*_KEY, name=f"uq_disclosures_agency_request{suffix}"),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("audit_index", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(_KEY, _REQ_KEY),
        sa.PrimaryKeyConstraint("id", name=f"pk_reviews{suffix}"),
    )
    op.create_index(
        "ix_requests_agency_received", "requests", ["agency_code", "received_at"], unique=False
    )
    op.create_index("ix_requests_batch_id", "requests", ["batch_id"], unique=False)
    op.create_index("ix_requests_case", "requests", ["agency_code", "case_key"], unique=False)
    op.create_index("ix_decisions_batch_id", "decisions", ["batch_id"], unique=False)
    op.create_index("ix_decisions_status", "decisions", ["status"], unique=False)
    op.create_index("ix_disclosures_batch_id", "disclosures", ["batch_id"], unique=False)
    op.create_index("ix_disclosures_request_id", "disclosures", ["request_id"], unique=False)
    op.create_index("ix_disclosures_tin", "disclosures", ["tin"], unique=False)
    op.create_index("ix_reviews_request_id", "reviews", ["request_id"], unique=False)


def upgrade() -> None:
    for table, indexes in _OLD_INDEXES.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
        op.rename_table(table, f"{table}_old")
    _create("_v3")
    op.execute(
        "INSERT INTO requests (agency_code, request_id, batch_id, row, received_at, payload, "
        "reason_key, case_key, officer_key) SELECT agency_code, request_id, batch_id, row, "
        "received_at, payload, reason_key, case_key, officer_key FROM requests_old"
    )
    op.execute(
        "INSERT INTO decisions (agency_code, request_id, batch_id, status, rulebook_version, "
        "model_version, matched_tin, audit_index, decided_at, body) SELECT r.agency_code, "
        "d.request_id, d.batch_id, d.status, d.rulebook_version, d.model_version, "
        "d.matched_tin, d.audit_index, d.decided_at, d.body FROM decisions_old d "
        "JOIN requests_old r ON r.request_id = d.request_id"
    )
    op.execute(
        "INSERT INTO disclosures (id, request_id, batch_id, agency_code, tin, fields, payload, "
        "audit_index, disclosed_at) SELECT id, request_id, batch_id, agency_code, tin, fields, "
        "payload, audit_index, disclosed_at FROM disclosures_old"
    )
    op.execute(
        'INSERT INTO reviews (id, agency_code, request_id, action, "user", note, audit_index, '
        'at) SELECT v.id, r.agency_code, v.request_id, v.action, v."user", v.note, '
        "v.audit_index, v.at FROM reviews_old v JOIN requests_old r ON r.request_id = v.request_id"
    )
    for table in _OLD_INDEXES:  # dependants first
        op.drop_table(f"{table}_old")
    if op.get_bind().dialect.name == "postgresql":  # ids copied: move the sequences past them
        for table in ("disclosures", "reviews"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )


def downgrade() -> None:
    raise NotImplementedError("request ids scoped by agency cannot be folded back into one key")
