"""Step timing after a task is made: a step's `retry` re-plans it on the results it names,
and the goal event closes the customer's open tasks of the ticket.

Both need no playbook text: each task carries its step's rules (`step_rules`: `goal`,
`unless`, `retry`), written when it was made (adapters.tickets.execution.task_row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapters.db.schema import OPEN, entries, tasks, tickets
from engine.event import StoredEvent
from engine.playbooks.playbook import Retry, Step
from engine.tasks import task as tk

CHUNK = 2_000


def step_rules(step: Step, goal: str | None) -> dict[str, Any] | None:
    """What a task must remember of its step and playbook for retries and closure."""
    rules: dict[str, Any] = {}
    if goal is not None:
        rules["goal"] = goal
    if step.unless is not None:
        rules["unless"] = step.unless
    if step.retry is not None:
        rules["retry"] = {"on": list(step.retry.on), "times": step.retry.times,
                          "after": int(step.retry.after.total_seconds())}
    return rules or None


def retry_of(rules: Mapping[str, Any] | None) -> Retry | None:
    raw = (rules or {}).get("retry")
    if raw is None:
        return None
    return Retry(tuple(raw["on"]), raw["times"], dt.timedelta(seconds=raw["after"]))


def retry(conn: Connection, row: Row[Any], status: str, at: dt.datetime,
          now: dt.datetime) -> int | None:
    """Re-plan the task `row` after a `status` result its step retries on: a new task due
    `after` the result, keyed `<entry id>:<step id>#<n>` (so a repeated report makes none),
    unless the step's retries are spent, the ticket stopped executing, or the customer's
    answer in the ticket is already settled. The contact policy judges it when it is sent.
    A later-stage result overtaking the one retried (a late `connected` after `no_answer`)
    cancels the retry if it has not gone out. Returns the new task's id."""
    rule = retry_of(row.step_rules)
    if rule is not None and status not in rule.on:
        conn.execute(tasks.update().where(
            tasks.c.customer_id == row.customer_id, tasks.c.retry_of == row.id,
            tasks.c.state == tk.PENDING, tasks.c.sent_at.is_(None)).values(
            state=tk.CANCELLED, updated_at=now,
            detail={"reason": "answered", "note": f"the attempt it retries was {status}"}))
    if rule is None or status not in rule.on or row.attempt >= rule.times:
        return None
    running = conn.scalar(sa.select(tickets.c.state).where(tickets.c.id == row.ticket_id))
    settled = conn.scalar(sa.select(tasks.c.id).where(
        tasks.c.ticket_id == row.ticket_id, tasks.c.customer_id == row.customer_id,
        tasks.c.state.in_(tk.CLOSING)).limit(1))
    if running != "executing" or settled is not None:
        return None
    key = f"{row.entry_id}:{row.step}#{row.attempt + 1}"
    if conn.scalar(sa.select(tasks.c.id).where(tasks.c.idempotency_key == key)) is not None:
        return None
    new_id: int = conn.execute(tasks.insert().values(
        ticket_id=row.ticket_id, entry_id=row.entry_id, customer_id=row.customer_id,
        step=row.step, channel=row.channel, route=row.route, state=tk.PENDING,
        idempotency_key=key, due_at=at + rule.after, payload=row.payload, created_at=now,
        updated_at=now, priority=row.priority, attempt=row.attempt + 1, retry_of=row.id,
        step_rules=row.step_rules).returning(tasks.c.id)).scalar_one()
    return new_id


def close_on_goal(conn: Connection, goals: Iterable[str], stored: Iterable[StoredEvent],
                  now: dt.datetime) -> int:
    """Cancel the open tasks whose playbook's goal one of these events reached (of that
    customer, since they entered): the customer converted, every channel stops. `goals`:
    the event types some playbook aims at, so other events cost no query. Held tasks keep
    their lease stamp, so their adapter hears of the cancel. Returns how many."""
    wanted = set(goals)
    reached: dict[str, list[tuple[str, dt.datetime]]] = {}
    for item in stored:
        if item.event.type in wanted:
            reached.setdefault(item.event.customer_id, []).append((item.event.type,
                                                                    item.event.at))
    ids = sorted(reached)
    closing: dict[int, str] = {}
    for first in range(0, len(ids), CHUNK):
        query = (sa.select(tasks.c.id, tasks.c.customer_id, tasks.c.step_rules,
                           entries.c.entered_at)
                 .join(entries, entries.c.id == tasks.c.entry_id)
                 .where(tasks.c.customer_id.in_(ids[first:first + CHUNK]),
                        tasks.c.state.in_(OPEN)))
        for row in conn.execute(query):
            goal = (row.step_rules or {}).get("goal")
            for kind, at in reached[row.customer_id]:
                if kind == goal and at >= row.entered_at:
                    closing[row.id] = f"goal {kind} reached at {at.isoformat()}"
    for task_id, note in closing.items():
        conn.execute(tasks.update().where(tasks.c.id == task_id, tasks.c.state.in_(OPEN))
                     .values(state=tk.CANCELLED, updated_at=now,
                             detail={"reason": "goal reached", "note": note}))
    return len(closing)
