"""Task holds by channel: the push worker finds the cancels it owes and the pushes of a
worker that died by their ended hold, without reading a channel's delivered tasks.

Written by hand like 0001-0009; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_channel_lease_expires_at", "tasks",
                    ["channel", "lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_channel_lease_expires_at", "tasks")
