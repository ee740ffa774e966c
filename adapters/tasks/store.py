"""A task as the API shows it, a ticket's tasks, and what cancelling an unfinished one sets:
the task rows every service writes and reads the same way (their states: engine.tasks.task)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapters.db.engines import iso
from adapters.db.schema import tasks
from engine.tasks import task as tk


def task_shape(row: Row[Any]) -> dict[str, Any]:
    return {"id": row.id, "ticket_id": row.ticket_id, "customer_id": row.customer_id,
            "step": row.step, "channel": row.channel, "route": row.route, "state": row.state,
            "idempotency_key": row.idempotency_key, "due_at": iso(row.due_at),
            "payload": row.payload, "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at)}


def task_rows(conn: Connection, ticket_id: int) -> list[Row[Any]]:
    return list(conn.execute(sa.select(tasks).where(tasks.c.ticket_id == ticket_id)
                             .order_by(tasks.c.id)))


def cancelled(now: dt.datetime, detail: dict[str, Any]) -> dict[str, Any]:
    """What cancelling an unfinished task sets. A push that failed and waits for its next
    attempt may still be held by its receiver (a timeout does not say the request was
    dropped), so its hold is stamped due and the push worker sends it a cancel
    (adapters.tasks.worker). Pulled and in-flight tasks keep their hold: the next pull lists the
    cancel, and the end of the push makes it due."""
    waiting = sa.and_(tasks.c.state == tk.PENDING, tasks.c.attempts > 0)
    return {"state": tk.CANCELLED, "updated_at": now, "detail": detail,
            "lease_expires_at": sa.case((waiting, now), else_=tasks.c.lease_expires_at)}
