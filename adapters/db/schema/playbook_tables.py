"""The library's versions: each playbook and offer version a ticket was planned from."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.db.schema.columns import UTCDateTime, metadata, text_c

playbook_versions = sa.Table(
    "playbook_versions", metadata,
    sa.Column("playbook", text_c(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("loaded_at", UTCDateTime, nullable=False),
    # Migration 0019: why the version was published, when Tend wrote it (a promotion).
    sa.Column("reason", sa.Text),
)

# The offers a playbook version names are registered with it (migration 0013): a ticket's
# offers keep the content they had when it was planned, or the version is bumped.
offer_versions = sa.Table(
    "offer_versions", metadata,
    sa.Column("offer", text_c(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("loaded_at", UTCDateTime, nullable=False),
)
