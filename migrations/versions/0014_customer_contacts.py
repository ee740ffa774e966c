"""The unified customer view's records (DESIGN 10): every channel's contacts with a customer
(the trajectory every channel shares: intent, referrals, declines), and each view a person
opened (who looked at whom, from which channel, when).

Written by hand like 0001-0012; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0014
Revises: 0012 (0013 is being added alongside; re-chained when both land)
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", _text(64), nullable=False),
        sa.Column("customer_id", _text(64), nullable=False),
        sa.Column("channel", _text(32), nullable=False),
        sa.Column("offer", _text(64)),
        sa.Column("ticket_id", sa.Integer()),
        sa.Column("outcome", _text(16), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("by", _text(128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("refer_to", _json()),
        sa.Column("task_id", sa.Integer()),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
    )
    op.create_index("ix_contacts_customer_id_at", "contacts", ["customer_id", "at"])
    op.create_table(
        "customer_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_name", _text(128), nullable=False),
        sa.Column("customer_id", _text(64), nullable=False),
        sa.Column("channel", _text(32), nullable=False),
        sa.Column("viewed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_views"),
    )
    op.create_index("ix_customer_views_customer_id", "customer_views", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_views_customer_id", "customer_views")
    op.drop_table("customer_views")
    op.drop_index("ix_contacts_customer_id_at", "contacts")
    op.drop_table("contacts")
