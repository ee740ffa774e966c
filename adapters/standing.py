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
    """Every trigger outcome of these newly stored events, tasks included.

    The matches of a whole batch are admitted together: one cooldown query per playbook, one
    insert of entries and one of tasks, so a large batch costs a few statements, not a few
    per event.
    """
    customers = load_customers(conn, config, sorted({s.event.customer_id for s in stored}))
    today = config.today(now)
    known = {cid: facts(c, today, config.tiers, config.lifecycle) for cid, c in customers.items()}
    report: list[dict[str, Any]] = []
    matched: list[dict[str, Any]] = []
    for item in stored:
        event = item.event
        shape = {"id": event.id, "type": event.type, "customer_id": event.customer_id,
                 "at": event.at, "data": event.data}
        for outcome in triggers.outcomes(shape, customers.get(event.customer_id), now,
                                         known.get(event.customer_id)):
            line: dict[str, Any] = {"event": event.id, "seq": item.seq,
                                    "customer_id": event.customer_id,
                                    "playbook": outcome.playbook, "version": outcome.version,
                                    "tasks": [], "reason": outcome.reason}
            report.append(line)
            if outcome.matched:
                matched.append(line)
    if matched:
        _admit(conn, config, library, matched, customers, known, now)
    return report


def _admit(conn: Connection, config: Config, library: Library, matched: list[dict[str, Any]],
           customers: dict[str, dict[str, Any]], known: dict[str, dict[str, Any]],
           now: dt.datetime) -> None:
    """Enter matched customers into their playbooks' executing standing tickets, in order."""
    entering: list[tuple[dict[str, Any], Playbook, dict[str, Any]]] = []
    blocked: dict[str, set[str]] = {}
    standing: dict[str, int | None] = {}
    for line in matched:
        playbook = library.playbooks[line["playbook"]]
        cid = line["customer_id"]
        if playbook.id not in blocked:
            ids = sorted({m["customer_id"] for m in matched if m["playbook"] == playbook.id})
            blocked[playbook.id] = set(cooldown_ids(conn, playbook, now, ids))
            standing[playbook.id] = _standing_ticket(conn, playbook)
        ticket_id = standing[playbook.id]
        if ticket_id is None:
            line["reason"] = f"no approved standing ticket for version {playbook.version}"
        elif cid in blocked[playbook.id]:
            line["reason"] = "cooldown"
        elif "all" in (customers[cid].get("opt_out") or ()):
            line["reason"] = "opted_out"
        else:
            blocked[playbook.id].add(cid)
            group = "control" if in_control(playbook.id, cid, playbook.holdout) else "treatment"
            line["ticket"] = ticket_id
            entering.append((line, playbook, {
                "playbook": playbook.id, "customer_id": cid, "ticket_id": ticket_id,
                "grp": group, "entered_at": now}))
    if not entering:
        return
    entry_ids = conn.execute(entries.insert().returning(entries.c.id, sort_by_parameter_order=True),
                             [row for _, _, row in entering]).scalars().all()
    today = config.today(now)
    rows = []
    for (line, playbook, entry), entry_id in zip(entering, entry_ids, strict=True):
        if entry["grp"] == "control":
            line["reason"] = "control group"
            continue
        customer = customers[entry["customer_id"]]
        made = [execution.task_row(entry["ticket_id"], entry_id, customer, step, now)
                for step in playbook.steps
                if execution.eligible(step, customer, known[entry["customer_id"]], today)]
        if not made:
            line["reason"] = "no step applies"
        line["entry"] = entry_id
        rows.extend(made)
    if rows:
        conn.execute(tasks.insert(), rows)
        by_entry: dict[int, list[dict[str, Any]]] = {}
        for row in conn.execute(sa.select(tasks).where(tasks.c.entry_id.in_(entry_ids))
                                .order_by(tasks.c.id)):
            by_entry.setdefault(row.entry_id, []).append(task_shape(row))
        for line, _, _ in entering:
            line["tasks"] = by_entry.pop(line.pop("entry", -1), [])
    for line, _, _ in entering:
        line.pop("entry", None)


def _standing_ticket(conn: Connection, playbook: Playbook) -> int | None:
    ticket_id: int | None = conn.scalar(sa.select(tickets.c.id).where(
        tickets.c.playbook == playbook.id, tickets.c.version == playbook.version,
        tickets.c.state == "executing").order_by(tickets.c.id.desc()).limit(1))
    return ticket_id
