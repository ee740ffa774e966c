"""A round's pushes, claimed and recorded (adapters/tasks/worker.py sends them between): due
`pending` tasks of the push channels become `pushed` and held, and each push's outcome
becomes the task's next state, a retry with backoff, or a dead letter.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.channels.base import RETRY, Outcome, Pusher, masked
from adapters.db.engines import begin_writes, one_of
from adapters.db.schema import tasks
from adapters.intake.event_import import prepare, store_events
from adapters.tasks import service as task_pull
from adapters.tasks.store import task_shape
from engine.event import Event
from engine.tasks import task as tk
from engine.tasks.policy import Policy

PUSHED, DEAD, CANCELLED, DELIVERED = tk.PUSHED, tk.DEAD, tk.CANCELLED, tk.DELIVERED
CHANGED = "changed"  # cancelled or reported on while being pushed: left as it is
log = logging.getLogger("tend.worker")
MAX_BACKOFF = dt.timedelta(hours=6)
# What a held task's push or cancel reads (ticket_store.task_shape, the attempt, a cancel's
# earlier tries): the rest of the row was decoded and thrown away for every task.
HELD = [tasks.c[name] for name in (
    "id", "ticket_id", "customer_id", "step", "channel", "route", "state", "idempotency_key",
    "due_at", "payload", "created_at", "updated_at", "attempts", "detail")]


def claim(engine: Engine, channels: list[str], batch: int, hold: dt.timedelta,
          now: dt.datetime, policy: Policy = task_pull.NO_LIMITS) -> list[dict[str, Any]]:
    """Due tasks of `channels` that the contact `policy` lets go now (task_pull.claim_due),
    now `pushed` and held by this worker until now + `hold`."""
    with engine.begin() as conn:
        return claim_pushes(conn, channels, batch, hold, now, policy)


def claim_pushes(conn: Connection, channels: list[str], batch: int, hold: dt.timedelta,
                 now: dt.datetime, policy: Policy) -> list[dict[str, Any]]:
    due = sa.or_(sa.and_(tasks.c.state == tk.PENDING, tasks.c.due_at <= now),
                 sa.and_(tasks.c.state == PUSHED, tasks.c.lease_expires_at <= now))
    rows = hold_tasks(conn, channels, due, batch, now + hold, now, policy, state=PUSHED,
                 attempts=tasks.c.attempts + 1, sent_at=sa.func.coalesce(tasks.c.sent_at, now))
    return [{**task_shape(row), "attempt": row.attempts} for row in rows]


def hold_tasks(conn: Connection, channels: Sequence[str], which: sa.ColumnElement[bool],
               batch: int, until: dt.datetime, now: dt.datetime, policy: Policy | None = None,
               **values: Any) -> list[Any]:
    """Claim up to `batch` tasks of `channels` matching `which`, hold them until `until`
    (with `values` set) and return their rows, oldest due first."""
    begin_writes(conn)
    ids = (task_pull.claim(conn, which, channels, batch) if policy is None
           else task_pull.claim_due(conn, which, channels, batch, policy, now, stamp=False))
    if not ids:
        return []
    rows = conn.execute(tasks.update().where(one_of(conn, tasks.c.id, ids))
                        .values(lease_expires_at=until, updated_at=now, **values)
                        .returning(*HELD)).all()
    return sorted(rows, key=lambda row: (row.due_at, row.id))


def record(engine: Engine, pushers: Mapping[str, Pusher],
           results: Sequence[tuple[Mapping[str, Any], Outcome]], now: dt.datetime) -> list[str]:
    """Store the outcomes of one round of pushes; per task DELIVERED, RETRY, DEAD or CHANGED
    (a task cancelled or reported on meanwhile keeps its state; a cancelled one is now due
    its cancel, as its push is over)."""
    with engine.begin() as conn:
        return record_pushes(conn, pushers, results, now)


def record_pushes(conn: Connection, pushers: Mapping[str, Pusher],
                  results: Sequence[tuple[Mapping[str, Any], Outcome]],
                  now: dt.datetime) -> list[str]:
    """Each outcome is written only where the task is still this worker's push (`pushed`,
    at the attempt it claimed), alike outcomes in one UPDATE; the rest are CHANGED."""
    if not results:
        return []
    begin_writes(conn)
    planned = [(task, *settle(task, pushers[task["channel"]], outcome, now))
               for task, outcome in results]
    done: set[int] = set()
    for (attempt, values), ids in _alike([((t["attempt"], v), t["id"]) for t, _, v in planned]):
        done.update(conn.scalars(tasks.update().where(
            one_of(conn, tasks.c.id, ids), tasks.c.state == PUSHED, tasks.c.attempts == attempt)
            .values(**values).returning(tasks.c.id)))
    kinds = [kind if task["id"] in done else CHANGED for task, kind, _ in planned]
    reports = [Event(f"task:{task['id']}:{DELIVERED}", task["customer_id"], "task_result", now,
                     {"status": DELIVERED})
               for task, kind, _ in planned if kind == DELIVERED and task["id"] in done]
    ours = [event.customer_id for event in reports]  # a task's customer is on file
    store_events(conn, reports, now, prepare(conn, reports, ours, ours))
    changed = [task["id"] for task, _, _ in planned if task["id"] not in done]
    if changed:  # a task cancelled meanwhile is owed its cancel now that its push is over
        conn.execute(tasks.update().where(tasks.c.id.in_(changed),
                                          tasks.c.state == CANCELLED)
                     .values(lease_expires_at=now, updated_at=now))
    return kinds


def settle(task: Mapping[str, Any], pusher: Pusher, outcome: Outcome,
           now: dt.datetime) -> tuple[str, dict[str, Any]]:
    """What one push's outcome makes of the task: its kind and the columns to set. It reads no
    database (the clock and the channel's attempts and backoff are handed in): a test needs none."""
    if outcome.kind == DELIVERED:
        return DELIVERED, {"state": tk.move(task["id"], PUSHED, DELIVERED), "result_at": now,
                           "lease_expires_at": None,
                           "detail": {"push": outcome.detail}, "updated_at": now}
    attempt = task["attempt"]
    if outcome.kind == RETRY and attempt < pusher.attempts:
        at = now + backoff(pusher.backoff, attempt)
        log.warning("task %s: attempt %s failed (%s), next at %s", task["id"], attempt,
                    masked(outcome.detail), at.isoformat())
        return RETRY, {"state": tk.move(task["id"], PUSHED, tk.RETRY_LATER), "due_at": at,
                       "lease_expires_at": None,
                       "updated_at": now, "detail": {"error": masked(outcome.detail),
                                                     "attempts": attempt,
                                                     "next_attempt_at": at.isoformat()}}
    reason = masked(outcome.detail if outcome.kind != RETRY
                    else f"gave up after {attempt} attempts: {outcome.detail}")
    log.error("task %s dead: %s", task["id"], reason)
    return DEAD, {"state": tk.move(task["id"], PUSHED, tk.GIVE_UP), "lease_expires_at": None,
                  "result_at": now, "updated_at": now,
                  "detail": {"reason": reason, "attempts": attempt}}


def _alike(changes: list[tuple[Any, int]]) -> list[tuple[Any, list[int]]]:
    """Task ids grouped by the change they get: a round's deliveries are one UPDATE."""
    groups: dict[bytes, tuple[Any, list[int]]] = {}
    for change, task_id in changes:
        key = orjson.dumps(change, option=orjson.OPT_SORT_KEYS, default=str)
        groups.setdefault(key, (change, []))[1].append(task_id)
    return list(groups.values())


def backoff(base: float, attempts: int) -> dt.timedelta:
    """`base` doubled per attempt made, capped, with up to 50% jitter taken off so that
    tasks failing together (a receiver down) do not all come back at the same second."""
    delay = min(base * 2 ** (attempts - 1), MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=delay * (1 - random.random() / 2))
