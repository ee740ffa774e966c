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

The claims and records of pushes are adapters/tasks/pushes.py's, those of cancels
adapters/tasks/cancels.py's; this module runs the rounds and sends between them.

A worker that dies between claim and record leaves its tasks held: when the hold ends they
are claimed again and re-sent with the same idempotency key (at least once delivery).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.channels.base import RETRY, Outcome, Pusher, Send
from adapters.db.outage import Backoff, unreachable
from adapters.tasks import service as task_pull
from adapters.tasks.cancels import claim_cancels, record_cancels
from adapters.tasks.pushes import CHANGED, claim_pushes, record_pushes
from adapters.tasks.store import task_shape
from engine.clock import Clock, system_clock
from engine.tasks import task as tk
from engine.tasks.policy import Policy

DEAD, DELIVERED = tk.DEAD, tk.DELIVERED
CANCELS = "cancels"  # cancels the far side has taken (or refused: it holds nothing then)
THREADS = 16  # sends in flight per worker: the receiver's latency, not ours, sets the pace
LANES = 4  # rounds in flight per worker (adapters.tasks.worker.run)
log = logging.getLogger("tend.worker")


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
        pushes = claim_pushes(conn, list(pushers), batch, hold, now, policy)
        cancels = claim_cancels(conn, pushers, batch, hold, now)
    outcomes = _send_all(pool, [(pushers[t["channel"]].send, t) for t in pushes]
                         + [(_cancel_of(pushers[r.channel]), task_shape(r)) for r in cancels],
                         streams)
    counts = {DELIVERED: 0, RETRY: 0, DEAD: 0, CHANGED: 0, CANCELS: 0}
    if outcomes:
        with engine.begin() as conn:
            done = list(zip(pushes, outcomes[:len(pushes)], strict=True))
            for kind in record_pushes(conn, pushers, done, now):
                counts[kind] += 1
            counts[CANCELS] = record_cancels(conn, pushers, cancels,
                                              outcomes[len(pushes):], now)
    return counts


def _send_all(pool: Executor, jobs: Sequence[tuple[Send, Mapping[str, Any]]],
              streams: int) -> list[Outcome]:
    """The outcomes of `jobs`, in order, sent in `streams` slices, each slice by one thread:
    a hand-off between threads per task cost more CPU than the send itself."""
    slices = [range(i, len(jobs), streams) for i in range(min(streams, len(jobs)))]
    sent = pool.map(lambda part: [(j, jobs[j][0](jobs[j][1])) for j in part], slices)
    return [outcome for _, outcome in sorted(itertools.chain.from_iterable(sent),
                                             key=lambda done: done[0])]


def cancel(engine: Engine, pushers: Mapping[str, Pusher], batch: int, hold: dt.timedelta,
           now: dt.datetime, pool: Executor) -> int:
    """Send the cancels due on channels that take them; returns how many went out."""
    with engine.begin() as conn:
        rows = claim_cancels(conn, pushers, batch, hold, now)
    if not rows:
        return 0
    outcomes = _send_all(pool, [(_cancel_of(pushers[r.channel]), task_shape(r)) for r in rows],
                         THREADS)
    with engine.begin() as conn:
        return record_cancels(conn, pushers, rows, outcomes, now)


def _cancel_of(pusher: Pusher) -> Send:
    assert pusher.cancel is not None
    return pusher.cancel


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
