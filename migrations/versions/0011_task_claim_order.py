"""Due tasks in claim order (PostgreSQL only): priority first, then oldest due, among open
tasks, so a claim reads a batch's worth of rows instead of sorting every due task.

Written by hand like 0001-0010; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_tasks_claim_order", "tasks",
                        [sa.text("priority DESC"), "due_at", "id"],
                        postgresql_where=sa.text("state IN ('pending', 'leased', 'pushed')"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_tasks_claim_order", "tasks")
