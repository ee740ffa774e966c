"""Task leases and results: adapters pull tasks under a lease and report results on them.

Written by hand like 0001-0003; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0004
Revises: 0003
Create Date: 2026-05-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns: SQLite adds them with a plain ALTER TABLE, no table copy.
    op.add_column("tasks", sa.Column("lease_expires_at", sa.DateTime()))
    op.add_column("tasks", sa.Column("result_at", sa.DateTime()))
    op.add_column("tasks", sa.Column("detail", sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql")))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("detail")
        batch.drop_column("result_at")
        batch.drop_column("lease_expires_at")
