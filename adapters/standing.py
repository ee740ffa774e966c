"""Standing tickets: an event that matches an approved event-triggered playbook enters its
customer at once, inside the request that delivered the event.

A standing ticket is approved once per playbook version (its rehearsal replays the last days
of events, and approving it contacts nobody); from then on every match is one entry, and for a
treatment customer one task per eligible step. A match that enters nobody says why: no
approved ticket for this version, cooldown, opted out, or the control group.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters import execution
from adapters.db import entries, load_customers, tasks, tickets
from adapters.event_import import StoredEvent
from adapters.planning import cooldown_ids
from adapters.ticket_store import task_shape
from engine.config import Config
from engine.customer import facts
from engine.library import Library
from engine.playbook import Playbook
from engine.rules import Matcher
from engine.selection import in_control
from engine.triggers import Triggers

_matcher: Matcher | None = None
_lock = threading.Lock()


def process_matcher() -> Matcher:
    """One durable-rules host per process: each starts timer threads that never stop."""
    global _matcher
    with _lock:
        if _matcher is None:
            _matcher = Matcher()
        return _matcher


def on_events(conn: Connection, config: Config, library: Library, triggers: Triggers,
              stored: Sequence[StoredEvent], now: dt.datetime) -> list[dict[str, Any]]:
    """Every trigger outcome of these newly stored events, tasks included."""
    customers = load_customers(conn, config, sorted({s.event.customer_id for s in stored}))
    report: list[dict[str, Any]] = []
    for item in stored:
        event = item.event
        shape = {"id": event.id, "type": event.type, "customer_id": event.customer_id,
                 "at": event.at, "data": event.data}
        customer = customers.get(event.customer_id)
        for outcome in triggers.outcomes(shape, customer, now):
            entry: dict[str, Any] = {"event": event.id, "seq": item.seq,
                                     "customer_id": event.customer_id,
                                     "playbook": outcome.playbook, "version": outcome.version,
                                     "tasks": [], "reason": outcome.reason}
            if outcome.matched and customer is not None:
                playbook = library.playbooks[outcome.playbook]
                entry.update(admit(conn, config, playbook, customer, now))
            report.append(entry)
    return report


def admit(conn: Connection, config: Config, playbook: Playbook, customer: dict[str, Any],
          now: dt.datetime) -> dict[str, Any]:
    """Enter one matched customer into the playbook's executing standing ticket."""
    ticket_id = conn.scalar(sa.select(tickets.c.id).where(
        tickets.c.playbook == playbook.id, tickets.c.version == playbook.version,
        tickets.c.state == "executing").order_by(tickets.c.id.desc()).limit(1))
    cid = customer["id"]
    if ticket_id is None:
        return {"reason": f"no approved standing ticket for version {playbook.version}"}
    if cid in cooldown_ids(conn, playbook, now, [cid]):
        return {"reason": "cooldown"}
    if "all" in (customer.get("opt_out") or ()):
        return {"reason": "opted_out"}
    group = "control" if in_control(playbook.id, cid, playbook.holdout) else "treatment"
    entry_id = conn.execute(entries.insert().values(
        playbook=playbook.id, customer_id=cid, ticket_id=ticket_id, grp=group, entered_at=now,
    ).returning(entries.c.id)).scalar_one()
    if group == "control":
        return {"ticket": ticket_id, "reason": "control group"}
    today = config.today(now)
    seen = facts(customer, today, config.tiers, config.lifecycle)
    rows = [execution.task_row(ticket_id, entry_id, customer, step, now)
            for step in playbook.steps if execution.eligible(step, customer, seen, today)]
    if not rows:
        return {"ticket": ticket_id, "reason": "no step applies"}
    conn.execute(tasks.insert(), rows)
    made = conn.execute(sa.select(tasks).where(tasks.c.entry_id == entry_id)
                        .order_by(tasks.c.id)).all()
    return {"ticket": ticket_id, "tasks": [task_shape(row) for row in made], "reason": None}
