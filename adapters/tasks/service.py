"""Adapter pull: lease a channel's due tasks, take results on them.

A pull claims tasks under a lease: each goes to one puller until its lease ends, then it is
due again (the adapter died or is slow; DESIGN 6 lets an adapter see a task twice, never two
tasks for one key). Claims are atomic across processes: PostgreSQL skips rows another puller
has locked (FOR UPDATE SKIP LOCKED), SQLite pullers queue on the write lock (BEGIN IMMEDIATE).

A task cancelled while leased keeps its lease stamp until one pull has listed it as
`cancelled` (the adapter drops it), then the stamp is cleared so it is listed once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapters.db.engines import begin_writes, iso
from adapters.db.schema import OPEN, customers, tasks
from adapters.intake.event_import import store_events
from adapters.tasks import contact_policy
from adapters.tasks import timing as step_timing
from adapters.tasks.listing import HeldTask, held
from adapters.tasks.store import cancelled, task_shape
from engine.errors import NotFound
from engine.event import Event
from engine.tasks import task as tk
from engine.tasks.policy import Policy
from engine.tasks.reasons import Reason

NO_LIMITS = Policy()
log = logging.getLogger("tend.tasks")


def pull(conn: Connection, channel: str, limit: int, lease: dt.timedelta,
         now: dt.datetime, policy: Policy = NO_LIMITS) -> list[dict[str, Any]]:
    """Up to `limit` tasks of `channel`: cancels not yet listed first, then due tasks that
    the contact `policy` lets go now, leased until now + `lease`. Call first in a write
    transaction."""
    begin_writes(conn)
    cancels = claim(conn, sa.and_(tasks.c.state == tk.CANCELLED,
                                  tasks.c.lease_expires_at.is_not(None)), channel, limit)
    if cancels:
        conn.execute(tasks.update().where(tasks.c.id.in_(cancels))
                     .values(lease_expires_at=None, updated_at=now))
    due = sa.or_(sa.and_(tasks.c.state == tk.PENDING, tasks.c.due_at <= now),
                 sa.and_(tasks.c.state == tk.LEASED, tasks.c.lease_expires_at <= now))
    leased = (claim_due(conn, due, channel, limit - len(cancels), policy, now)
              if limit > len(cancels) else [])
    expires = now + lease
    if leased:
        conn.execute(tasks.update().where(tasks.c.id.in_(leased))
                     .values(state=tk.LEASED, lease_expires_at=expires, updated_at=now))
    rows = conn.execute(sa.select(tasks).where(tasks.c.id.in_([*cancels, *leased]))).all()
    by_id = {row.id: row for row in rows}
    items = []
    for task_id in [*cancels, *leased]:
        shape = task_shape(by_id[task_id])
        shape["lease_expires_at"] = iso(expires) if task_id in leased else None
        items.append(shape)
    return items


def claim(conn: Connection, which: sa.ColumnElement[bool], channel: str | Sequence[str],
          limit: int) -> list[int]:
    """Ids of up to `limit` tasks of `channel` (or of any of several: the push worker's
    channels, in one query) matching `which`, highest playbook priority and then oldest due
    first (a channel's capacity goes to the higher priority), that no other claimer holds:
    PostgreSQL skips rows locked by another transaction, SQLite callers hold the write lock
    (begin_writes first). The push worker claims with this too."""
    channels = [channel] if isinstance(channel, str) else list(channel)
    query = (sa.select(tasks.c.id).where(tasks.c.channel.in_(channels), which)
             .order_by(tasks.c.priority.desc(), tasks.c.due_at, tasks.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(conn.scalars(query))


def claim_due(conn: Connection, which: sa.ColumnElement[bool], channel: str | Sequence[str],
              limit: int, policy: Policy, now: dt.datetime, stamp: bool = True) -> list[int]:
    """`claim` due tasks that the contact policy lets go now (adapters.tasks.contact_policy.screen
    holds or suppresses the others in place, and more are claimed in their place). Without
    `stamp` the caller stamps `sent_at` on those not sent before, in its own update."""
    contact_policy.take_turns(conn, policy, [channel] if isinstance(channel, str) else channel)
    ids: list[int] = []
    seen: list[int] = []  # screened already: sent, held, suppressed, or left for later
    while len(ids) < limit:
        found = claim(conn, sa.and_(which, tasks.c.id.not_in(seen)), channel, limit - len(ids))
        if not found:
            break
        seen += found
        ids += contact_policy.screen(conn, policy, found, now, stamp)
    return ids


def task(conn: Connection, task_id: int) -> Row[Any]:
    """The task's row, locked (PostgreSQL) until commit; NotFound for an unknown id. Call
    first in a write transaction."""
    begin_writes(conn)
    query = sa.select(tasks).where(tasks.c.id == task_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row


def record_result(conn: Connection, row: Row[Any], status: str, at: dt.datetime, detail: Any,
                  now: dt.datetime, reason: Reason | None = None) -> dict[str, Any]:
    """Record an adapter's result on the task `row` (from `task`) and return the task.

    A result is taken only where the table allows one (engine.tasks.task): on a task the contact
    policy suppressed, one cancelled before it was sent, or a dead one, it is a Conflict
    naming the state, before anything is written (a task cancelled after it went out still
    takes a late result: what was sent may be answered). The result is stored as a `task_result`
    event whose id names task and status, so a repeated report stores nothing twice. The
    task keeps its furthest result (engine.tasks.task); a kept result the step's `retry` names
    re-plans the step (adapters.tasks.timing.retry); an accepted or converted one cancels
    the customer's other open tasks of the ticket. A `reason` (checked by the caller against
    config.yaml `result_reasons`) is kept with the result it came with; one that says the
    phone is wrong marks the customer's current phone bad (mark_bad_phone).
    """
    target = tk.move(row.id, row.state, status, sent=row.sent_at is not None,
                     desk=row.route.startswith(tk.PERSON_ROUTE))
    store_events(conn, [Event(f"task:{row.id}:{status}", row.customer_id, "task_result", at,
                              {"status": status})], now)
    if target != row.state:
        conn.execute(tasks.update().where(tasks.c.id == row.id)
                     .values(state=target, result_at=at, detail=detail, updated_at=now,
                             reason=None if reason is None else reason.code))
        step_timing.retry(conn, row, status, at, now)
    if reason is not None and reason.bad_phone:
        mark_bad_phone(conn, row.customer_id)
    if tk.closes_siblings(status):
        close_open(conn, row.ticket_id, row.customer_id, f"step {row.step} was {status}", now,
                   but=row.id)
    fresh = conn.execute(sa.select(tasks).where(tasks.c.id == row.id)).one()
    return {**task_shape(fresh), "lease_expires_at": iso(fresh.lease_expires_at),
            "result_at": iso(fresh.result_at), "detail": fresh.detail, "reason": fresh.reason}


def mark_bad_phone(conn: Connection, customer_id: str) -> None:
    """The customer's phone, as it is now, was reported wrong: the contact policy stops the
    channels that use it while the stored phone is still this one (an import bringing a
    different phone clears it; engine.tasks.policy `wrong_number`)."""
    conn.execute(customers.update().where(customers.c.id == customer_id,
                                          customers.c.phone.is_not(None))
                 .values(bad_phone=customers.c.phone))


def close_open(conn: Connection, ticket_id: int, customer_id: str, note: str,
               now: dt.datetime, but: int | None = None) -> None:
    """The customer has answered for the ticket (an accepted result, a contact `handled` at a
    store): their open tasks of the ticket on every channel are cancelled, all but task
    `but`. Held ones are listed as cancelled on their channel's next pull."""
    mine = sa.and_(tasks.c.ticket_id == ticket_id, tasks.c.customer_id == customer_id)
    if but is not None:
        mine = sa.and_(mine, tasks.c.id != but)
    conn.execute(tasks.update().where(mine, tasks.c.state.in_(OPEN)).values(
        cancelled(now, {"reason": "answered", "note": note})))
    # Pushed and delivered to a receiver that may still act on it: the push worker
    # sends it a cancel when this stamp is due (adapters.tasks.worker.cancel).
    conn.execute(tasks.update().where(mine, tasks.c.state == tk.DELIVERED,
                                      tasks.c.attempts > 0,
                                      tasks.c.lease_expires_at.is_(None))
                 .values(lease_expires_at=now, updated_at=now))


