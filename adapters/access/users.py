"""Users and their bearer tokens in the database.

Only a token's sha256 is stored: a leaked database does not hand out logins. Tokens are long
random strings, so an unsalted hash is enough (nothing to guess from a dictionary).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from adapters.db.engines import begin_writes
from adapters.db.schema import tokens, user_roles, users
from engine.errors import Conflict, NotFound, ValidationError
from engine.tickets.users import User

USE_STAMP_EVERY = dt.timedelta(minutes=1)
MIN_PASSWORD = 10
# Every API request asks it: built once, its roles in the same read (one row per role).
_TOKEN_HOLDER = (sa.select(users.c.name, tokens.c.last_used_at, user_roles.c.role)
                 .select_from(tokens.join(users, users.c.id == tokens.c.user_id)
                              .outerjoin(user_roles, user_roles.c.user_id == users.c.id))
                 .where(tokens.c.hash == sa.bindparam("hash")))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(conn: Connection, name: str, roles: Iterable[str], now: dt.datetime) -> str:
    """Create the user with these roles and return a new token (shown once, never stored)."""
    begin_writes(conn)
    if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is not None:
        raise Conflict(f"user {name!r} exists already")
    user_id = conn.execute(users.insert().values(name=name, created_at=now)
                           .returning(users.c.id)).scalar_one()
    role_rows = [{"user_id": user_id, "role": role} for role in sorted(set(roles))]
    if role_rows:
        conn.execute(user_roles.insert(), role_rows)
    return _new_token(conn, user_id, now)


def issue_token(conn: Connection, name: str, now: dt.datetime) -> str:
    """Another token for an existing user (the old ones stay valid): tokens are shown once."""
    begin_writes(conn)
    user_id = conn.scalar(sa.select(users.c.id).where(users.c.name == name))
    if user_id is None:
        raise NotFound(f"no user {name!r}")
    return _new_token(conn, user_id, now)


def _new_token(conn: Connection, user_id: int, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(tokens.insert().values(hash=token_hash(token), user_id=user_id,
                                        created_at=now))
    return token


def user_for_token(conn: Connection, token: str, now: dt.datetime) -> User | None:
    """The token's user, or None for a token nobody holds; stamps its use when due."""
    found = token_holder(conn, token, now)
    if found is None:
        return None
    user, stale = found
    if stale:
        stamp_token(conn, token, now)
    return user


def token_holder(conn: Connection, token: str, now: dt.datetime) -> tuple[User, bool] | None:
    """The token's user, and whether its `last_used_at` is due a refresh, read only.

    The stamp is refreshed at most once a minute and in its own write: an HTTP request that
    only reads must not take SQLite's write lock to learn who is asking.
    """
    rows = conn.execute(_TOKEN_HOLDER, {"hash": token_hash(token)}).all()
    if not rows:
        return None
    first = rows[0]
    stale = first.last_used_at is None or now - first.last_used_at > USE_STAMP_EVERY
    return User(first.name, frozenset(r.role for r in rows if r.role is not None)), stale


def stamp_token(conn: Connection, token: str, now: dt.datetime) -> None:
    conn.execute(tokens.update().where(tokens.c.hash == token_hash(token))
                 .values(last_used_at=now))


def _roles(conn: Connection, user_id: int) -> frozenset[str]:
    return frozenset(conn.execute(sa.select(user_roles.c.role)
                                  .where(user_roles.c.user_id == user_id)).scalars())


def user_by_name(conn: Connection, name: str) -> User | None:
    """The user as stored now: the console re-reads roles on every request, so a role taken
    away takes effect at once, not when the session ends."""
    user_id = conn.scalar(sa.select(users.c.id).where(users.c.name == name))
    return None if user_id is None else User(name, _roles(conn, user_id))


def set_password(conn: Connection, name: str, password: str) -> None:
    """Store a salted scrypt hash of the password for console sign-in (never the password)."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"at least {MIN_PASSWORD} characters", field="password")
    begin_writes(conn)
    done = conn.execute(users.update().where(users.c.name == name).values(
        password_hash=generate_password_hash(password, method="scrypt")))
    if done.rowcount != 1:
        raise NotFound(f"no user {name!r}")


def user_for_password(conn: Connection, name: str, password: str) -> User | None:
    """The user if the password is theirs; None for an unknown name, a wrong password or a
    user without one (the caller cannot tell which)."""
    row = conn.execute(sa.select(users.c.id, users.c.password_hash)
                       .where(users.c.name == name)).first()
    if row is None or row.password_hash is None:
        check_password_hash(_dummy_hash(), password)  # the same time as a real check
        return None
    if not check_password_hash(row.password_hash, password):
        return None
    return User(name, _roles(conn, row.id))


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")
