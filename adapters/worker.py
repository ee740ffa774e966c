"""`tend worker`: push due tasks of push channels (log, webhook) and record what happened.

One round works in three steps, so no network wait ever holds a transaction (a slow webhook
must not hold SQLite's write lock):

1. *Claim*, in one transaction: due `pending` tasks of the push channels, with the pull's
   claim (adapters.task_pull.claim: SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite),
   become `pushed` with one more attempt counted and a hold until now + task_lease. Several
   workers may run at once: none claims a task another holds.
2. *Send* each claimed task outside any transaction.
3. *Record* the outcome: delivered is reported like an adapter's result (a `task_result`
   event; the task keeps its furthest result); a failure the far side may get over moves
   `due_at` to the next attempt (exponential backoff with jitter), until the channel's
   `attempts` are spent; then, or at once for a refusal, the task is `dead` with the reason
   in `detail`.

A worker that dies between claim and record leaves its tasks `pushed`: when their hold ends
they are claimed again and re-sent with the same idempotency key (at least once delivery).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters import task_pull
from adapters.channels import DELIVERED, RETRY, Outcome, Pusher
from adapters.db import begin_writes, tasks
from adapters.ticket_store import task_shape

PUSHED = "pushed"
DEAD = "dead"
CHANGED = "changed"  # cancelled or reported on while being pushed: left as it is
MAX_BACKOFF = dt.timedelta(hours=6)
log = logging.getLogger("tend.worker")


def run_once(engine: Engine, pushers: Mapping[str, Pusher], batch: int, hold: dt.timedelta,
             now: dt.datetime) -> dict[str, int]:
    """Claim up to `batch` due tasks, push them, record the outcomes; counts by outcome."""
    counts = {DELIVERED: 0, RETRY: 0, DEAD: 0, CHANGED: 0}
    for task in claim(engine, list(pushers), batch, hold, now):
        pusher = pushers[task["channel"]]
        outcome = pusher.send(task)
        counts[record(engine, task["id"], pusher, outcome, now)] += 1
    return counts


def claim(engine: Engine, channels: list[str], batch: int, hold: dt.timedelta,
          now: dt.datetime) -> list[dict[str, Any]]:
    """Due tasks of `channels`, now `pushed` and held by this worker until now + `hold`."""
    due = sa.or_(sa.and_(tasks.c.state == "pending", tasks.c.due_at <= now),
                 sa.and_(tasks.c.state == PUSHED, tasks.c.lease_expires_at <= now))
    with engine.begin() as conn:
        begin_writes(conn)
        ids: list[int] = []
        for channel in sorted(channels):
            if len(ids) < batch:
                ids += task_pull.claim(conn, due, channel, batch - len(ids))
        if not ids:
            return []
        conn.execute(tasks.update().where(tasks.c.id.in_(ids)).values(
            state=PUSHED, attempts=tasks.c.attempts + 1, lease_expires_at=now + hold,
            updated_at=now))
        rows = conn.execute(sa.select(tasks).where(tasks.c.id.in_(ids))
                            .order_by(tasks.c.due_at, tasks.c.id)).all()
    return [{**task_shape(row), "attempt": row.attempts} for row in rows]


def record(engine: Engine, task_id: int, pusher: Pusher, outcome: Outcome,
           now: dt.datetime) -> str:
    """Store the outcome of one push; returns DELIVERED, RETRY, DEAD or CHANGED (a task
    cancelled or reported on meanwhile keeps its state)."""
    with engine.begin() as conn:
        row = task_pull.task(conn, task_id)
        if row.state != PUSHED:
            return CHANGED
        if outcome.kind == DELIVERED:
            task_pull.report(conn, row, DELIVERED, now, {"push": outcome.detail}, now)
            conn.execute(tasks.update().where(tasks.c.id == task_id)
                         .values(lease_expires_at=None))
            return DELIVERED
        if outcome.kind == RETRY and row.attempts < pusher.attempts:
            at = now + backoff(pusher.backoff, row.attempts)
            conn.execute(tasks.update().where(tasks.c.id == task_id).values(
                state="pending", due_at=at, lease_expires_at=None, updated_at=now,
                detail={"error": outcome.detail, "attempts": row.attempts,
                        "next_attempt_at": at.isoformat()}))
            log.warning("task %s: attempt %s failed (%s), next at %s", task_id,
                        row.attempts, outcome.detail, at.isoformat())
            return RETRY
        reason = (outcome.detail if outcome.kind != RETRY
                  else f"gave up after {row.attempts} attempts: {outcome.detail}")
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(
            state=DEAD, lease_expires_at=None, result_at=now, updated_at=now,
            detail={"reason": reason, "attempts": row.attempts}))
        log.error("task %s dead: %s", task_id, reason)
        return DEAD


def backoff(base: float, attempts: int) -> dt.timedelta:
    """`base` doubled per attempt made, capped, with up to 50% jitter taken off so that
    tasks failing together (a receiver down) do not all come back at the same second."""
    delay = min(base * 2 ** (attempts - 1), MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=delay * (1 - random.random() / 2))


def run(engine: Engine, pushers: Mapping[str, Pusher], batch: int, hold: dt.timedelta,
        every: float, stop: threading.Event,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
    """Rounds until `stop` is set; a full batch goes again at once, else waits `every`."""
    while not stop.is_set():
        counts = run_once(engine, pushers, batch, hold, clock())
        if sum(counts.values()):
            log.info("pushed %s", counts)
        if sum(counts.values()) < batch:
            stop.wait(every)
