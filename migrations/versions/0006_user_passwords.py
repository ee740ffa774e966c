"""User passwords: the web console lets a user sign in with a password set by
`tend users passwd` as well as with a token; only a salted scrypt hash is stored.

Written by hand like 0001-0005; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("password_hash")