def retry(conn: Connection, task_id: int, by: str, now: dt.datetime) -> HeldTask:
    """An operator puts the dead task `task_id` back (`POST /tasks/<id>/retry`): `pending`,
    due now, its attempts counted afresh, the same idempotency key (a receiver that saw it
    before still recognises it). The move is engine.tasks.task's `revive`, so any state but dead
    is a Conflict naming it, before anything is written. Tasks have no audit table: the
    record of the retry is `detail.retried` (who, when, what had killed it) and a warning
    on logger tend.tasks. NotFound for an unknown id. Call first in a write transaction."""
    row = task(conn, task_id)
    state = tk.move(row.id, row.state, tk.REVIVE)
    reason = (row.detail or {}).get("reason")
    detail = {"retried": {"by": by, "at": iso(now), "reason": reason}}
    conn.execute(tasks.update().where(tasks.c.id == row.id).values(
        state=state, due_at=now, attempts=0, lease_expires_at=None, result_at=None,
        detail=detail, updated_at=now))
    log.warning("task %s retried by %s (dead: %s)", task_id, by, reason)
    return held(conn.execute(sa.select(tasks).where(tasks.c.id == row.id)).one())


def handoff(conn: Connection, row: Row[Any], channel: str, template: str | None,
            note: str | None, now: dt.datetime) -> dict[str, Any]:
    """A follow-up of the task `row` on another channel (an outbound call booking a store
    visit): same ticket, entry, customer and route, due now, key `<key>><channel>`, so the
    follow-up's result counts on the owning ticket and a repeated report makes no second
    one. Returns the follow-up task."""
    payload = {**row.payload, "template": template or row.payload.get("template"),
               "handoff": {"task_id": row.id, "step": row.step, "channel": row.channel,
                           "note": note}}
    return follow_up(conn, {"ticket_id": row.ticket_id, "entry_id": row.entry_id,
                            "customer_id": row.customer_id, "route": row.route},
                     f"{row.step}>{channel}", channel, f"{row.idempotency_key}>{channel}",
                     payload, now)


def follow_up(conn: Connection, owner: dict[str, Any], step: str, channel: str, key: str,
              payload: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A task made by a person rather than a plan (a handoff, a referral from a store):
    `owner` gives its ticket, entry, customer and route, so its result counts on the owning
    ticket. Pending and due now; the key makes a repeat return the task made the first time.
    Returns the task."""
    existing = conn.execute(sa.select(tasks).where(tasks.c.idempotency_key == key)).first()
    if existing is None:
        conn.execute(tasks.insert().values(
            **owner, step=step[:64], channel=channel, state=tk.PENDING, idempotency_key=key,
            due_at=now, payload=payload, created_at=now, updated_at=now))
        existing = conn.execute(sa.select(tasks).where(tasks.c.idempotency_key == key)).one()
    return task_shape(existing)
