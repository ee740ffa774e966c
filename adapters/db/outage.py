"""Riding out a database outage in the long-running processes (`tend worker`, `tend scheduler`).

A database restarted for an upgrade, a failover, a network blip: the processes wait and try
again, doubling the wait from `first` up to `most` seconds (so a long outage costs one log line
and one connection attempt per `most` seconds), and carry on when it answers. Only errors that
say the database cannot be reached or opened count; a missing table or a bad query is still
an error, which the CLI reports with its hint about migrations.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

log = logging.getLogger("tend.outage")
Sleep = Callable[[float], object]  # threading.Event.wait, so a stop ends the wait at once
# Operational errors that are about the schema or the statement, not the connection.
NOT_OUTAGES = ("no such table", "no such column", "syntax error", "has no column")


def unreachable(exc: BaseException) -> bool:
    """The database cannot be reached or opened now (it may be back in a moment)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        text = str(exc.orig).lower()
        return not any(words in text for words in NOT_OUTAGES)
    return False


def detail(exc: BaseException) -> str:
    """The driver's first line: what an operator needs, without SQLAlchemy's statement dump."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ping(connect: Callable[[], AbstractContextManager[Connection]]) -> str | None:
    """Why the database does not answer a `SELECT 1` in a connection from `connect` (the
    driver's first line), or None when it does: /healthz, which must say so rather than
    fail."""
    try:
        with connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        return detail(exc)
    return None


class Backoff:
    """Waits between attempts while the database is unreachable; shared by a process's
    threads, so four worker lanes log one outage, not four."""

    def __init__(self, who: str, first: float = 0.5, most: float = 30.0) -> None:
        self.who = who
        self.first = first
        self.most = most
        self.delay = 0.0
        self._lock = threading.Lock()

    def failed(self, exc: BaseException, sleep: Sleep) -> None:
        """Log the outage and wait the next delay (`sleep` may end it early)."""
        with self._lock:
            self.delay = min(self.most, self.delay * 2) if self.delay else self.first
            delay = self.delay
        log.warning("%s: database unreachable (%s); retrying in %.1f s", self.who,
                    detail(exc), delay)
        sleep(delay)

    def succeeded(self) -> None:
        with self._lock:
            if self.delay:
                log.warning("%s: database reachable again", self.who)
            self.delay = 0.0
