"""Fakes for service tests: stand-ins for the outside world that record what they were handed
and answer what the test scripted, so a test asserts on decisions, not on sockets.

`FakePusher` is a push channel (adapters/channels/base.py's `Pusher`) whose far side is a
script: each send takes the next scripted outcome, and `then` once the script is spent. It
keeps every task and cancel it was handed, in the order they arrived, and counts closes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.channels.base import DELIVERED, REFUSED, RETRY, Outcome, Pusher

OK = Outcome(DELIVERED, "fake: taken")
BUSY = Outcome(RETRY, "fake: busy, try later")
NO = Outcome(REFUSED, "fake: refused")


@dataclass
class FakePusher:
    """A push channel named `name` answering `script` in order, then `then`; it takes cancels
    (answering `cancel_then`) unless `takes_cancels` is false, as mail does not."""

    name: str = "fake"
    script: Iterable[Outcome] = ()
    then: Outcome = OK
    attempts: int = 3
    backoff: float = 60.0
    takes_cancels: bool = True
    cancel_then: Outcome = OK
    sent: list[dict[str, Any]] = field(default_factory=list)
    cancels: list[dict[str, Any]] = field(default_factory=list)
    closed: int = 0

    def __post_init__(self) -> None:
        self._answers = list(self.script)
        self._lock = threading.Lock()  # the worker sends from several threads

    def pusher(self) -> Pusher:
        """The `Pusher` the worker drives, bound to this fake."""
        return Pusher(self.name, self._send, self.attempts, self.backoff,
                      cancel=self._cancel if self.takes_cancels else None, close=self._close)

    def keys(self) -> list[str]:
        """The idempotency keys of the tasks sent, in the order they were sent."""
        return [task["idempotency_key"] for task in self.sent]

    def _send(self, task: Mapping[str, Any]) -> Outcome:
        with self._lock:
            self.sent.append(dict(task))
            return self._answers.pop(0) if self._answers else self.then

    def _cancel(self, task: Mapping[str, Any]) -> Outcome:
        with self._lock:
            self.cancels.append(dict(task))
            return self.cancel_then

    def _close(self) -> None:
        with self._lock:
            self.closed += 1


def pushers(*fakes: FakePusher) -> dict[str, Pusher]:
    """The worker's channel map for `fakes`, by their names."""
    return {fake.name: fake.pusher() for fake in fakes}
