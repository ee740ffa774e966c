"""`tend worker`: push due tasks of push channels (log, webhook, smtp) and record what happened.

One round works in three steps, so no network wait ever holds a transaction (a slow webhook
must not hold SQLite's write lock):

1. *Claim*, in one transaction: due `pending` tasks of the push channels, with the pull's
   claim (adapters.tasks.service.claim: SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite),
   become `pushed` with one more attempt counted and a hold until now + task_lease. Several
   workers may run at once: none claims a task another holds.
2. *Send* the claimed tasks outside any transaction, a few at a time (`threads`).
3. *Record* the outcomes, in one transaction: delivered is reported like an adapter's
   result (a `task_result` event; the task keeps its furthest result); a failure the far
   side may get over moves `due_at` to the next attempt (exponential backoff with jitter),
   until the channel's `attempts` are spent; then, or at once for a refusal, the task is
   `dead` with the reason in `detail`.

Then the same three steps for cancels (DESIGN §6): a task the far side holds (it was pushed,
or delivered without a later result) whose ticket was cancelled, or whose customer accepted
elsewhere (adapters.tasks.service.record_result), is told so with the task's key, once; the
task ends `cancelled` with `detail.cancel` saying when and how the receiver answered.

A worker that dies between claim and record leaves its tasks held: when the hold ends they
are claimed again and re-sent with the same idempotency key (at least once delivery).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import random
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.channels.base import RETRY, Outcome, Pusher, Send, masked
from adapters.db.engines import begin_writes, one_of
from adapters.db.outage import Backoff, unreachable
from adapters.db.schema import tasks, tickets
from adapters.intake.event_import import Event, prepare, store_events
from adapters.tasks import service as task_pull
from adapters.tasks.store import task_shape
from engine import task as tk
from engine.clock import Clock, system_clock
from engine.policy import Policy

PUSHED, DEAD, CANCELLED, DELIVERED = tk.PUSHED, tk.DEAD, tk.CANCELLED, tk.DELIVERED
CHANGED = "changed"  # cancelled or reported on while being pushed: left as it is
CANCELS = "cancels"  # cancels the far side has taken (or refused: it holds nothing then)
MAX_BACKOFF = dt.timedelta(hours=6)
THREADS = 16  # sends in flight per worker: the receiver's latency, not ours, sets the pace
LANES = 4  # rounds in flight per worker (adapters.tasks.worker.run)
log = logging.getLogger("tend.worker")
# What a held task's push or cancel reads (ticket_store.task_shape, the attempt, a cancel's
# earlier tries): the rest of the row was decoded and thrown away for every task.
HELD = [tasks.c[name] for name in (
    "id", "ticket_id", "customer_id", "step", "channel", "route", "state", "idempotency_key",
    "due_at", "payload", "created_at", "updated_at", "attempts", "detail")]


def run_once(engine: Engine, pushers: Mapping[str, Pusher], batch: int, hold: dt.timedelta,
             now: dt.datetime, pool: Executor | None = None,
             policy: Policy = task_pull.NO_LIMITS, streams: int = THREADS) -> dict[str, int]:
    """One round: claim up to `batch` due tasks and as many due cancels, send them in
    `streams` (each on one thread of `pool`, one task after another), record the outcomes
    (two transactions). Counts by outcome."""
    if pool is None:
        try:
            with ThreadPoolExecutor(streams) as own:
                return run_once(engine, pushers, batch, hold, now, own, policy, streams)
        finally:
            for pusher in pushers.values():
                pusher.close()
    with engine.begin() as conn:
        pushes = _claim(conn, list(pushers), batch, hold, now, policy)
        cancels = _claim_cancels(conn, pushers, batch, hold, now)
    outcomes = _send_all(pool, [(pushers[t["channel"]].send, t) for t in pushes]
                         + [(_cancel_of(pushers[r.channel]), task_shape(r)) for r in cancels],
                         streams)
    counts = {DELIVERED: 0, RETRY: 0, DEAD: 0, CHANGED: 0, CANCELS: 0}
    if outcomes:
        with engine.begin() as conn:
            done = list(zip(pushes, outcomes[:len(pushes)], strict=True))
            for kind in _record(conn, pushers, done, now):
                counts[kind] += 1
            counts[CANCELS] = _record_cancels(conn, pushers, cancels,
                                              outcomes[len(pushes):], now)
    return counts


def claim(engine: Engine, channels: list[str], batch: int, hold: dt.timedelta,
          now: dt.datetime, policy: Policy = task_pull.NO_LIMITS) -> list[dict[str, Any]]:
    """Due tasks of `channels` that the contact `policy` lets go now (task_pull.claim_due),
    now `pushed` and held by this worker until now + `hold`."""
    with engine.begin() as conn:
        return _claim(conn, channels, batch, hold, now, policy)


def _claim(conn: Connection, channels: list[str], batch: int, hold: dt.timedelta,
           now: dt.datetime, policy: Policy) -> list[dict[str, Any]]:
    due = sa.or_(sa.and_(tasks.c.state == tk.PENDING, tasks.c.due_at <= now),
                 sa.and_(tasks.c.state == PUSHED, tasks.c.lease_expires_at <= now))
    rows = _hold(conn, channels, due, batch, now + hold, now, policy, state=PUSHED,
                 attempts=tasks.c.attempts + 1, sent_at=sa.func.coalesce(tasks.c.sent_at, now))
    return [{**task_shape(row), "attempt": row.attempts} for row in rows]


def _hold(conn: Connection, channels: Sequence[str], which: sa.ColumnElement[bool],
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


def _send_all(pool: Executor, jobs: Sequence[tuple[Send, Mapping[str, Any]]],
              streams: int) -> list[Outcome]:
    """The outcomes of `jobs`, in order, sent in `streams` slices, each slice by one thread:
    a hand-off between threads per task cost more CPU than the send itself."""
    slices = [range(i, len(jobs), streams) for i in range(min(streams, len(jobs)))]
    sent = pool.map(lambda part: [(j, jobs[j][0](jobs[j][1])) for j in part], slices)
    return [outcome for _, outcome in sorted(itertools.chain.from_iterable(sent),
                                             key=lambda done: done[0])]


def record(engine: Engine, pushers: Mapping[str, Pusher],
           results: Sequence[tuple[Mapping[str, Any], Outcome]], now: dt.datetime) -> list[str]:
    """Store the outcomes of one round of pushes; per task DELIVERED, RETRY, DEAD or CHANGED
    (a task cancelled or reported on meanwhile keeps its state; a cancelled one is now due
    its cancel, as its push is over)."""
    with engine.begin() as conn:
        return _record(conn, pushers, results, now)


def _record(conn: Connection, pushers: Mapping[str, Pusher],
            results: Sequence[tuple[Mapping[str, Any], Outcome]], now: dt.datetime) -> list[str]:
    """Each outcome is written only where the task is still this worker's push (`pushed`,
    at the attempt it claimed), alike outcomes in one UPDATE; the rest are CHANGED."""
    if not results:
        return []
    begin_writes(conn)
    planned = [(task, *_outcome(task, pushers[task["channel"]], outcome, now))
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


def _outcome(task: Mapping[str, Any], pusher: Pusher, outcome: Outcome,
             now: dt.datetime) -> tuple[str, dict[str, Any]]:
    """What one push's outcome makes of the task: its kind and the columns to set."""
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


