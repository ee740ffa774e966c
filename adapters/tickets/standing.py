"""Standing tickets: an event that matches an approved event-triggered playbook enters its
customer at once, inside the request that delivered the event.

A standing ticket is approved once per playbook version (its rehearsal replays the last days
of events, and approving it contacts nobody); from then on every match is one entry, and for a
treatment customer one task per eligible step. A match that enters nobody says why: no
approved ticket for this version, cooldown, opted out, or the control group. The matches of
a playbook whose workflow is not standing are gathered for its daily ticket instead
(adapters/tickets/daily.py).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import decode_list, insert_rows, load_customers, one_of
from adapters.db.schema import customers, entries, tasks, tickets
from adapters.tasks import contact_policy
from adapters.tasks import timing as step_timing
from adapters.tasks.store import task_shape
from adapters.tickets import daily as event_matches
from adapters.tickets import execution
from adapters.tickets.planning import cooldown_ids
from engine.compilers.rules import Matcher
from engine.config import Config
from engine.event import Event, StoredEvent
from engine.language.customer import facts
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook
from engine.playbooks.selection import global_share, in_control, in_global_control
from engine.playbooks.triggers import EventVerdict, Triggers

TASK_COLUMNS = ("id", "entry_id", "ticket_id", "customer_id", "step", "channel", "route",
                "state", "idempotency_key", "due_at", "payload", "created_at", "updated_at")
_matcher: Matcher | None = None
_lock = threading.Lock()


def process_matcher() -> Matcher:
    """One durable-rules host per process: each starts timer threads that never stop."""
    global _matcher
    with _lock:
        if _matcher is None:
            _matcher = Matcher()
        return _matcher


@dataclass(frozen=True)
class Matched:
    """A batch matched before it is stored: the customers its triggering events name (the
    ids looked up, and the records of those found), and each such event's outcomes by its
    position in the batch."""

    looked_up: frozenset[str]
    customers: dict[str, dict[str, Any]]
    outcomes: dict[int, list[EventVerdict]]


def match(conn: Connection, config: Config, triggers: Triggers, batch: Sequence[Event],
          now: dt.datetime) -> Matched:
    """Match every event of `batch` that some playbook triggers on. It only reads, so
    `POST /events` runs it before taking the write lock: the matching of one request then
    overlaps the writes of another instead of queueing behind them."""
    triggering = [(i, e) for i, e in enumerate(batch) if e.type in triggers.by_type]
    wanted = sorted({e.customer_id for _, e in triggering})
    reads = triggers.reads({e.type for _, e in triggering})
    customers = _lean_records(conn, config, wanted, reads)
    outcomes = {}
    for index, event in triggering:
        shape = {"id": event.id, "type": event.type, "customer_id": event.customer_id,
                 "at": event.at, "data": event.data}
        outcomes[index] = triggers.outcomes(shape, customers.get(event.customer_id), now)
    hits = sorted({event.customer_id for index, event in triggering
                   if any(o.matched for o in outcomes[index])})
    customers.update(load_customers(conn, config, hits))  # whole records for the tasks
    for index, event in triggering:
        if event.customer_id in hits and event.customer_id not in customers:  # gone meanwhile
            outcomes[index] = [EventVerdict(o.playbook, o.version, False, "unknown customer")
                               for o in outcomes[index]]
    return Matched(frozenset(wanted), customers, outcomes)


_SOURCES = {"tier": "arpu", "tenure_days": "joined_on", "days_to_birthday": "birthday"}


def _lean_records(conn: Connection, config: Config, ids: list[str],
                  reads: frozenset[str]) -> dict[str, dict[str, Any]]:
    """Records of `ids` with only the columns the facts `reads` come from: decoding whole
    records cost as much as matching them. The stage and attributes take whole records."""
    if any(field == "stage" or field.startswith("attr.") for field in reads):
        return load_customers(conn, config, ids)
    columns = sorted({"id"} | {_SOURCES.get(field, field) for field in reads})
    query = sa.select(*(customers.c[name] for name in columns)).where(
        one_of(conn, customers.c.id, ids))
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(query).all():  # fetchall: psycopg fetches one by one slowly
        record = dict(zip(columns, row, strict=True))
        for name in ("tags", "opt_out"):
            if name in record:
                record[name] = decode_list(record[name])
        found[record["id"]] = record
    return found


def on_events(conn: Connection, config: Config, library: Library, triggers: Triggers,
              stored: Sequence[StoredEvent], now: dt.datetime,
              matched: Matched | None = None) -> list[dict[str, Any]]:
    """Every trigger outcome of these newly stored events, tasks included.

    `matched`: the outcomes of the batch they were stored from (`match`, by `StoredEvent.index`);
    without it they are matched here. An event whose customer appeared or vanished between
    matching and storing is matched again, so its outcome agrees with `known_customer`.

    Events that reach a playbook's goal first close the customer's open tasks of it
    (adapters.tasks.timing.close_on_goal). The matches of a whole batch are admitted
    together: one cooldown query per playbook, one insert of entries and one of tasks, so a
    large batch costs a few statements, not a few per event.
    """
    step_timing.close_on_goal(conn, {p.goal.event for p in library.playbooks.values() if p.goal},
                              stored, now)
    if matched is None:
        matched = match(conn, config, triggers, [s.event for s in stored], now)
        positions = list(range(len(stored)))
    else:
        positions = [s.index for s in stored]
        moved = [(p, s) for p, s in zip(positions, stored, strict=True)
                 if p in matched.outcomes
                 and (s.event.customer_id in matched.customers) != s.known_customer]
        if moved:
            again = match(conn, config, triggers, [s.event for _, s in moved], now)
            matched.customers.update(again.customers)
            for (position, _), outcomes in zip(moved, again.outcomes.values(), strict=True):
                matched.outcomes[position] = outcomes
    report: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for position, item in zip(positions, stored, strict=True):
        event = item.event
        for outcome in matched.outcomes.get(position, ()):
            line: dict[str, Any] = {"event": event.id, "seq": item.seq,
                                    "customer_id": event.customer_id,
                                    "playbook": outcome.playbook, "version": outcome.version,
                                    "tasks": [], "reason": outcome.reason}
            report.append(line)
            if outcome.matched:
                lines.append(line)
    daily = [line for line in lines
             if event_matches.gathers(library, library.playbooks[line["playbook"]])]
    if daily:
        event_matches.gather(conn, config, daily, now)
    gathered = {id(line) for line in daily}
    entering = [line for line in lines if id(line) not in gathered]
    if entering:
        admit(conn, config, library, entering, matched.customers, now)
    return report


def admit(conn: Connection, config: Config, library: Library, matched: list[dict[str, Any]],
          customers: dict[str, dict[str, Any]], now: dt.datetime) -> None:
    """Enter matched customers into their playbooks' executing standing tickets, in order:
    each line (`{"playbook", "customer_id", ...}`, of an event or of a contact,
    adapters/tickets/contact.py) gets its `reason` (None: entered), `ticket` and `tasks`."""
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
        elif in_global_control(cid, global_share(config.global_control, playbook.contact_class)):
            line["reason"] = "global_control"
        else:
            blocked[playbook.id].add(cid)
            group = "control" if in_control(playbook.id, cid, playbook.holdout) else "treatment"
            line["ticket"] = ticket_id
            entering.append((line, playbook, {
                "playbook": playbook.id, "customer_id": cid, "ticket_id": ticket_id,
                "grp": group, "entered_at": now,
                "variant": execution.entry_variant(playbook, cid, group)}))
    if not entering:
        return
    made_entries = insert_rows(conn, entries, [row for _, _, row in entering],
                               ("id", "playbook", "customer_id"))
    entry_of = {(row.playbook, row.customer_id): row.id for row in made_entries}
    entry_ids = [entry_of[entry["playbook"], entry["customer_id"]] for _, _, entry in entering]
    today = config.today(now)
    rows = []
    for (line, playbook, entry), entry_id in zip(entering, entry_ids, strict=True):
        if entry["grp"] == "control":
            line["reason"] = "control group"
            continue
        customer = customers[entry["customer_id"]]
        seen = (facts(customer, today, config.tiers, config.lifecycle)
                if any(step.when for step in playbook.steps) else {})
        made = [execution.task_row(entry["ticket_id"], entry_id, customer, playbook, step, now)
                for step in execution.steps_for(playbook, entry["customer_id"])
                if execution.eligible(step, customer, seen, today)]
        if not made:
            line["reason"] = "no step applies"
        line["entry"] = entry_id
        rows.extend(made)
    by_entry: dict[int, list[dict[str, Any]]] = {}
    # One playbook's tasks at a time, in the order its first event came, each stored before
    # the next playbook's are judged: the policy then sees the batch's earlier tasks as it
    # would have seen them had each event come in its own request, so one batch arbitrates
    # (and caps) exactly as separate requests do.
    for ticket_id in dict.fromkeys(entry["ticket_id"] for _, _, entry in entering):
        mine = [row for row in rows if row["ticket_id"] == ticket_id]
        playbook = next(p for _, p, e in entering if e["ticket_id"] == ticket_id)
        contact_policy.admit(conn, config.policy, playbook.id, mine, now,
                             playbook.contact_class)
        if mine:
            for row in sorted(insert_rows(conn, tasks, mine, TASK_COLUMNS), key=lambda r: r.id):
                by_entry.setdefault(row.entry_id, []).append(task_shape(row))
    for line, _, _ in entering:
        line["tasks"] = by_entry.pop(line.pop("entry", -1), [])


def _standing_ticket(conn: Connection, playbook: Playbook) -> int | None:
    ticket_id: int | None = conn.scalar(sa.select(tickets.c.id).where(
        tickets.c.playbook == playbook.id, tickets.c.version == playbook.version,
        tickets.c.state == "executing").order_by(tickets.c.id.desc()).limit(1))
    return ticket_id
