"""An offer's `handled` contacts by offer (bench/view.py): the offer's `limit` is checked on
every view by counting them, one offer at a time, up to the limit, instead of grouping every
contact of every offer. (A customer's memberships are read from entries, indexed by 0017.)

Written by hand like 0001-0017; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contacts_offer_outcome", "contacts", ["offer", "outcome"])


def downgrade() -> None:
    op.drop_index("ix_contacts_offer_outcome", "contacts")
