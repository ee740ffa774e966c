"""The approval card of a ticket (engine/tickets/approval_card.py): what it needs from the database.

The stored rehearsal gives who and how many; the playbook version the ticket was planned with
gives what; the config gives costs, quiet hours and capacities; two queries give the customers
already in another executing ticket and the playbook's last measured result. The console's
ticket page, `GET /tickets/<id>` (its `card`) and the approval notices all call `card`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import iso
from adapters.db.schema import entries, ticket_members, tickets
from adapters.tickets.store import planned_playbook, ticket_row
from engine.config import Config
from engine.errors import TendError
from engine.playbooks.library import Library
from engine.tickets import approval_card

OVERLAP_TICKETS = 10  # the card names this many overlapping tickets, largest first


def card(conn: Connection, config: Config, library: Library, ticket_id: int,
         full: bool = True) -> dict[str, Any] | None:
    """The card; None when the ticket's playbook version or workflow can no longer be read
    (a ticket is still shown without its card). Not `full` (the inbox's rows): without the
    overlap and the last result, the two queries a list of tickets would repeat."""
    row = ticket_row(conn, ticket_id)
    workflow = library.workflows.get(row.workflow)
    try:
        playbook = planned_playbook(conn, config, library, row)
    except TendError:
        return None
    if workflow is None:
        return None
    return approval_card.build(
        rehearsal=row.rehearsal or {}, playbook=playbook, workflow=workflow, levels=row.levels,
        channel_costs={name: ch.cost for name, ch in config.channels.items()},
        offers=library.offers, policy=config.policy,
        overlap=overlap(conn, ticket_id) if full and row.state in ("planned", "approved")
        else [],
        last_result=last_result(conn, row.playbook, ticket_id) if full else None)


def overlap(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
    """Executing tickets that already hold some of this ticket's treatment customers (in
    either of their groups: contacting a control member spoils that ticket's comparison)."""
    mine = (sa.select(ticket_members.c.customer_id)
            .where(ticket_members.c.ticket_id == ticket_id,
                   ticket_members.c.grp == "treatment"))
    query = (sa.select(tickets.c.id, tickets.c.playbook,
                       sa.func.count(sa.distinct(entries.c.customer_id)).label("n"))
             .join(entries, entries.c.ticket_id == tickets.c.id)
             .where(tickets.c.state == "executing", tickets.c.id != ticket_id,
                    entries.c.customer_id.in_(mine))
             .group_by(tickets.c.id, tickets.c.playbook)
             .order_by(sa.desc("n"), tickets.c.id).limit(OVERLAP_TICKETS))
    return [{"ticket_id": r.id, "playbook": r.playbook, "customers": int(r.n)}
            for r in conn.execute(query)]


def last_result(conn: Connection, playbook: str, ticket_id: int) -> dict[str, Any] | None:
    """The playbook's latest closed ticket with a measured goal: its rates and uplift."""
    rows = conn.execute(sa.select(tickets.c.id, tickets.c.version, tickets.c.closed_at,
                                  tickets.c.results)
                        .where(tickets.c.playbook == playbook, tickets.c.state == "closed",
                               tickets.c.id != ticket_id)
                        .order_by(tickets.c.closed_at.desc(), tickets.c.id.desc()).limit(5))
    for r in rows:
        goal = (r.results or {}).get("goal")
        if not goal:
            continue
        lift = goal.get("uplift") or {}
        return {"ticket_id": r.id, "version": r.version, "closed_at": iso(r.closed_at),
                "event": goal.get("event"),
                "treatment_rate": goal.get("treatment", {}).get("rate"),
                "control_rate": goal.get("control", {}).get("rate"),
                "uplift": lift.get("absolute"), "low": lift.get("low"),
                "high": lift.get("high"), "p_value": lift.get("p_value")}
    return None
