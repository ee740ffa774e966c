"""Customer snapshots: one row per month and customer with the churn model's features as they
were that month, so the model trains on what was known at the time (adapters/evaluation/snapshots.py).

Written by hand like 0001-0006; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_snapshots",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.String(64).with_variant(sa.String(64, collation="C"),
                                                              "postgresql"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("tenure_days", sa.Integer(), nullable=False),
        sa.Column("arpu", sa.Float()),
        sa.Column("balance", sa.Float()),
        sa.Column("usage_change_pct", sa.Float()),
        sa.Column("days_inactive", sa.Integer()),
        sa.Column("contract_days_left", sa.Integer()),
        sa.Column("churned_on", sa.Date()),
        sa.Column("event_counts", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.PrimaryKeyConstraint("month", "customer_id", name="pk_customer_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("customer_snapshots")
