"""What one app instance holds between requests: config, library, and a lazily made engine.

Nothing here connects at import or at `create_app`: gunicorn forks workers after the app is
built, and a connection pool made before the fork would be shared by every worker.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy.engine import Connection, Engine

from adapters.db import begin_writes, make_engine
from adapters.event_import import StoredEvent
from engine.config import Config
from engine.library import Library, load_library

# Called inside the POST /events transaction with the events that were new (never repeats),
# so triggering can enter customers in the same request (DESIGN 6, standing tickets).
EventHook = Callable[[Connection, "State", Sequence[StoredEvent], dt.datetime], Any]


@dataclass
class State:
    config: Config
    database_url: str
    event_hooks: list[EventHook] = field(default_factory=list)
    _engine: Engine | None = None
    _library: Library | None = None
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
                self._library = load_library(None, None, self.config)
            return self._library

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Connection]:
        """One transaction per request: committed when the block ends, rolled back on any
        error, so a failed request writes nothing.

        `write`: SQLite's write lock is taken up front (adapters.db.begin_writes), so a request
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

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def state() -> State:
    found: State = current_app.extensions["tend"]
    return found


def register_event_hook(app: Any, hook: EventHook) -> None:
    """Where event triggering plugs in: every hook sees each request's new events."""
    app.extensions["tend"].event_hooks.append(hook)
