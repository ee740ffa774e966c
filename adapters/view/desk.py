"""The manager's desk: the unified view (DESIGN 10) of each customer an account manager has
calls to make for, grouped by customer.

A user holding `manager:M` is routed the `route: manager` tasks of M's customers
(`User.routes`). The desk lists the tasks a call can still change (engine.tasks.task.actionable),
one group per customer, first due first, and with each customer what to say: who they are
(their phone in full, since the manager dials it), when their contract ends, their churn
score, the offers with scripts (the view's offers on the tasks' channel, best first, each
from its ticket), whether a control group forbids offering, and the last entries of their
trajectory, so an earlier attempt is in sight before the next call. Reading the desk logs no
view and triggers nothing: a list of to-dos is not a contact (the customer's page is).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import load_customers
from adapters.db.schema import tasks, tickets
from adapters.view import service as view_service
from engine.config import Config
from engine.language.customer import facts
from engine.playbooks.library import Library
from engine.tasks import task as tk

RESULTS = ("connected", "no_answer", "accepted", "declined")  # what a call ends with
ACTIONABLE = tk.actionable(RESULTS)  # tasks a call can still change
SHOWN = 100  # tasks on one desk
HISTORY = 5  # trajectory entries shown with each customer


@dataclass(frozen=True)
class DeskTask:
    id: int
    ticket_id: int
    playbook: str
    step: str
    channel: str
    state: str
    due_at: dt.datetime
    template: str | None


@dataclass(frozen=True)
class TalkingPoint:
    """An offer to make on the call, with the ticket it is attributed to."""

    offer: str
    title: str
    script: str
    rank: int
    ticket_id: int
    playbook: str
    step: str


@dataclass(frozen=True)
class DeskCustomer:
    id: str
    name: str | None
    phone: str | None  # in full: the manager dials it (docs/CONSOLE.md)
    tier: str | None
    stage: str | None
    contract_end: dt.date | None
    contract_days: int | None  # days from today to contract_end (negative: ended)
    churn_score: float | None
    channel: str  # the channel of the first task: where the call is recorded
    tasks: tuple[DeskTask, ...]
    offers: tuple[TalkingPoint, ...]
    control: tuple[int, ...]  # tickets holding the customer as control: offer nothing of theirs
    history: tuple[dict[str, Any], ...]  # newest trajectory entries (talking_points)


@dataclass(frozen=True)
class Results:
    """The results recorded on the manager's tasks since the first of the month."""

    since: dt.datetime
    counts: dict[str, int]
    total: int
    recent: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Desk:
    customers: tuple[DeskCustomer, ...]
    tasks: int
    results: Results


def desk_of(conn: Connection, config: Config, library: Library, routes: frozenset[str],
            now: dt.datetime, lang: str) -> Desk:
    """The desk of the user routed `routes` at `now`, scripts in `lang` (zh or en)."""
    mine = sorted(routes)
    rows = conn.execute(
        sa.select(tasks.c.id, tasks.c.ticket_id, tasks.c.customer_id, tasks.c.step,
                  tasks.c.channel, tasks.c.state, tasks.c.due_at, tasks.c.payload,
                  tickets.c.playbook)
        .join(tickets, tickets.c.id == tasks.c.ticket_id)
        .where(tasks.c.route.in_(mine), tasks.c.state.in_(ACTIONABLE))
        .order_by(tasks.c.due_at, tasks.c.id).limit(SHOWN)).all()
    grouped: dict[str, list[DeskTask]] = {}
    for row in rows:
        grouped.setdefault(row.customer_id, []).append(DeskTask(
            row.id, row.ticket_id, row.playbook, row.step, row.channel, row.state, row.due_at,
            (row.payload or {}).get("template")))
    records = load_customers(conn, config, list(grouped))
    customers = tuple(
        _customer(conn, config, library, records[cid], group, now, lang)
        for cid, group in grouped.items() if cid in records)
    return Desk(customers, len(rows), results_since(conn, mine, month_start(now, config)))


def _customer(conn: Connection, config: Config, library: Library, record: dict[str, Any],
              group: list[DeskTask], now: dt.datetime, lang: str) -> DeskCustomer:
    today = config.today(now)
    seen = facts(record, today, config.tiers, config.lifecycle)
    channel = group[0].channel
    points = view_service.talking_points(conn, config, library, record, channel, now, lang)
    end = record.get("contract_end")
    score = record.get("churn_score")
    return DeskCustomer(
        id=record["id"], name=record.get("name"), phone=record.get("phone"),
        tier=seen["tier"], stage=seen["stage"], contract_end=end,
        contract_days=(end - today).days if end is not None else None,
        churn_score=float(score) if score is not None else None, channel=channel,
        tasks=tuple(group),
        offers=tuple(TalkingPoint(o["offer"], o["title"], o["script"], o["rank"],
                                  o["source"]["ticket_id"], o["source"]["playbook"],
                                  o["source"]["step"]) for o in points["offers"]),
        control=tuple(c["ticket_id"] for c in points["control"]),
        history=tuple(points["trajectory"][:HISTORY]))


def month_start(now: dt.datetime, config: Config) -> dt.datetime:
    """The first of `now`'s month, midnight, in the configured timezone."""
    local = now.astimezone(config.timezone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def results_since(conn: Connection, mine: list[str], since: dt.datetime) -> Results:
    """How the routes' tasks stand since `since` (each task counted once, at its furthest
    result) and the ten newest."""
    counts: dict[str, int] = {state: int(n) for state, n in conn.execute(
        sa.select(tasks.c.state, sa.func.count())
        .where(tasks.c.route.in_(mine), tasks.c.result_at >= since)
        .group_by(tasks.c.state))}
    recent = conn.execute(
        sa.select(tasks.c.id, tasks.c.customer_id, tasks.c.state, tasks.c.result_at,
                  tasks.c.detail)
        .where(tasks.c.route.in_(mine), tasks.c.result_at >= since)
        .order_by(tasks.c.result_at.desc(), tasks.c.id.desc()).limit(10)).mappings().all()
    return Results(since, counts, sum(counts.values()), tuple(dict(r) for r in recent))
