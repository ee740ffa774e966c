"""The task lists people read: an operator's dead letters, a manager's tasks, a ticket's tasks
a page at a time, and a ticket's tasks counted by channel and state.

Reads only. The edges (`GET /tasks`, `/managers/<id>/tasks`, `/tickets/<id>/tasks`, the
console's ticket page) call these and render what they return; a cursor's encoding is theirs,
a page here continues after a task id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapters.db.engines import iso
from adapters.db.schema import tasks
from engine.errors import ValidationError
from engine.tasks import task as tk


class HeldTask(TypedDict):
    """A task as an operator or a manager reads it: what an adapter is given, and how far
    it got (attempts, its result's instant, its lease, `detail`: a dead task's reason)."""

    id: int
    ticket_id: int
    customer_id: str
    step: str
    channel: str
    route: str
    state: str
    idempotency_key: str
    due_at: str | None
    payload: Any
    created_at: str | None
    updated_at: str | None
    attempts: int
    result_at: str | None
    lease_expires_at: str | None
    detail: Any
    reason: str | None  # the result's reason code (config.yaml `result_reasons`)


@dataclass(frozen=True)
class TaskPage:
    """One page in id order; `next_after` is the id the next page continues after (None:
    this was the last page)."""

    items: list[HeldTask]
    next_after: int | None


def held(row: Row[Any]) -> HeldTask:
    return HeldTask(id=row.id, ticket_id=row.ticket_id, customer_id=row.customer_id,
                    step=row.step, channel=row.channel, route=row.route, state=row.state,
                    idempotency_key=row.idempotency_key, due_at=iso(row.due_at),
                    payload=row.payload, created_at=iso(row.created_at),
                    updated_at=iso(row.updated_at), attempts=row.attempts,
                    result_at=iso(row.result_at), lease_expires_at=iso(row.lease_expires_at),
                    detail=row.detail, reason=row.reason)


def task_filters(*, state: str | None = None, channels: Collection[str] | None = None,
                 route: str | None = None, routes: Collection[str] | None = None,
                 ticket_id: int | None = None,
                 reason: str | None = None) -> list[sa.ColumnElement[bool]]:
    """The WHERE terms of a task list, one per filter given: the lists and the exports
    (adapters.tasks.export) narrow the same way. `routes`: one of several (a supervisor's
    managers)."""
    if state is not None and state not in tk.STATES:
        raise ValidationError(f"expected one of {', '.join(tk.STATES)}, got {state!r}",
                              field="state")
    where: list[sa.ColumnElement[bool]] = []
    if state is not None:
        where.append(tasks.c.state == state)
    if channels is not None:
        where.append(tasks.c.channel.in_(sorted(channels)))
    if route is not None:
        where.append(tasks.c.route == route)
    if routes is not None:
        where.append(tasks.c.route.in_(sorted(routes)))
    if ticket_id is not None:
        where.append(tasks.c.ticket_id == ticket_id)
    if reason is not None:
        where.append(tasks.c.reason == reason)
    return where


def task_page(conn: Connection, *, state: str | None = None,
              channels: Collection[str] | None = None, route: str | None = None,
              ticket_id: int | None = None, after: int | None = None,
              limit: int) -> TaskPage:
    """Tasks in id order after task `after`, up to `limit`, narrowed by each filter given:
    in `state`, on one of `channels`, routed to `route`, of ticket `ticket_id`."""
    if limit < 1:
        raise ValidationError(f"expected 1 or more, got {limit}", field="limit")
    where = task_filters(state=state, channels=channels, route=route, ticket_id=ticket_id)
    if after is not None:
        where.append(tasks.c.id > after)
    rows = conn.execute(sa.select(tasks).where(*where).order_by(tasks.c.id)
                        .limit(limit + 1)).all()
    page = rows[:limit]
    return TaskPage([held(row) for row in page], page[-1].id if len(rows) > limit else None)


def counts(conn: Connection, ticket_id: int) -> dict[str, dict[str, int]]:
    """A ticket's tasks by channel and then state (one GROUP BY: a ticket may have a million
    tasks), channels in name order."""
    found: dict[str, dict[str, int]] = {}
    for channel, task_state, n in conn.execute(
            sa.select(tasks.c.channel, tasks.c.state, sa.func.count())
            .where(tasks.c.ticket_id == ticket_id)
            .group_by(tasks.c.channel, tasks.c.state).order_by(tasks.c.channel)):
        found.setdefault(channel, {})[task_state] = n
    return found


def suppressed_reasons(conn: Connection, ticket_id: int) -> dict[str, dict[str, int]]:
    """A ticket's suppressed tasks by channel and reason (frequency cap, opted out, …): what
    its ticket page shows beside the card's promise once it runs."""
    reason = tasks.c.detail["reason"].as_string()
    found: dict[str, dict[str, int]] = {}
    for channel, why, n in conn.execute(
            sa.select(tasks.c.channel, reason, sa.func.count())
            .where(tasks.c.ticket_id == ticket_id, tasks.c.state == "suppressed")
            .group_by(tasks.c.channel, reason).order_by(tasks.c.channel)):
        found.setdefault(channel, {})[why or "unknown"] = n
    return found
