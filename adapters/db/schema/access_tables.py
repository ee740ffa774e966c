"""Users, their roles and tokens, and the console's sign-ins (failed attempts, sessions)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.db.schema.columns import UTCDateTime, metadata, text_c

# Appended for the ticket workflow (migration 0002). Ids of people are their names: audit rows
# and approvals must stay readable after a user is gone, so they hold the name, not a key.

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", text_c(128), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("password_hash", sa.Text),  # console sign-in (migration 0006); NULL: token only
)

user_roles = sa.Table(
    "user_roles", metadata,
    sa.Column("user_id", sa.Integer, primary_key=True),
    sa.Column("role", text_c(128), primary_key=True),
)

tokens = sa.Table(
    "tokens", metadata,
    sa.Column("hash", sa.String(64), primary_key=True),  # sha256 hex: the token is never stored
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
)


# --- console sign-ins (migration 0012): failed attempts by account and address, live sessions ---

signin_failures = sa.Table(
    "signin_failures", metadata,
    sa.Column("key", text_c(320), primary_key=True),  # "account:<name>" or "address:<ip>"
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start", UTCDateTime, nullable=False),
)

console_sessions = sa.Table(
    "console_sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 hex of the cookie's session id
    sa.Column("user_name", text_c(128), nullable=False, index=True),
    sa.Column("signed_in_at", UTCDateTime, nullable=False),
)
