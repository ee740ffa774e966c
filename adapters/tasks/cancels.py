"""Cancels (DESIGN §6), claimed and recorded: a task the far side holds (pushed, or delivered
without a later result) whose ticket was cancelled, or whose customer accepted elsewhere,
is told so with the task's key, once; it ends `cancelled` with `detail.cancel` saying when
and how the receiver answered.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.channels.base import RETRY, Outcome, Pusher, masked
from adapters.db.engines import begin_writes
from adapters.db.schema import tasks, tickets
from adapters.tasks.pushes import backoff, hold_tasks
from engine.tasks import task as tk

CANCELLED, DELIVERED = tk.CANCELLED, tk.DELIVERED
log = logging.getLogger("tend.worker")


def claim_cancels(conn: Connection, pushers: Mapping[str, Pusher], batch: int,
                  hold: dt.timedelta, now: dt.datetime) -> list[Any]:
    """Tasks whose receiver is due a cancel, held by this worker until now + `hold`."""
    channels = [name for name, pusher in pushers.items() if pusher.cancel is not None]
    if not channels:
        return []
    begin_writes(conn)
    _withdraw(conn, channels, now)
    due = sa.and_(tasks.c.attempts > 0, tasks.c.state.in_(tk.sources(tk.WITHDRAW)),
                  tasks.c.lease_expires_at <= now)
    return hold_tasks(conn, channels, due, batch, now + hold, now)


def record_cancels(conn: Connection, pushers: Mapping[str, Pusher], rows: Sequence[Any],
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
