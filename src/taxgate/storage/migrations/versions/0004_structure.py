"""structure: a decision held for review keeps the runner-up taxpayer beside its candidate

Revision ID: 0004_structure
Revises: 0003_law
Create Date: 2026-12-03 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_structure"
down_revision = "0003_law"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(
            sa.Column("runner_up_tin", sa.String(length=20), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("runner_up_tin")
