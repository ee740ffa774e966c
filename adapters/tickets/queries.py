"""Reads of tickets that the console's inbox and the metrics list: who planned what, the
latest approval decisions, a ticket's tiers, the playbooks that have tickets, tickets by state.

Reads only; a ticket's own page and the paged list are `adapters.tickets.service.show` and
`listing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import approvals, ticket_members, tickets
from adapters.tickets.planning import tiers_of
from adapters.tickets.store import approval_of, approvals_of, ticket_shape
from engine.config import Config
from engine.tickets.ticket import Approval


@dataclass(frozen=True)
class TicketApproval:
    """One approver's decision on one level of a ticket (engine.tickets.ticket.Approval), with the
    ticket's playbook and version."""

    ticket_id: int
    playbook: str
    version: int
    approval: Approval


def planned_by(conn: Connection, name: str, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` tickets `name` planned, newest first (the API's ticket shape)."""
    rows = conn.execute(sa.select(tickets).where(tickets.c.planned_by == name)
                        .order_by(tickets.c.id.desc()).limit(limit)).all()
    decided = approvals_of(conn, [row.id for row in rows])
    return [ticket_shape(row, decided[row.id]) for row in rows]


def recent_decisions(conn: Connection, limit: int) -> list[TicketApproval]:
    """The latest `limit` approval decisions on any ticket, newest first."""
    rows = conn.execute(
        sa.select(approvals, tickets.c.playbook, tickets.c.version)
        .join(tickets, tickets.c.id == approvals.c.ticket_id)
        .order_by(approvals.c.at.desc()).limit(limit))
    return [TicketApproval(r.ticket_id, r.playbook, r.version, approval_of(r)) for r in rows]


def treatment_tiers(conn: Connection, config: Config, ticket_id: int) -> set[str]:
    """The tiers of the ticket's treatment customers, by `tiers_of`: the function that gave
    the ticket its approval levels."""
    ids = list(conn.scalars(sa.select(ticket_members.c.customer_id).where(
        ticket_members.c.ticket_id == ticket_id, ticket_members.c.grp == "treatment")))
    return tiers_of(conn, config, ids)


def playbooks_with_tickets(conn: Connection) -> list[str]:
    """Every playbook id some ticket was planned on (removed ones included), in order."""
    return list(conn.scalars(sa.select(tickets.c.playbook).distinct()
                             .order_by(tickets.c.playbook)))


def counts_by_state(conn: Connection) -> dict[str, int]:
    """How many tickets are in each state that has any (one GROUP BY on a small table)."""
    rows = conn.execute(sa.select(tickets.c.state, sa.func.count())
                        .group_by(tickets.c.state)).all()
    return {row[0]: row[1] for row in rows}
