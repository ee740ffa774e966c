"""Each offer's `handled` count kept beside the contacts (offer_handled), filled here from the
contacts recorded so far and kept from then on in the transaction that records a handled
contact: an offer's `limit` was checked on every view by counting its handled contacts up to
the limit, which grew with them (docs/ARCHITECTURE.md "Customer view speed").

Written by hand like 0001-0021; tests/integration/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0022_viewspeed
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_viewspeed"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offer_handled",
        sa.Column("offer", sa.String(64).with_variant(sa.String(64, collation="C"),
                                                      "postgresql"), primary_key=True),
        sa.Column("handled", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO offer_handled (offer, handled) SELECT offer, count(*) FROM contacts "
               "WHERE outcome = 'handled' AND offer IS NOT NULL GROUP BY offer")


def downgrade() -> None:
    op.drop_table("offer_handled")
