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

from flask import current_app
from sqlalchemy.engine import Connection, Engine

from adapters.db.engines import begin_writes, make_engine
from adapters.tickets.standing import process_matcher
from engine.clock import Clock
from engine.config import Config
from engine.library import Library, load_library
from engine.triggers import Triggers


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
        with self.engine.connect() as conn:
            if write:
                begin_writes(conn)
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

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
