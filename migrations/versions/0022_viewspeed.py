"""Counters for the two reads of every customer view that grew with the data
(docs/ARCHITECTURE.md "Customer view speed"), filled here from the rows so far and kept from
then on in the transactions that write those rows: each offer's `handled` contacts
(offer_handled, for an offer's `limit`), and each channel's first sends per quarter hour
(channel_sends, UTC slots from the epoch, for a channel's daily `capacity`).

Written by hand like 0001-0021; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0022_viewspeed
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "offer_handled",
        sa.Column("offer", _text(64), primary_key=True),
        sa.Column("handled", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO offer_handled (offer, handled) SELECT offer, count(*) FROM contacts "
               "WHERE outcome = 'handled' AND offer IS NOT NULL GROUP BY offer")
    op.create_table(
        "channel_sends",
        sa.Column("channel", _text(32), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sent", sa.Integer, nullable=False),
    )
    # The quarter hour of each stamp (naive UTC on both databases): adapters/tasks/sends.py.
    slot = ("CAST(strftime('%s', sent_at) AS INTEGER) / 900"
            if op.get_bind().dialect.name == "sqlite"
            else "CAST(floor(extract(epoch FROM sent_at) / 900) AS INTEGER)")
    op.execute(f"INSERT INTO channel_sends (channel, slot, sent) SELECT channel, {slot}, "
               f"count(*) FROM tasks WHERE sent_at IS NOT NULL GROUP BY channel, {slot}")


def downgrade() -> None:
    op.drop_table("channel_sends")
    op.drop_table("offer_handled")
