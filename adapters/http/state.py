"""What one app instance holds between requests: config, library, and a lazily made engine.

Nothing here connects at import or at `create_app`: gunicorn forks workers after the app is
built, and a connection pool made before the fork would be shared by every worker.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app, g, has_request_context
from sqlalchemy.engine import Connection, Engine

from adapters.db.engines import begin_writes, make_engine
from adapters.tickets.standing import process_matcher
from engine.clock import Clock
from engine.config import Config
from engine.playbooks.library import Library, load_library
from engine.playbooks.triggers import Triggers


@dataclass
class State:
    config: Config
    database_url: str
    clock: Clock
    _engine: Engine | None = None
    _library: Library | None = None
    _triggers: Triggers | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.database_url)
            return self._engine

    @property
    def library(self) -> Library:
        """Loaded on first use: a bad library file fails requests that need it, not startup
        of /healthz and /metrics."""
        with self._lock:
            if self._library is None:
                self._library = load_library(self.config)
            return self._library

    @property
    def triggers(self) -> Triggers:
        """The library's event playbooks compiled into the process's durable-rules host."""
        library = self.library
        with self._lock:
            if self._triggers is None:
                self._triggers = Triggers(library.playbooks.values(), self.config,
                                          process_matcher())
            return self._triggers

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Connection]:
        """One transaction per request: committed when the block ends, rolled back on any
        error, so a failed request writes nothing.

        `write`: SQLite's write lock is taken up front (adapters.db.engines.begin_writes), so a
        request
        that reads and then writes waits for another writer instead of failing.
        """
        with self._connection() as conn:
            if write:
                begin_writes(conn)
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """Reads, each statement on its own: no BEGIN and COMMIT round trips on PostgreSQL
        (autocommit). They see what they would in a transaction: at PostgreSQL's READ
        COMMITTED every statement of a transaction takes a new snapshot anyway, and pysqlite
        begins a transaction only before a write, so on SQLite the block needs no setting at
        all (switching SQLite's isolation level costs SQLAlchemy two PRAGMA statements, a
        view's dearest overhead there). A write in the block is committed by itself: only a
        single statement that stands alone belongs here (a view's log row), never two
        writes that must happen together."""
        with self._connection() as conn:
            if conn.dialect.name == "sqlite":
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()  # ends SQLAlchemy's transaction, and pysqlite's after a write
                return
            default = conn.default_isolation_level
            conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                yield conn
            finally:
                conn.rollback()  # ends SQLAlchemy's own transaction; nothing to undo
                conn.execution_options(isolation_level=default)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """The request's connection, checked out (and, on PostgreSQL, pinged) once per
        request however many transactions it runs (a view runs three: the token's, the
        log's, the read's), and given back by `release` when the request ends. A connection
        of its own outside a request, or when the request's is busy (a transaction opened
        inside another)."""
        held: Connection | None = None
        if has_request_context() and not g.get("tend_released"):
            held = g.get("tend_connection")
            if held is None:
                held = g.tend_connection = self.engine.connect()
        if held is None or held.in_transaction() or g.get("tend_busy"):
            with self.engine.connect() as conn:
                yield conn
            return
        g.tend_busy = True
        try:
            yield held
        finally:
            g.tend_busy = False

    def release(self, _error: BaseException | None = None) -> None:
        """Give the request's connection back to the pool (teardown_request): after this,
        a transaction in the same request takes a connection of its own."""
        held: Connection | None = g.pop("tend_connection", None)
        g.tend_released = True
        if held is not None:
            held.close()

    def now(self) -> dt.datetime:
        """The app's clock read once: a request takes "now" from here and nowhere else."""
        return self.clock()

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def state() -> State:
    found: State = current_app.extensions["tend"]
    return found
