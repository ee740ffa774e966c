"""Assignment (划配): each manager given to a customer by a rule is a row of `assignments`
(who, which manager, which rule, by what: an import, the daily run, `tend assign`), and
customers are indexed by manager, which assignment counts (each manager's workload) and a
manager's list of their customers reads.

Written by hand like 0001-0018; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _text(64), nullable=False),
        sa.Column("manager", _text(), nullable=False),
        sa.Column("rule", _text(64), nullable=False),
        sa.Column("by", _text(128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assignments"),
    )
    op.create_index("ix_assignments_customer_id", "assignments", ["customer_id"])
    op.create_index("ix_customers_manager", "customers", ["manager"])


def downgrade() -> None:
    op.drop_index("ix_customers_manager", "customers")
    op.drop_index("ix_assignments_customer_id", "assignments")
    op.drop_table("assignments")
