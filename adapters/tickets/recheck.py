"""Re-rehearsing a ticket at decision time: what changed since it was planned.

A ticket waits for approval for hours or days; meanwhile customers are imported, other tickets
contact its customers and the frequency caps fill up. When it is opened for a decision and its
rehearsal is older than `approval.rehearsal_max_age` (config.yaml), or older than the last
change to a customer, the contact policy's preview is run again for the same members at the
decision's instant, and the tasks each channel would send are compared with the plan's:
"sms 513 → 1: 500 contacted often enough". The audience is swept again too, as the plan swept
it (the playbook's selector, cooldown and holdout, at the decision's instant), and compared
with the ticket's members: who would join the treatment now, who no longer matches (left),
and which members would now be suppressed and why. Nothing is written: the members are the
ticket's, approving runs them as planned, and execution judges every task again when it
starts (adapters/tickets/execution.py); a ticket whose audience moved a lot is re-planned.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import one_of
from adapters.db.schema import customers, ticket_members
from adapters.tickets.planning import cooldown_ids, policy_preview
from adapters.tickets.store import planned_playbook, ticket_row
from adapters.tickets.sweep import sweep
from engine.config import Config
from engine.errors import TendError
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook

# Tickets whose members a sweep chose: event and contact tickets gather theirs one event or
# contact at a time, which a sweep at another instant does not repeat.
SWEPT = ("schedule", "manual")
SAMPLE = 5  # ids of joiners and leavers the card names


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
    audience = (audience_since(conn, config, playbook, ticket_id, now)
                if row.trigger in SWEPT else None)
    moved = bool(audience and (audience["joined"] or audience["left"] or audience["suppressed"]))
    return {"planned_at": rehearsal["at"], "at": now.isoformat(), "why": why or "asked",
            "changes": changes, "audience": audience,
            "changed": moved or any(c["before"] != c["after"] for c in changes)}


def audience_since(conn: Connection, config: Config, playbook: Playbook, ticket_id: int,
                   now: dt.datetime) -> dict[str, Any]:
    """The plan's sweep again at `now`, against the ticket's members: `joined` (in the
    treatment now, not in the ticket's), `left` (treatment members the selector no longer
    matches), `suppressed` (treatment members it matches but would now leave out, by
    reason: cooldown, opted out, global control), with a few ids of each kind."""
    again = sweep(conn, playbook, config, now, cooldown_ids(conn, playbook, now))
    was = set(conn.scalars(sa.select(ticket_members.c.customer_id).where(
        ticket_members.c.ticket_id == ticket_id, ticket_members.c.grp == "treatment")))
    matched = set(again.matched)
    left_out = {cid: reason for reason, ids in again.suppressed.items() for cid in ids}
    joined = sorted(set(again.treatment) - was)
    left = sorted(was - matched)
    suppressed: dict[str, list[str]] = {}
    for cid in sorted(was & left_out.keys()):
        suppressed.setdefault(left_out[cid], []).append(cid)
    return {"treatment_before": len(was), "treatment_after": len(again.treatment),
            "joined": len(joined), "left": len(left),
            "suppressed": {reason: len(ids) for reason, ids in sorted(suppressed.items())},
            "sample": {"joined": joined[:SAMPLE], "left": left[:SAMPLE],
                       "suppressed": sorted(c for ids in suppressed.values()
                                            for c in ids)[:SAMPLE]}}


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
