"""Contact classes (engine.tasks.policy): each ticket keeps its playbook version's class, so the
contact policy spares care and service from marketing's arbitration and caps for every task
of the ticket. Tickets planned before this are sales, the default every playbook had.

Written by hand like 0001-0014; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.add_column("tickets", sa.Column("contact_class", _text(16), nullable=False,
                                       server_default="sales"))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("contact_class")
