"""Call attempts: each result a person records on a task, kept as its own row.

A task keeps its furthest result (engine.tasks.task: `no_answer` on Monday, `connected` on Tuesday
leaves `connected`), which is what channels, evaluation and the funnel rely on. A person's
calls are a history too: the manager needs to see that they tried three times. So a result
from the desk is an attempt (its own row, under an id made when the form was drawn, so a
form sent twice is one attempt) and then a result through `service.record_result`, exactly as an
adapter's result moves the task.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapters.db.reads import Read
from adapters.db.schema import task_attempts, tasks
from adapters.tasks import service
from engine.tasks.reasons import Reason


def attempt(conn: Connection, row: Row[Any], status: str, attempt_id: str, by: str,
            note: str | None, now: dt.datetime, reason: Reason | None = None) -> bool:
    """Record the call `attempt_id` on the task `row` (from `service.task`, locked) with the
    result `status`: the attempt, then the result on the task (`service.record_result`, which
    refuses a task no channel had with a Conflict). False when this attempt was recorded
    before (nothing is written). `reason`: the result's reason code, checked by the caller
(config.yaml `result_reasons`). Call in a write transaction: a Conflict rolls it back."""
    known = conn.scalar(sa.select(task_attempts.c.task_id)
                        .where(task_attempts.c.id == attempt_id))
    if known is not None:
        return False
    service.record_result(conn, row, status, now, {"by": by, "note": note}, now, reason=reason)
    conn.execute(task_attempts.insert().values(
        id=attempt_id, task_id=row.id, ticket_id=row.ticket_id, customer_id=row.customer_id,
        channel=row.channel, status=status, note=note, by=by, at=now))
    return True


_RECENT = (sa.select(task_attempts.c.at, task_attempts.c.channel, task_attempts.c.status,
                     task_attempts.c.by, task_attempts.c.note, tasks.c.payload)
           .join(tasks, tasks.c.id == task_attempts.c.task_id)
           .where(task_attempts.c.customer_id == sa.bindparam("cid"))
           .order_by(task_attempts.c.at.desc(), task_attempts.c.id)
           .limit(sa.bindparam("n")))


def recent_read(customer_id: str, limit: int) -> Read:
    """The customer's newest call attempts, newest first, with the offer their task was
    planned with (`params.offer` of its payload, as the trajectory shows task results): a
    read, to batch with others (adapters.db.reads)."""
    return Read(_RECENT, {"cid": customer_id, "n": limit})


def attempted() -> sa.Exists:
    """True for a task row that has attempts: the trajectory lists those instead of the
    task's one furthest result."""
    return sa.exists().where(task_attempts.c.task_id == tasks.c.id)
