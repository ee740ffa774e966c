"""What the inbox shows: tickets awaiting the reader's level, their own plans, recent
decisions, and every ticket filtered by playbook, state and tier, a page at a time.

Reads only; the lists come from the ticket service (`adapters.tickets.service.listing`) and the
ticket store's shapes, and a ticket's tiers from `adapters.tickets.planning.tiers_of`, the same
function that gave the ticket its approval levels.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import approvals, ticket_members
from adapters.db.schema import tickets as ticket_table
from adapters.http.console.access import permitted
from adapters.http.state import State
from adapters.tickets import service as tickets
from adapters.tickets.planning import tiers_of
from adapters.tickets.store import (
    approvals_of,
    domain_ticket,
    planned_playbook,
    ticket_row,
    ticket_shape,
)
from engine import ticket as tk
from engine.config import Config
from engine.errors import TendError
from engine.users import User

PAGE = 20
RECENT = 8
PLANNED_AT_MOST = 1000  # a playbook has at most one planned ticket: this is every one


def may(conn: Connection, st: State, ticket_id: int, user: User) -> dict[str, bool]:
    """What the user may do to the ticket now: the role table first, then the engine's own
    rules (`engine.ticket.decide` and `cancel`, pure functions) run without writing."""
    row = ticket_row(conn, ticket_id)
    try:
        owner = planned_playbook(conn, st.config, st.library, row).owner
    except TendError:
        owner = None
    ticket = domain_ticket(row, approvals_of(conn, [ticket_id])[ticket_id], owner,
                           st.config.owners(owner))
    now = st.now()
    return {"decide": permitted(user, "approve") and _decides(ticket, user, now),
            "cancel": permitted(user, "cancel") and _allowed(tk.cancel, ticket, user, "", now)}


def _decides(ticket: tk.Ticket, user: User, now: dt.datetime) -> bool:
    """Whether approving now would decide a level: a person who already decided one gets no
    button (their repeat would change nothing)."""
    try:
        return tk.decide(ticket, user, True, None, now)[2] is not None
    except TendError:
        return False


def _allowed(rule: Any, *args: Any) -> bool:
    try:
        rule(*args)
    except TendError:
        return False
    return True


def awaiting(conn: Connection, st: State, user: User,
             now: dt.datetime) -> list[dict[str, Any]]:
    """Planned tickets whose next level this user may decide, overdue first, then by
    deadline."""
    planned, _ = tickets.listing(conn, state="planned", now=now, cursor=None,
                                 limit=PLANNED_AT_MOST)
    mine = []
    for item in planned:
        level = next((lv for lv in item["levels"] if lv["level"] == item["next_level"]), None)
        if level is not None and level["role"] in user.roles and \
                may(conn, st, item["id"], user)["decide"]:
            item["overdue"] = bool(item["deadline"]) and (
                dt.datetime.fromisoformat(item["deadline"]) < now)
            item["waiting_role"] = level["role"]
            mine.append(item)
    return sorted(mine, key=lambda t: (not t["overdue"], t["deadline"] or "", t["id"]))


def planned_by(conn: Connection, name: str) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(ticket_table).where(ticket_table.c.planned_by == name)
                        .order_by(ticket_table.c.id.desc()).limit(RECENT)).all()
    decided = approvals_of(conn, [row.id for row in rows])
    return [ticket_shape(row, decided[row.id]) for row in rows]


def recent_decisions(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(approvals, ticket_table.c.playbook, ticket_table.c.version)
        .join(ticket_table, ticket_table.c.id == approvals.c.ticket_id)
        .order_by(approvals.c.at.desc()).limit(RECENT)).mappings().all()
    return [dict(row) for row in rows]


def ticket_tiers(conn: Connection, config: Config, ticket_id: int) -> set[str]:
    ids = list(conn.scalars(sa.select(ticket_members.c.customer_id).where(
        ticket_members.c.ticket_id == ticket_id, ticket_members.c.grp == "treatment")))
    return tiers_of(conn, config, ids)


def browse(conn: Connection, config: Config, *, state: str | None, playbook: str | None,
           tier: str | None, cursor: str | None,
           now: dt.datetime) -> tuple[list[dict[str, Any]], str | None]:
    """One page of tickets, newest first; the cursor is the last id looked at."""
    found: list[dict[str, Any]] = []
    while True:
        items, cursor = tickets.listing(conn, state=state, playbook=playbook, now=now,
                                        cursor=cursor, limit=PAGE)
        found += [t for t in items if tier is None or tier in ticket_tiers(conn, config, t["id"])]
        if len(found) >= PAGE or cursor is None:
            break
    if len(found) > PAGE:
        return found[:PAGE], str(found[PAGE - 1]["id"])
    return found, cursor


def playbooks_with_tickets(conn: Connection) -> list[str]:
    return list(conn.scalars(sa.select(ticket_table.c.playbook).distinct()
                             .order_by(ticket_table.c.playbook)))
