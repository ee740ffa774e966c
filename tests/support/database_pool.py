"""Copies of a migrated PostgreSQL template, made ahead and dropped behind on a thread.

Every PostgreSQL test gets a database of its own (`pg_url` in tests/conftest.py). Making one
(`CREATE DATABASE ... TEMPLATE`) and dropping it cost the server ~0.1-0.3 s each; done inline
that is the test process waiting for the server, some 360 times over a session. Done here, on a
thread, the server makes the next copies and drops the used ones while the test process runs
Python on the other core: a test takes a database that is already there and hands it back
without waiting.

Isolation is unchanged: each database is still used by one test only and dropped after it,
never cleaned and reused. The thread stops while the server is `halt`ed (an outage test) by
taking the server's `running` lock, which `halt` holds until `resume`.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque

from support.postgres import PostgresServer


class DatabasePool:
    """Databases copied from `template`, `ahead` of them ready at a time."""

    def __init__(self, server: PostgresServer, template: str, prefix: str = "tend_test",
                 ahead: int = 2) -> None:
        self._server = server
        self._template = template
        self._prefix = prefix
        self._ahead = ahead
        self._names = itertools.count(1)
        self._ready: deque[str] = deque()
        self._used: deque[str] = deque()
        self._failure: BaseException | None = None
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="database-pool", daemon=True)
        self._thread.start()

    def take(self, timeout: float = 120.0) -> str:
        """The name of a fresh database that no one else has or will have."""
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._ready) or self._failure is not None,
                                          timeout):
                raise RuntimeError(f"no copy of the template database within {timeout} s")
            if self._failure is not None:
                raise RuntimeError(f"could not copy the template database: {self._failure}")
            name = self._ready.popleft()
            self._changed.notify_all()
            return name

    def give_back(self, name: str) -> None:
        """The test is done with `name`: drop it (with its connections) in the background."""
        with self._changed:
            self._used.append(name)
            self._changed.notify_all()

    def close(self) -> None:
        """Stop the thread; databases still there go when the server's folder is removed."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()

    def _next_job(self) -> tuple[str, str] | None:
        """What to do next, most urgent first: a copy a test waits for, a drop, a copy ahead."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or bool(self._used)
                                   or len(self._ready) < self._ahead)
            if self._closed:
                return None
            if self._ready and self._used:
                return "drop", self._used.popleft()
            return "create", f"{self._prefix}_{next(self._names)}"

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            kind, name = job
            statement = (f"CREATE DATABASE {name} TEMPLATE {self._template}" if kind == "create"
                         else f"DROP DATABASE {name} WITH (FORCE)")
            try:
                with self._server.running:
                    self._server.execute(statement)
            except BaseException as exc:  # a test waiting in take() must hear of it
                with self._changed:
                    self._failure = exc
                    self._changed.notify_all()
                return
            if kind == "create":
                with self._changed:
                    self._ready.append(name)
                    self._changed.notify_all()
