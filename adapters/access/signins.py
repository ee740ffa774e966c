"""What the console remembers about sign-ins in the database, so every gunicorn worker sees it:
failed attempts (throttling password guessing) and the live sessions (so signing out revokes).

Throttling counts failures per key in fixed windows: `account:<name>` and `address:<ip>`. Once
a key has `limit` failures in its window, attempts for it are refused, without checking the
password, until the window has passed; a success clears the account's count. Addresses get
a higher limit than accounts, as many people may share one (an office's NAT).

A session is a random id in the signed cookie; only its sha256 is stored. A request whose id
has no row is signed out, so a cookie copied before sign-out is worth nothing after it.
Times come from the caller (`now`).

It lives beside adapters/access/users.py (the accounts it signs in) rather than in the
console, which only renders: the console calls these and never reads the tables itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from adapters.db.schema import console_sessions, signin_failures


@dataclass(frozen=True)
class Limits:
    account: int = 5  # failures per account and window
    address: int = 30  # failures per address and window
    window: dt.timedelta = dt.timedelta(minutes=15)


def keys(name: str, address: str | None) -> list[tuple[str, str]]:
    """(key, kind) pairs an attempt counts against; kind is "account" or "address"."""
    found = [(f"account:{name.strip().lower()[:300]}", "account")] if name.strip() else []
    if address:
        found.append((f"address:{address[:300]}", "address"))
    return found


def blocked_until(conn: Connection, attempt: Sequence[tuple[str, str]], limits: Limits,
                  now: dt.datetime) -> dt.datetime | None:
    """When the latest block on any of the attempt's keys ends, or None if none is blocked."""
    if not attempt:
        return None
    table = signin_failures
    rows = conn.execute(sa.select(table.c.key, table.c.failures, table.c.window_start)
                        .where(table.c.key.in_([key for key, _ in attempt]))).all()
    kinds = dict(attempt)
    ends = [row.window_start + limits.window for row in rows
            if row.failures >= getattr(limits, kinds[row.key])
            and row.window_start + limits.window > now]
    return max(ends, default=None)


def record_failure(conn: Connection, attempt: Sequence[tuple[str, str]], limits: Limits,
                   now: dt.datetime) -> None:
    """One more failure for each key: a window that has passed starts again at `now`. One
    upsert per key, so workers counting at once add up rather than overwrite. Keys whose
    window has passed are dropped first, so names sprayed by a guesser do not pile up."""
    table = signin_failures
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stale = table.c.window_start <= now - limits.window
    conn.execute(table.delete().where(stale, table.c.key.not_in([key for key, _ in attempt])))
    for key, _ in attempt:
        stmt = dialect.insert(table).values(key=key, failures=1, window_start=now)
        stmt = stmt.on_conflict_do_update(index_elements=[table.c.key], set_={
            "failures": sa.case((stale, 1), else_=table.c.failures + 1),
            "window_start": sa.case((stale, now), else_=table.c.window_start)})
        conn.execute(stmt)


def clear_account(conn: Connection, attempt: Sequence[tuple[str, str]]) -> None:
    accounts = [key for key, kind in attempt if kind == "account"]
    if accounts:
        conn.execute(signin_failures.delete().where(signin_failures.c.key.in_(accounts)))


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(conn: Connection, user_name: str, now: dt.datetime,
                 lifetime: dt.timedelta) -> str:
    """A new session's id (for the cookie); sessions past their lifetime are dropped."""
    conn.execute(console_sessions.delete().where(
        console_sessions.c.signed_in_at < now - lifetime))
    session_id = secrets.token_urlsafe(32)
    conn.execute(console_sessions.insert().values(
        id=_digest(session_id), user_name=user_name, signed_in_at=now))
    return session_id


def session_live(conn: Connection, session_id: str, user_name: str) -> bool:
    found = conn.scalar(sa.select(console_sessions.c.user_name)
                        .where(console_sessions.c.id == _digest(session_id)))
    return found == user_name


def close_session(conn: Connection, session_id: str) -> None:
    conn.execute(console_sessions.delete().where(console_sessions.c.id == _digest(session_id)))