def cancel(engine: Engine, pushers: Mapping[str, Pusher], batch: int, hold: dt.timedelta,
           now: dt.datetime, pool: Executor) -> int:
    """Send the cancels due on channels that take them; returns how many went out."""
    with engine.begin() as conn:
        rows = _claim_cancels(conn, pushers, batch, hold, now)
    if not rows:
        return 0
    outcomes = _send_all(pool, [(_cancel_of(pushers[r.channel]), task_shape(r)) for r in rows],
                         THREADS)
    with engine.begin() as conn:
        return _record_cancels(conn, pushers, rows, outcomes, now)


def _claim_cancels(conn: Connection, pushers: Mapping[str, Pusher], batch: int,
                   hold: dt.timedelta, now: dt.datetime) -> list[Any]:
    """Tasks whose receiver is due a cancel, held by this worker until now + `hold`."""
    channels = [name for name, pusher in pushers.items() if pusher.cancel is not None]
    if not channels:
        return []
    begin_writes(conn)
    _withdraw(conn, channels, now)
    due = sa.and_(tasks.c.attempts > 0, tasks.c.state.in_(tk.sources(tk.WITHDRAW)),
                  tasks.c.lease_expires_at <= now)
    return _hold(conn, channels, due, batch, now + hold, now)


def _record_cancels(conn: Connection, pushers: Mapping[str, Pusher], rows: Sequence[Any],
                    outcomes: Sequence[Outcome], now: dt.datetime) -> int:
    """Store how each receiver answered its cancel; returns how many took it (or refused
    it: then it holds nothing). A failure is tried again after a backoff, as pushes are."""
    if not rows:
        return 0
    begin_writes(conn)
    sent = 0
    for row, outcome in zip(rows, outcomes, strict=True):
        tries = int(((row.detail or {}).get("cancel") or {}).get("attempts", 0)) + 1
        note = {"attempts": tries, "at": now.isoformat(), "outcome": outcome.kind,
                "answer": masked(outcome.detail)}
        # A result reported while the cancel was on its way stands: it is the later news.
        values: dict[str, Any] = {"lease_expires_at": None, "state": sa.case(
            (tasks.c.state.in_(tk.sources(tk.WITHDRAW)), CANCELLED), else_=tasks.c.state)}
        if outcome.kind == RETRY and tries < pushers[row.channel].attempts:
            values = {"lease_expires_at": now + backoff(pushers[row.channel].backoff, tries)}
        else:
            sent += outcome.kind != RETRY
            log.info("task %s: cancel sent (%s)", row.id, note["answer"])
        conn.execute(tasks.update().where(tasks.c.id == row.id).values(
            updated_at=now, detail={**(row.detail or {}), "cancel": note}, **values))
    return sent


