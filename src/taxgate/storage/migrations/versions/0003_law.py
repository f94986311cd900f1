"""law: officials' statutory authority, agencies as Federal, holdbacks, safeguard status

Revision ID: 0003_law
Revises: 0003_reports
Create Date: 2026-12-03 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_law"
down_revision = "0003_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as b:
        b.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="federal")
        )
    with op.batch_alter_table("officials") as b:
        b.add_column(
            sa.Column("authority", sa.String(length=40), nullable=False, server_default="")
        )
    with op.batch_alter_table("batches") as b:
        b.add_column(
            sa.Column("official_authority", sa.String(length=40), nullable=False, server_default="")
        )
    op.create_table(
        "holdbacks",
        sa.Column("tin", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("tin"),
    )
    op.create_table(
        "safeguards",
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("last_report", sa.String(length=10), nullable=False),
        sa.Column("open_findings", sa.Integer(), nullable=False),
        sa.Column("corrective_plan", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("agency_code"),
    )


def downgrade() -> None:
    op.drop_table("safeguards")
    op.drop_table("holdbacks")
    with op.batch_alter_table("batches") as b:
        b.drop_column("official_authority")
    with op.batch_alter_table("officials") as b:
        b.drop_column("authority")
    with op.batch_alter_table("agencies") as b:
        b.drop_column("kind")
