"""Ticket rows: reading them into the domain and the JSON shapes, and the one state writer.

`record_change` is the only code that writes a ticket's state: it takes what
engine.tickets.ticket.transition returned (the moved ticket and its audit record) and writes both in
the caller's transaction, so a state change and its audit row exist together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapters.db.engines import iso
from adapters.db.schema import approvals, audit, tickets
from adapters.tickets import versions
from engine.config import Config
from engine.errors import Conflict, NotFound
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook
from engine.playbooks.playbook_loader import parse_playbook
from engine.tickets.ticket import Approval, AuditRecord, Level, Ticket, next_level


def ticket_row(conn: Connection, ticket_id: int, lock: bool = False) -> Row[Any]:
    """The ticket's row; NotFound for an unknown id. `lock` holds it (PostgreSQL) until commit."""
    query = sa.select(tickets).where(tickets.c.id == ticket_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no ticket {ticket_id}", code="ticket.not_found",
                       params={"ticket": ticket_id})
    return row


def planned_playbook(conn: Connection, config: Config, library: Library,
                     row: Any) -> Playbook:
    """The playbook version the ticket `row` (its `playbook`, `version` and `playbook_hash`)
    was planned with: a ticket runs to its end on it. When the library holds that version
    with the same content (the hash: a version is its content, DESIGN) it is reused, with no
    read and no parse: parsing costs more than the step that asked for it (approve,
    advance), and every customer view asks for each ticket holding the customer."""
    loaded = library.playbooks.get(row.playbook)
    if (loaded is not None and loaded.version == row.version
            and loaded.hash == row.playbook_hash):
        return loaded
    text = versions.text(conn, row.playbook, row.version)
    return parse_playbook(text, f"{row.playbook}@v{row.version}", config, library.workflows)


def approval_of(row: Row[Any]) -> Approval:
    """An `approvals` row as the domain's Approval."""
    return Approval(row.level, row.role, row.by, row.decision, row.comment, row.at)


def approvals_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[Approval]]:
    found: dict[int, list[Approval]] = {i: [] for i in ids}
    rows = conn.execute(sa.select(approvals).where(approvals.c.ticket_id.in_(ids))
                        .order_by(approvals.c.ticket_id, approvals.c.level))
    for r in rows:
        found[r.ticket_id].append(approval_of(r))
    return found


def domain_ticket(row: Row[Any], decided: Sequence[Approval], owner: str | None,
                  owners: frozenset[str] = frozenset()) -> Ticket:
    """`owners`: config.owners(owner), the people barred from approving as owners."""
    return Ticket(id=row.id, playbook=row.playbook, state=row.state, planned_by=row.planned_by,
                  planned_at=row.planned_at, owner=owner,
                  levels=tuple(Level(lv["level"], lv["role"]) for lv in row.levels),
                  approvals=tuple(decided), cancel_reason=row.cancel_reason, owners=owners)


def record_change(conn: Connection, ticket: Ticket, record: AuditRecord,
                  **columns: Any) -> int:
    """Write a transition: insert the ticket when it is being opened, else update it if it is
    still in the state the change was computed from (a concurrent change is a Conflict).
    Returns the ticket id."""
    values = {**columns, "state": ticket.state, "cancel_reason": ticket.cancel_reason}
    if record.from_state is None:
        ticket_id = conn.execute(tickets.insert().values(**values)
                                 .returning(tickets.c.id)).scalar_one()
    else:
        assert ticket.id is not None
        ticket_id = ticket.id
        done = conn.execute(tickets.update().where(tickets.c.id == ticket_id,
                                                   tickets.c.state == record.from_state)
                            .values(**values))
        if done.rowcount != 1:
            raise Conflict(f"ticket {ticket_id} changed meanwhile: try again")
    conn.execute(audit.insert().values(ticket_id=ticket_id, **record.as_row()))
    return ticket_id


def ticket_shape(row: Row[Any], decided: Sequence[Approval]) -> dict[str, Any]:
    """DESIGN §7's ticket shape, plus the ticket's other columns (not rehearsal or results)."""
    rehearsal: Mapping[str, Any] = row.rehearsal or {}
    waiting = next_level(domain_ticket(row, decided, None))
    return {
        "id": row.id, "playbook": row.playbook, "version": row.version,
        "playbook_hash": row.playbook_hash, "workflow": row.workflow, "state": row.state,
        "trigger": row.trigger, "window_key": row.window_key, "at": iso(row.at),
        "planned_at": iso(row.planned_at), "planned_by": row.planned_by,
        "audience": {"treatment": rehearsal.get("treatment", 0),
                     "control": rehearsal.get("control", 0),
                     "suppressed": dict(rehearsal.get("suppressed", {}))},
        "steps": dict(rehearsal.get("steps", {})),
        "levels": list(row.levels),
        "approvals": [{"level": a.level, "role": a.role, "by": a.by, "decision": a.decision,
                       "comment": a.comment, "at": iso(a.at)} for a in decided],
        "next_level": waiting.level if waiting else None,
        "deadline": iso(row.deadline), "started_at": iso(row.started_at),
        "evaluate_after": iso(row.evaluate_after), "closed_at": iso(row.closed_at),
        "cancel_reason": row.cancel_reason,
        "power": rehearsal.get("power"),
        "warnings": warnings_of(rehearsal),
    }


def warnings_of(rehearsal: Mapping[str, Any]) -> list[dict[str, str]]:
    """What an approver must weigh before deciding, in words a notice or page can show.
    A ticket planned before power was computed has none."""
    power = rehearsal.get("power")
    if not power or not power.get("under_powered") or not rehearsal.get("treatment"):
        return []
    mde = power.get("minimum_detectable_effect")
    plausible = power["plausible_effect"] * 100
    if mde is None:
        said = (f"control group of {power['control']} can never tell an effect apart "
                f"(needs {power['holdout_needed'] * 100:g}% held out)"
                if power.get("holdout_needed") else
                f"treatment {power['treatment']} and control {power['control']} can never "
                f"tell an effect apart")
    else:
        said = (f"smallest effect this split can detect is +{mde * 100:.1f} pts, "
                f"more than the plausible +{plausible:g} pts")
    return [{"code": "under_powered", "message": said}]


def audit_of(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(audit).where(audit.c.ticket_id == ticket_id)
                        .order_by(audit.c.id))
    return [{"id": r.id, "at": iso(r.at), "actor": r.actor, "role": r.role,
             "action": r.action, "from": r.from_state, "to": r.to_state, "reason": r.reason}
            for r in rows]