def _withdraw(conn: Connection, channels: Sequence[str], now: dt.datetime) -> None:
    """Stamp the delivered pushes of cancelled tickets as due a cancel (execution.cancel_tasks
    leaves results alone; for a push receiver, delivered means it holds the task). Found
    from the cancelled tickets; while there are none, the planner skips the UPDATE at once
    (else it may scan every delivered task of the channels, every round)."""
    cancelled = sa.select(tickets.c.id).where(tickets.c.state == CANCELLED)
    conn.execute(tasks.update().where(
        sa.exists(cancelled), tasks.c.ticket_id.in_(cancelled), tasks.c.state == DELIVERED,
        tasks.c.channel.in_(channels), tasks.c.attempts > 0,
        tasks.c.lease_expires_at.is_(None)).values(lease_expires_at=now, updated_at=now))


def _cancel_of(pusher: Pusher) -> Send:
    assert pusher.cancel is not None
    return pusher.cancel


def backoff(base: float, attempts: int) -> dt.timedelta:
    """`base` doubled per attempt made, capped, with up to 50% jitter taken off so that
    tasks failing together (a receiver down) do not all come back at the same second."""
    delay = min(base * 2 ** (attempts - 1), MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=delay * (1 - random.random() / 2))


def run(engine: Engine, pushers: Mapping[str, Pusher], batch: int, hold: dt.timedelta,
        every: float, stop: threading.Event,
        clock: Clock = system_clock,
        threads: int = THREADS, policy: Policy = task_pull.NO_LIMITS,
        lanes: int = LANES, outage: Backoff | None = None) -> None:
    """Rounds until `stop` is set, `lanes` at a time (one sends while another claims or
    records: a round mostly waits for the database or the receiver); a lane whose batch was
    full goes again at once, else waits `every`. While the database is unreachable, lanes
    wait and retry (`outage`, adapters/db/outage.py). Any other failing lane stops the others
    and its error is raised here."""
    failed: list[BaseException] = []
    waits = outage or Backoff("worker")

    def lane(pool: Executor) -> None:
        try:
            while not stop.is_set():
                try:
                    counts = run_once(engine, pushers, batch, hold, clock(), pool, policy,
                                      max(1, threads // lanes))
                except sa.exc.DBAPIError as exc:
                    if not unreachable(exc):
                        raise
                    waits.failed(exc, stop.wait)  # claimed tasks come back when held out
                    continue
                waits.succeeded()
                if sum(counts.values()):
                    log.info("pushed %s", counts)
                if sum(counts.values()) - counts[CANCELS] < batch:
                    stop.wait(every)
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)
            stop.set()

    try:
        with ThreadPoolExecutor(threads) as pool:
            running = [threading.Thread(target=lane, args=(pool,), name=f"lane-{i}")
                       for i in range(lanes)]
            for thread in running:
                thread.start()
            for thread in running:
                thread.join()
    finally:
        for pusher in pushers.values():
            pusher.close()
    if failed:
        raise failed[0]
