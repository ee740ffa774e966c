"""Task attempts: the push worker counts delivery attempts to retry, then dead-letter, a task.

Written by hand like 0001-0004; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A server default fills existing rows, so SQLite adds the column without a table copy.
    op.add_column("tasks", sa.Column("attempts", sa.Integer(), nullable=False,
                                     server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("attempts")
