"""A ticket run to its end on a real database, for the tests of results, reports and history:
churned gold customers, a win-back sweep, one approval, adapter results on some tasks, goal
events for a share of each group, and the goal window driven past its end."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.db.schema import customers, entries, events, playbook_versions, tasks, tickets
from adapters.tickets import service
from engine.config import Config
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook
from engine.tickets.users import User

AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
LEAD = User("bob", frozenset({"campaign_lead"}))
CHURNED = dt.date(2026, 10, 1)


def seed_customers(engine: Engine, n: int, prefix: str = "c") -> list[str]:
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": f"name {cid}", "joined_on": dt.date(2019, 1, 1),
             "arpu": 350.0 if i % 5 == 0 else 200.0, "churned_on": CHURNED,
             "manager": f"m{i % 3}", "updated_at": AT} for i, cid in enumerate(ids)])
    return ids


def standing_ticket(conn: Any, playbook: Playbook, ticket_id: int, at: dt.datetime) -> None:
    """An executing standing ticket of an event playbook, opened by the scheduler at `at`,
    with the playbook's version stored: what entries of a standing ticket hang on."""
    conn.execute(playbook_versions.insert().values(
        playbook=playbook.id, version=playbook.version, hash=playbook.hash,
        text=playbook.text, loaded_at=at))
    conn.execute(tickets.insert().values(
        id=ticket_id, playbook=playbook.id, version=playbook.version,
        playbook_hash=playbook.hash, workflow="alerts", state="executing", trigger="event",
        window_key=f"standing:v{playbook.version}", planned_at=at, planned_by="scheduler",
        at=at, levels=[], started_at=at))


def run_ticket(engine: Engine, config: Config, library: Library, at: dt.datetime = AT,
               treated_share: float = 0.3, control_share: float = 0.1,
               close: bool = True) -> int:
    """Plan, approve and (with `close`) evaluate a win-back ticket at `at`; returns its id."""
    with engine.begin() as conn:
        opened = [t for t in service.sweep_all(conn, config, library, at)
                  if t["playbook"] == "winback"]
        ticket_id = opened[0]["id"]
        service.approve(conn, config, library, ticket_id, LEAD, "ok", at)
        members = conn.execute(sa.select(entries.c.customer_id, entries.c.grp)
                               .where(entries.c.ticket_id == ticket_id)
                               .order_by(entries.c.customer_id)).all()
        treated = [c for c, g in members if g == "treatment"]
        control = [c for c, g in members if g == "control"]
        won = treated[:round(len(treated) * treated_share)]
        won += control[:round(len(control) * control_share)]
        if won:
            conn.execute(events.insert(), [
                {"id": f"t{ticket_id}-{cid}", "customer_id": cid, "type": "plan_reactivated",
                 "at": at + dt.timedelta(days=1 + i % 20), "data": None,
                 "known_customer": True, "received_at": at} for i, cid in enumerate(won)])
        _results(conn, ticket_id, at)
        if close:
            service.advance(conn, config, library, at + dt.timedelta(days=40))
    return int(ticket_id)


def _results(conn: Any, ticket_id: int, at: dt.datetime) -> None:
    """Adapters' words on the tasks: sms mostly delivered, calls connected or accepted."""
    rows = conn.execute(sa.select(tasks.c.id, tasks.c.step).where(tasks.c.ticket_id == ticket_id)
                        .order_by(tasks.c.id)).all()
    outcomes = {"sms": ["delivered", "delivered", "failed", "delivered", "pending"],
                "call": ["connected", "accepted", "no_answer", "converted"]}
    for i, (task_id, step) in enumerate(rows):
        choices = outcomes.get(step, ["delivered"])
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(
            state=choices[i % len(choices)], updated_at=at))
