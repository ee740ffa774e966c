"""What the inbox shows: tickets awaiting the reader's level, their own plans, recent
decisions, and every ticket filtered by playbook, state and tier, a page at a time.

Reads only, and no SQL: the lists come from the ticket service
(`adapters.tickets.service.listing`) and `adapters.tickets.queries` (a person's plans, recent
decisions, a ticket's tiers by the function that gave it its approval levels).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Connection

from adapters.http.console.access import permitted
from adapters.http.state import State
from adapters.tickets import card as approval
from adapters.tickets import queries
from adapters.tickets import service as tickets
from adapters.tickets.store import approvals_of, domain_ticket, planned_playbook, ticket_row
from engine.config import Config
from engine.errors import TendError
from engine.tickets import ticket as tk
from engine.tickets.users import User

PAGE = 20
RECENT = 8
PLANNED_AT_MOST = 1000  # a playbook has at most one planned ticket: this is every one


def may(conn: Connection, st: State, ticket_id: int, user: User) -> dict[str, bool]:
    """What the user may do to the ticket now: the role table first, then the engine's own
    rules (`engine.tickets.ticket.decide` and `cancel`, pure functions) run without writing."""
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
    """Planned tickets whose next level this user may decide, ranked: overdue first, then
    by deadline, then the larger audience first; each with its approval card (without the
    overlap) for the row's trigger, channels, cost and why it needs this level."""
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
            item["card"] = approval.card(conn, st.config, st.library, item["id"], full=False)
            item["why"] = next((lv for lv in (item["card"] or {}).get("levels", ())
                                if lv["level"] == item["next_level"]), None)
            mine.append(item)
    return sorted(mine, key=lambda t: (not t["overdue"], t["deadline"] or "~",
                                       -t["audience"]["treatment"], t["id"]))


def browse(conn: Connection, config: Config, *, state: str | None, playbook: str | None,
           tier: str | None, cursor: str | None,
           now: dt.datetime) -> tuple[list[dict[str, Any]], str | None]:
    """One page of tickets, newest first; the cursor is the last id looked at."""
    found: list[dict[str, Any]] = []
    while True:
        items, cursor = tickets.listing(conn, state=state, playbook=playbook, now=now,
                                        cursor=cursor, limit=PAGE)
        found += [t for t in items
                  if tier is None or tier in queries.treatment_tiers(conn, config, t["id"])]
        if len(found) >= PAGE or cursor is None:
            break
    if len(found) > PAGE:
        return found[:PAGE], str(found[PAGE - 1]["id"])
    return found, cursor
