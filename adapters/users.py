"""Users and their bearer tokens in the database.

Only a token's sha256 is stored: a leaked database does not hand out logins. Tokens are long
random strings, so an unsalted hash is enough (nothing to guess from a dictionary).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db import begin_writes, tokens, user_roles, users
from engine.errors import Conflict, NotFound
from engine.users import User

USE_STAMP_EVERY = dt.timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(conn: Connection, name: str, roles: Iterable[str]) -> str:
    """Create the user with these roles and return a new token (shown once, never stored)."""
    begin_writes(conn)
    if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is not None:
        raise Conflict(f"user {name!r} exists already")
    now = dt.datetime.now(dt.UTC)
    user_id = conn.execute(users.insert().values(name=name, created_at=now)
                           .returning(users.c.id)).scalar_one()
    role_rows = [{"user_id": user_id, "role": role} for role in sorted(set(roles))]
    if role_rows:
        conn.execute(user_roles.insert(), role_rows)
    return _new_token(conn, user_id, now)


def issue_token(conn: Connection, name: str) -> str:
    """Another token for an existing user (the old ones stay valid): tokens are shown once."""
    begin_writes(conn)
    user_id = conn.scalar(sa.select(users.c.id).where(users.c.name == name))
    if user_id is None:
        raise NotFound(f"no user {name!r}")
    return _new_token(conn, user_id, dt.datetime.now(dt.UTC))


def _new_token(conn: Connection, user_id: int, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(tokens.insert().values(hash=token_hash(token), user_id=user_id,
                                        created_at=now))
    return token


def user_for_token(conn: Connection, token: str) -> User | None:
    """The token's user, or None for a token nobody holds.

    `last_used_at` is refreshed at most once a minute: a write on every request would make
    every read request take SQLite's write lock.
    """
    digest = token_hash(token)
    row = conn.execute(sa.select(users.c.id, users.c.name, tokens.c.last_used_at)
                       .join(tokens, tokens.c.user_id == users.c.id)
                       .where(tokens.c.hash == digest)).first()
    if row is None:
        return None
    roles = conn.execute(sa.select(user_roles.c.role)
                         .where(user_roles.c.user_id == row.id)).scalars()
    now = dt.datetime.now(dt.UTC)
    if row.last_used_at is None or now - row.last_used_at > USE_STAMP_EVERY:
        conn.execute(tokens.update().where(tokens.c.hash == digest).values(last_used_at=now))
    return User(row.name, frozenset(roles))
