"""Indexes the unified customer view reads by (bench/view.py): a customer's memberships of
tickets (ticket_members' key starts with the ticket, entries' index with the playbook, so
both were read whole for one customer), and an offer's `handled` contacts (the offer's
`limit`), counted per offer instead of grouping every contact on each view.

Written by hand like 0001-0014; tests/integration/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0015_viewbench
Revises: 0014 (re-chained by the integrator when other migrations land alongside)
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0015_viewbench"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_members_customer_id", "ticket_members", ["customer_id"])
    op.create_index("ix_entries_customer_id", "entries", ["customer_id"])
    op.create_index("ix_contacts_offer_outcome", "contacts", ["offer", "outcome"])


def downgrade() -> None:
    op.drop_index("ix_contacts_offer_outcome", "contacts")
    op.drop_index("ix_entries_customer_id", "entries")
    op.drop_index("ix_ticket_members_customer_id", "ticket_members")
