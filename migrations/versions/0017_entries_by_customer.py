"""Entries by customer: every view of a customer (DESIGN 10) asks which executing tickets
hold them, and a contact-triggered playbook asks whether they entered it before. Both read
the customer's entries; without this index each question scanned every entry (a sweep of a
million customers writes a million).

Written by hand like 0001-0016; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_customer_id", "entries", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_entries_customer_id", "entries")
