"""reports: each transparency release keeps the document it published

Revision ID: 0006_reports
Revises: 0005_pages
Create Date: 2026-12-04 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_reports"
down_revision = "0005_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_spend") as batch:
        batch.add_column(sa.Column("document", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("privacy_spend") as batch:
        batch.drop_column("document")
