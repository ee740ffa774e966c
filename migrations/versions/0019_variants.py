"""Step variants (champion/challenger, engine/playbooks/variant.py): each entry keeps the variant its
customer was assigned (NULL for control, and for playbooks without variants), and a playbook
version may carry the reason it was published (a promotion: "promoted variant X from ticket
N: ..."), which the version history shows.

Written by hand like 0001-0018; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.add_column("entries", sa.Column("variant", _text(64)))
    op.add_column("playbook_versions", sa.Column("reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("playbook_versions") as batch:  # SQLite copies the table
        batch.drop_column("reason")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("variant")
