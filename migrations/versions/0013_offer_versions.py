"""Offer versions: the text and content hash of each offer version a ticket was planned
with, so that one (offer, version) always names one content, as playbook versions do.

Written by hand like 0001-0012; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "offer_versions",
        sa.Column("offer", _text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("offer", "version", name="pk_offer_versions"),
    )


def downgrade() -> None:
    op.drop_table("offer_versions")
