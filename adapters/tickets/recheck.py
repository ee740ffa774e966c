"""Re-rehearsing a ticket at decision time: what changed since it was planned.

A ticket waits for approval for hours or days; meanwhile customers are imported, other tickets
contact its customers and the frequency caps fill up. When it is opened for a decision and its
rehearsal is older than `approval.rehearsal_max_age` (config.yaml), or older than the last
change to a customer, the contact policy's preview is run again for the same members at the
decision's instant, and the tasks each channel would send are compared with the plan's:
"sms 513 → 1: 500 contacted often enough". Nothing is written: the members are the ticket's
and execution judges every task again when it starts (adapters/tickets/execution.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import one_of
from adapters.db.schema import customers, ticket_members
from adapters.tickets.planning import policy_preview
from adapters.tickets.store import planned_playbook, ticket_row
from engine.config import Config
from engine.errors import TendError
from engine.library import Library


def recheck(conn: Connection, config: Config, library: Library, ticket_id: int,
            now: dt.datetime, force: bool = False) -> dict[str, Any] | None:
    """What changed since planning, for a planned ticket whose rehearsal is stale (or any
    planned ticket when `force`); None when it is fresh or not waiting for a decision."""
    row = ticket_row(conn, ticket_id)
    rehearsal = row.rehearsal or {}
    if row.state != "planned" or "at" not in rehearsal:
        return None
    at = dt.datetime.fromisoformat(rehearsal["at"])
    treatment = list(conn.scalars(sa.select(ticket_members.c.customer_id).where(
        ticket_members.c.ticket_id == ticket_id, ticket_members.c.grp == "treatment")
        .order_by(ticket_members.c.customer_id)))
    why = _stale(conn, config, treatment, at, now)
    if why is None and not force:
        return None
    try:
        playbook = planned_playbook(conn, config, library, row)
    except TendError:
        return None
    again = policy_preview(conn, config, playbook, treatment, now) or {}
    before = _going(rehearsal)
    after = dict(again.get("going", {}))
    was = (rehearsal.get("contact_policy") or {}).get("suppressed_by_channel", {})
    now_by = again.get("suppressed_by_channel", {})
    changes = []
    for channel in sorted({*before, *after}):
        reasons = {reason: n - was.get(channel, {}).get(reason, 0)
                   for reason, n in now_by.get(channel, {}).items()}
        changes.append({"channel": channel, "before": before.get(channel, 0),
                        "after": after.get(channel, 0),
                        "reasons": {r: n for r, n in reasons.items() if n > 0}})
    return {"planned_at": rehearsal["at"], "at": now.isoformat(), "why": why or "asked",
            "changes": changes, "changed": any(c["before"] != c["after"] for c in changes)}


def _stale(conn: Connection, config: Config, treatment: list[str], at: dt.datetime,
           now: dt.datetime) -> str | None:
    """Why the rehearsal at `at` no longer stands: `age` past the configured maximum, or
    `data` when one of the ticket's customers changed since (an import, an edit)."""
    if now - at > config.rehearsal_max_age:
        return "age"
    if not treatment:
        return None
    changed = conn.scalar(sa.select(sa.func.max(customers.c.updated_at))
                          .where(one_of(conn, customers.c.id, treatment)))
    if changed is not None and changed > at:
        return "data"
    return None


def _going(rehearsal: dict[str, Any]) -> dict[str, int]:
    policy = rehearsal.get("contact_policy") or {}
    if "going" in policy:
        return dict(policy["going"])
    return dict(rehearsal.get("channels") or {})
