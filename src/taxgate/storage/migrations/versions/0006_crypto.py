"""crypto: request and disclosure payloads kept as sealed text (AES-GCM), not JSON

Revision ID: 0006_crypto
Revises: 0006_reports
Create Date: 2026-12-04 02:20:00

The values already stored stay as they are (plain JSON text, still read);
``taxgate keys rotate`` seals them. SQLite keeps any text in any column: only PostgreSQL
changes the column type.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_crypto"
down_revision = "0006_reports"
branch_labels = None
depends_on = None

_COLUMNS = (("requests", "payload"), ("disclosures", "payload"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in _COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.Text(),
            existing_type=sa.JSON(),
            postgresql_using=f"{column}::text",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in _COLUMNS:  # only while no value is sealed
        op.alter_column(
            table,
            column,
            type_=sa.JSON(),
            existing_type=sa.Text(),
            postgresql_using=f"{column}::json",
        )
