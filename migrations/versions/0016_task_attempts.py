"""Every call a person makes on a task (the manager's desk, DESIGN 10): a task keeps only its
furthest result, so a second call (no answer on Monday, connected on Tuesday) would otherwise
write over the first; each attempt is a row, shown in the trajectory.

Written by hand like 0001-0014; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "task_attempts",
        sa.Column("id", _text(64), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", _text(64), nullable=False),
        sa.Column("channel", _text(32), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("by", _text(128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_task_attempts"),
    )
    op.create_index("ix_task_attempts_customer_id_at", "task_attempts", ["customer_id", "at"])
    op.create_index("ix_task_attempts_task_id", "task_attempts", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_attempts_task_id", "task_attempts")
    op.drop_index("ix_task_attempts_customer_id_at", "task_attempts")
    op.drop_table("task_attempts")
