"""The ticket service: what the HTTP API, the CLI and the scheduler call.

Each function works in the caller's transaction (a Connection from `engine.begin()`), takes
SQLite's write lock first (adapters.db.engines.begin_writes) when it writes, and returns JSON-ready
dicts. Every state change goes through engine.tickets.ticket.transition and
adapters.tickets.store.record_change, so each writes exactly one audit row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.db.engines import begin_writes
from adapters.db.schema import approvals, ticket_members, tickets
from adapters.evaluation import results as evaluation
from adapters.tasks.listing import TaskPage
from adapters.tasks.listing import task_page as task_page_of
from adapters.tasks.store import task_rows, task_shape
from adapters.tickets import due, execution, planning
from adapters.tickets.store import (
    approvals_of,
    audit_of,
    domain_ticket,
    planned_playbook,
    record_change,
    ticket_row,
    ticket_shape,
)
from adapters.tickets.sweep import sweep
from engine.config import Config
from engine.errors import Conflict, ValidationError
from engine.limits import MAX_ID
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook
from engine.playbooks.selection import Selection
from engine.playbooks.workflow import Workflow, ticket_facts
from engine.tickets import ticket as tk
from engine.tickets.users import User

TRIGGERS = ("schedule", "event", "contact", "manual")
# A ticket planned by hand holds a sweep's customers, but an event playbook's audience is
# judged against each customer's event: without one the sweep picks whoever the customer
# fields alone let through, and on a standing workflow the approved ticket would wait for
# events that go to the standing ticket instead, running nothing. So it is refused.
_EVENT_ONLY = ("playbook {id!r} is triggered by the event {event!r}: it runs from its events "
               "(on its standing ticket, or in the day's ticket of matched events), not on a "
               "ticket planned by hand")
_CONTACT_ONLY = ("playbook {id!r} is triggered by contacts on {channels}: customers enter its "
                 "standing ticket one contact at a time, not on a ticket planned by hand")


def plan(conn: Connection, config: Config, library: Library, playbook: Playbook,
         at: dt.datetime, trigger: str, planned_by: str,
         window_key: str | None = None,
         selection: Selection | None = None) -> dict[str, Any] | None:
    """Open a `planned` ticket for the playbook's selection at `at`; None when that window was
    already swept. The playbook's older planned ticket is superseded. `selection`: members
    chosen otherwise than by a sweep at `at` (a day's gathered event matches)."""
    if trigger not in TRIGGERS:
        raise ValidationError(f"expected one of {', '.join(TRIGGERS)}, got {trigger!r}",
                              field="trigger")
    if trigger == "manual" and playbook.trigger.event is not None:
        raise Conflict(_EVENT_ONLY.format(id=playbook.id, event=playbook.trigger.event))
    if trigger == "manual" and playbook.trigger.contact:
        raise Conflict(_CONTACT_ONLY.format(id=playbook.id,
                                            channels=", ".join(playbook.trigger.contact)))
    begin_writes(conn)
    key = window_key or at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if _swept(conn, playbook.id, key):
        return None
    workflow = _workflow(library, playbook.workflow)
    planning.register_version(conn, playbook, at, library.offers)
    if selection is None:
        selection = sweep(conn, playbook, config, at, planning.cooldown_ids(conn, playbook, at))
    facts = ticket_facts(len(selection.treatment),
                         planning.tiers_of(conn, config, selection.treatment),
                         {step.channel for step in playbook.steps}, playbook.id)
    opened = tk.Ticket(None, playbook.id, tk.NEW, planned_by, at, playbook.owner,
                       tk.required_levels(workflow, facts))
    rehearsal = planning.rehearsal(conn, config, playbook, selection, at,
                                   workflow.rehearsal_sample)
    try:
        with conn.begin_nested():  # a concurrent sweep of the same window wins cleanly
            _supersede(conn, playbook.id, planned_by, at)
            moved, record = tk.transition(opened, "plan", planned_by, "planner", at)
            ticket_id = record_change(
                conn, moved, record, playbook=playbook.id, version=playbook.version,
                playbook_hash=playbook.hash, workflow=workflow.id, trigger=trigger,
                window_key=key, planned_at=at, planned_by=planned_by, at=at,
                contact_class=playbook.contact_class,
                levels=[{"level": lv.level, "role": lv.role} for lv in moved.levels],
                deadline=tk.approval_deadline(moved, workflow.sla.approve),
                rehearsal=rehearsal)
            _members(conn, ticket_id, selection.treatment, selection.control,
                     selection.suppressed)
            if not selection.treatment and not workflow.standing:
                _close_empty(conn, dataclasses.replace(moved, id=ticket_id), rehearsal, at)
    except IntegrityError:
        if _swept(conn, playbook.id, key):
            return None
        raise
    return show(conn, ticket_id)


def _close_empty(conn: Connection, ticket: tk.Ticket, rehearsal: Mapping[str, Any],
                 at: dt.datetime) -> None:
    """Nobody to contact: end the ticket now rather than ask approvers to judge nothing."""
    reason = tk.empty_audience_reason(rehearsal["matched"], rehearsal["suppressed"])
    moved, record = tk.transition(ticket, "close_empty", tk.SYSTEM, tk.SYSTEM, at, reason)
    record_change(conn, moved, record, deadline=None)


def _swept(conn: Connection, playbook_id: str, key: str) -> bool:
    return conn.execute(sa.select(tickets.c.id).where(
        tickets.c.playbook == playbook_id, tickets.c.window_key == key)).first() is not None


def _workflow(library: Library, name: str) -> Workflow:
    workflow = library.workflows.get(name)
    if workflow is None:
        raise Conflict(f"workflow {name!r} is not in the library")
    return workflow


def _supersede(conn: Connection, playbook_id: str, actor: str, at: dt.datetime) -> None:
    """A playbook has at most one planned ticket: the newest plan is the one to judge."""
    rows = conn.execute(sa.select(tickets).where(tickets.c.playbook == playbook_id,
                                                 tickets.c.state == "planned")).all()
    decided = approvals_of(conn, [row.id for row in rows])
    for row in rows:
        moved, record = tk.transition(domain_ticket(row, decided[row.id], None), "supersede",
                                      actor, "planner", at, tk.SUPERSEDED)
        record_change(conn, moved, record, deadline=None)


def _members(conn: Connection, ticket_id: int, treatment: tuple[str, ...],
             control: tuple[str, ...], suppressed: Mapping[str, tuple[str, ...]]) -> None:
    rows = [{"ticket_id": ticket_id, "customer_id": cid, "grp": "treatment", "reason": None}
            for cid in treatment]
    rows += [{"ticket_id": ticket_id, "customer_id": cid, "grp": "control", "reason": None}
             for cid in control]
    rows += [{"ticket_id": ticket_id, "customer_id": cid, "grp": "suppressed", "reason": reason}
             for reason, ids in suppressed.items() for cid in ids]
    if rows:
        conn.execute(ticket_members.insert(), rows)


def approve(conn: Connection, config: Config, library: Library, ticket_id: int, user: User,
            comment: str | None, now: dt.datetime, level: int | None = None) -> dict[str, Any]:
    """One level's approval; the last one starts execution at once. The ticket comes back with
    `repeat: true` when this person had already approved (nothing was written)."""
    return _decide(conn, config, library, ticket_id, user, True, comment, now, level)


def reject(conn: Connection, config: Config, library: Library, ticket_id: int, user: User,
           reason: str, now: dt.datetime, level: int | None = None) -> dict[str, Any]:
    if not reason or not reason.strip():
        raise ValidationError("a rejection says why", field="reason")
    return _decide(conn, config, library, ticket_id, user, False, reason, now, level)


def _decide(conn: Connection, config: Config, library: Library, ticket_id: int, user: User,
            approve: bool, comment: str | None, now: dt.datetime,
            level: int | None) -> dict[str, Any]:
    begin_writes(conn)
    row = ticket_row(conn, ticket_id, lock=True)
    playbook = planned_playbook(conn, config, library, row)
    ticket = domain_ticket(row, approvals_of(conn, [ticket_id])[ticket_id], playbook.owner,
                           config.owners(playbook.owner))
    moved, approval, record = tk.decide(ticket, user, approve, comment, now, level)
    if record is None:
        return {**show(conn, ticket_id), "repeat": True}
    conn.execute(approvals.insert().values(
        ticket_id=ticket_id, level=approval.level, role=approval.role, by=approval.by,
        decision=approval.decision, comment=approval.comment, at=approval.at))
    workflow = _workflow(library, row.workflow)
    waiting = moved.state == "planned"
    record_change(conn, moved, record,
                  deadline=tk.approval_deadline(moved, workflow.sla.approve) if waiting
                  else None)
    if moved.state == "approved":
        _start(conn, config, playbook, workflow, moved, now)
    return {**show(conn, ticket_id), "repeat": False}


def _start(conn: Connection, config: Config, playbook: Playbook, workflow: Workflow,
           ticket: tk.Ticket, now: dt.datetime) -> None:
    assert ticket.id is not None
    moved, record = tk.transition(ticket, "start", tk.SYSTEM, tk.SYSTEM, now)
    if workflow.standing:
        # Its snapshot was a rehearsal: customers enter as their events arrive
        # (adapters/tickets/standing.py), and it runs until a new version replaces it.
        record_change(conn, moved, record, started_at=now, evaluate_after=None, deadline=None)
        return
    due = execution.start(conn, config, playbook, ticket.id, now)
    within = playbook.goal.within if playbook.goal else None
    record_change(conn, moved, record, started_at=now,
                  evaluate_after=tk.evaluation_time(now, within, due),
                  deadline=tk.execution_deadline(now, due, workflow.sla.execute))


def cancel(conn: Connection, config: Config, library: Library, ticket_id: int, user: User,
           reason: str, now: dt.datetime) -> dict[str, Any]:
    """Stop a ticket; an executing ticket's unreported tasks are cancelled with it."""
    if not reason or not reason.strip():
        raise ValidationError("a cancellation says why", field="reason")
    begin_writes(conn)
    row = ticket_row(conn, ticket_id, lock=True)
    ticket = domain_ticket(row, approvals_of(conn, [ticket_id])[ticket_id], None)
    moved, record = tk.cancel(ticket, user, reason, now)
    if row.state == "executing":
        execution.cancel_tasks(conn, ticket_id, now)
    record_change(conn, moved, record, deadline=None)
    return show(conn, ticket_id)


def advance(conn: Connection, config: Config, library: Library, now: dt.datetime) -> list[int]:
    """Tickets whose time has come: executing → evaluating → closed with results stored."""
    begin_writes(conn)
    due = conn.execute(sa.select(tickets).where(tickets.c.state == "executing",
                                                tickets.c.evaluate_after <= now)
                       .order_by(tickets.c.id)).all()
    changed = []
    for row in due:
        playbook = planned_playbook(conn, config, library, row)
        ticket = domain_ticket(row, approvals_of(conn, [row.id])[row.id], playbook.owner)
        moved, record = tk.transition(ticket, "evaluate", tk.SYSTEM, tk.SYSTEM, now)
        record_change(conn, moved, record, deadline=None)
        results = evaluation.results(conn, config, playbook, row.id, now)
        moved, record = tk.transition(moved, "close", tk.SYSTEM, tk.SYSTEM, now)
        record_change(conn, moved, record, results=results, closed_at=now)
        changed.append(row.id)
    return changed


def show(conn: Connection, ticket_id: int) -> dict[str, Any]:
    """The ticket (DESIGN §7 shape) with its rehearsal, audit trail and results."""
    row = ticket_row(conn, ticket_id)
    shape = ticket_shape(row, approvals_of(conn, [ticket_id])[ticket_id])
    shape.update(rehearsal=row.rehearsal, audit=audit_of(conn, ticket_id), results=row.results)
    return shape


def listing(conn: Connection, *, state: str | None = None, playbook: str | None = None,
            overdue: bool = False, now: dt.datetime, cursor: str | None,
            limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Tickets newest first; `cursor` is the last id of the previous page."""
    if state is not None and state not in tk.STATES:
        raise ValidationError(f"expected one of {', '.join(tk.STATES)}, got {state!r}",
                              field="state")
    if limit < 1:
        raise ValidationError(f"expected 1 or more, got {limit}", field="limit")
    query = sa.select(tickets).order_by(tickets.c.id.desc()).limit(limit + 1)
    if cursor is not None:
        if not (cursor.isascii() and cursor.isdigit() and int(cursor) <= MAX_ID):
            raise ValidationError(f"expected a cursor from a previous page, "
                                  f"got {cursor!r}", field="cursor")
        query = query.where(tickets.c.id < int(cursor))
    if state is not None:
        query = query.where(tickets.c.state == state)
    if playbook is not None:
        query = query.where(tickets.c.playbook == playbook)
    if overdue:
        query = query.where(tickets.c.state.in_(tk.OPEN_STATES), tickets.c.deadline < now)
    rows = conn.execute(query).all()
    page = rows[:limit]
    decided = approvals_of(conn, [row.id for row in page])
    items = [ticket_shape(row, decided[row.id]) for row in page]
    return items, str(page[-1].id) if len(rows) > limit else None


def tasks(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
    ticket_row(conn, ticket_id)  # NotFound for an unknown ticket, not an empty list
    return [task_shape(row) for row in task_rows(conn, ticket_id)]


def task_page(conn: Connection, ticket_id: int, *, state: str | None, after: int | None,
              limit: int) -> TaskPage:
    """The ticket's tasks in id order, a page at a time (a ticket may have millions);
    NotFound for an unknown ticket, not an empty page."""
    ticket_row(conn, ticket_id)
    return task_page_of(conn, ticket_id=ticket_id, state=state, after=after, limit=limit)


def sweep_all(conn: Connection, config: Config, library: Library,
              at: dt.datetime) -> list[dict[str, Any]]:
    """Sweep at `at` every scheduled playbook whose latest fire at or before `at` has no
    ticket yet (adapters/tickets/due.py), in id order; the tickets it opened. A window swept before
    is
    not planned again, however often this runs and at whatever instant inside the window."""
    opened = []
    for window in due.due(conn, config, library, at):
        ticket = plan(conn, config, library, window.playbook, at, "schedule", tk.SYSTEM,
                      window_key=window.key)
        if ticket is not None:
            opened.append(ticket)
    return opened
