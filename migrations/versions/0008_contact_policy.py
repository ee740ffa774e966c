"""Contact policy and step timing: tasks record when they were first sent, their playbook's
priority, which retry of their step they are, and the step's `unless`/`retry` rules.

Written by hand like 0001-0007; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns or server defaults: SQLite adds them without a table copy.
    op.add_column("tasks", sa.Column("sent_at", sa.DateTime()))
    op.add_column("tasks", sa.Column("priority", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.add_column("tasks", sa.Column("attempt", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.add_column("tasks", sa.Column("retry_of", sa.Integer()))
    op.add_column("tasks", sa.Column("step_rules", sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql")))
    op.create_index("ix_tasks_customer_id", "tasks", ["customer_id"])
    op.create_index("ix_tasks_channel_sent_at", "tasks", ["channel", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_channel_sent_at", "tasks")
    op.drop_index("ix_tasks_customer_id", "tasks")
    with op.batch_alter_table("tasks") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("step_rules")
        batch.drop_column("retry_of")
        batch.drop_column("attempt")
        batch.drop_column("priority")
        batch.drop_column("sent_at")
