"""Assignment (划配) against the database: load the customers without a manager and each
manager's workload, let engine.tasks.assignment decide, write the managers and one audit row each.

Run after every customer import (`tend import customers`, `POST /customers`), by the
scheduler once a day, and by `tend assign` (`dry_run`: decide and write nothing). Churned
customers are left alone: nobody calls them as their manager.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.db.engines import begin_writes, load_customers
from adapters.db.schema import assignments, customers
from engine.config import Config
from engine.language.customer import facts
from engine.tasks.assignment import Assignment, Candidate, decide


def workloads(conn: Connection, managers: frozenset[str]) -> dict[str, int]:
    """How many customers each of `managers` holds now (0 for none)."""
    if not managers:
        return {}
    rows = conn.execute(sa.select(customers.c.manager, sa.func.count())
                        .where(customers.c.manager.in_(sorted(managers)))
                        .group_by(customers.c.manager))
    found = {str(row[0]): int(row[1]) for row in rows}
    return {m: found.get(m, 0) for m in managers}


def plan(conn: Connection, config: Config, now: dt.datetime) -> list[Assignment]:
    """What assignment would do now: a manager for each unassigned customer a rule covers."""
    rules = config.assignment
    if not rules.rules:
        return []
    ids = list(conn.scalars(sa.select(customers.c.id).where(
        customers.c.manager.is_(None), customers.c.churned_on.is_(None))
        .order_by(customers.c.id)))
    today = config.today(now)
    candidates = []
    for record in load_customers(conn, config, ids).values():
        seen = facts(record, today, config.tiers, config.lifecycle)
        candidates.append(Candidate(record["id"], seen.get("tier"), record.get("attrs") or {}))
    return decide(rules, candidates, workloads(conn, rules.managers))


def assign(conn: Connection, config: Config, now: dt.datetime, by: str,
           dry_run: bool = False) -> list[Assignment]:
    """Assign (or, `dry_run`, only say) in the caller's transaction. A customer given a
    manager meanwhile (another import) is skipped: the update asks that they still have none."""
    if not dry_run:
        begin_writes(conn)  # SQLite: the write lock before the reads the writes rest on
    made = plan(conn, config, now)
    if dry_run or not made:
        return made
    written = []
    for one in made:
        done = conn.execute(sa.update(customers).where(
            customers.c.id == one.customer, customers.c.manager.is_(None))
            .values(manager=one.manager, updated_at=now))
        if done.rowcount:
            written.append(one)
    if written:
        conn.execute(sa.insert(assignments), [
            {"customer_id": a.customer, "manager": a.manager, "rule": a.rule, "by": by,
             "at": now} for a in written])
    return written


def history(conn: Connection, customer_id: str) -> list[dict[str, object]]:
    """The assignments of one customer, oldest first (the audit)."""
    rows = conn.execute(sa.select(assignments.c.manager, assignments.c.rule, assignments.c.by,
                                  assignments.c.at)
                        .where(assignments.c.customer_id == customer_id)
                        .order_by(assignments.c.id))
    return [dict(row._mapping) for row in rows]


def assign_after_import(engine: Engine, config: Config, now: dt.datetime) -> int:
    """After an import commits: its new customers get their managers in a transaction of
    their own (the import stands even if this fails). Nothing to do without rules."""
    if not config.assignment.rules:
        return 0
    with engine.begin() as conn:
        return len(assign(conn, config, now, "import"))


def daily(engine: Engine, config: Config, now: dt.datetime) -> int:
    """The scheduler's daily run: customers who lost their manager (an import's empty
    `manager` cell) or arrived without one by other ways get one."""
    if not config.assignment.rules:
        return 0
    with engine.begin() as conn:
        return len(assign(conn, config, now, "daily"))
