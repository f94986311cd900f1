"""reports: what each public transparency release spent of its year's privacy budget

Revision ID: 0003_reports
Revises: 0002
Create Date: 2026-12-03 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_reports"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_spend",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("mechanism", sa.String(length=60), nullable=False),
        sa.Column("scale", sa.Float(), nullable=False),
        sa.Column("output_sha256", sa.String(length=64), nullable=False),
        sa.Column("released_by", sa.String(length=200), nullable=False),
        sa.Column("released_at", sa.String(length=40), nullable=False),
        sa.Column("audit_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_privacy_spend_year"), "privacy_spend", ["year"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_spend_year"), table_name="privacy_spend")
    op.drop_table("privacy_spend")
