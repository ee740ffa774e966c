"""Monthly customer snapshots: the churn model's features as they were at the time.

One snapshot per month, taken once: a second `take` of a month that has one writes nothing,
because rewriting it later would put later knowledge (who has churned since) into the past.
`tend snapshot --at T` names the month and the day the values describe; the values are those
of the customers table when it runs, so `--at` in the past is for replaying an extract of that
time (docs/EVALUATION.md). The scheduler's leader takes the month's snapshot on its first tick
of a month (`monthly`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.db.engines import begin_writes, load_customers
from adapters.db.schema import customer_snapshots, customers, events
from engine.config import Config
from engine.measurement.churn import EVENT_WINDOW, month_of, snapshot_values

CHUNK = 5_000


@dataclass(frozen=True)
class Snapshot:
    month: dt.date
    as_of: dt.date
    customers: int
    written: bool  # False: the month had its snapshot already


def take(conn: Connection, config: Config, at: dt.datetime, now: dt.datetime) -> Snapshot:
    """The snapshot of `at`'s month, written now unless the month has one."""
    begin_writes(conn)
    as_of = config.today(at)
    month = month_of(as_of)
    existing = _existing(conn, month)
    if existing is not None:
        return Snapshot(month, existing[0], existing[1], False)
    counts = event_counts(conn, at)
    ids = list(conn.scalars(sa.select(customers.c.id).order_by(customers.c.id)))
    for start in range(0, len(ids), CHUNK):
        records = load_customers(conn, config, ids[start:start + CHUNK]).values()
        conn.execute(customer_snapshots.insert(), [
            {"month": month, "customer_id": c["id"], "as_of": as_of, "taken_at": now,
             **snapshot_values(c, counts.get(c["id"], {}), as_of)} for c in records])
    return Snapshot(month, as_of, len(ids), True)


def _existing(conn: Connection, month: dt.date) -> tuple[dt.date, int] | None:
    row = conn.execute(sa.select(sa.func.min(customer_snapshots.c.as_of), sa.func.count())
                       .where(customer_snapshots.c.month == month)).one()
    return None if not row[1] else (row[0], row[1])


def event_counts(conn: Connection, at: dt.datetime) -> Mapping[str, dict[str, int]]:
    """Per customer, how many events of each type they had in the window before `at`."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for cid, etype, n in conn.execute(
            sa.select(events.c.customer_id, events.c.type, sa.func.count())
            .where(events.c.at > at - EVENT_WINDOW, events.c.at <= at)
            .group_by(events.c.customer_id, events.c.type)):
        counts[cid][etype] = n
    return counts


def months(conn: Connection) -> list[tuple[dt.date, dt.date, int]]:
    """(month, as_of, customers) of every snapshot, oldest first."""
    return [(m, a, n) for m, a, n in conn.execute(
        sa.select(customer_snapshots.c.month, sa.func.min(customer_snapshots.c.as_of),
                  sa.func.count()).group_by(customer_snapshots.c.month)
        .order_by(customer_snapshots.c.month))]


def monthly(engine: Engine, config: Config, now: dt.datetime) -> Snapshot | None:
    """The scheduler's job: this month's snapshot if it has none yet (a cheap read otherwise,
    so it runs every tick and a scheduler that was down on the 1st catches up)."""
    month = month_of(config.today(now))
    with engine.connect() as conn:
        if conn.scalar(sa.select(customer_snapshots.c.month)
                       .where(customer_snapshots.c.month == month).limit(1)) is not None:
            return None
    with engine.begin() as conn:
        return take(conn, config, now, now)
