"""Event matches: an event-triggered playbook whose workflow is not standing gathers each
match here (customer, event, playbook version, local day), and the matches of a day become
one planned ticket after the day ends (adapters/tickets/daily.py).

Written by hand like 0001-0008; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "event_matches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("playbook", _text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("customer_id", _text(64), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("matched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_matches"),
        sa.UniqueConstraint("event_seq", "playbook", name="uq_event_matches_event_seq_playbook"),
    )
    op.create_index("ix_event_matches_playbook_day", "event_matches", ["playbook", "day"])


def downgrade() -> None:
    op.drop_index("ix_event_matches_playbook_day", "event_matches")
    op.drop_table("event_matches")
