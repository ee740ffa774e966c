"""Console sign-ins: failed attempts counted per account and per address, so password guessing
is throttled across every gunicorn worker, and the live console sessions, so signing out
revokes a session (a copied cookie stops working).

Written by hand like 0001-0011; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "signin_failures",
        sa.Column("key", _text(320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_signin_failures"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_name", _text(128), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_console_sessions"),
    )
    op.create_index("ix_console_sessions_user_name", "console_sessions", ["user_name"])


def downgrade() -> None:
    op.drop_index("ix_console_sessions_user_name", "console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("signin_failures")
