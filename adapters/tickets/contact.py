"""Contact-triggered playbooks (`trigger: {contact: [store, hotline, online]}`, DESIGN 10):
a customer who reaches us on a channel is judged, there and then, by every playbook triggered
by a contact on it, and enters the ones they match.

The entry is a standing ticket's, exactly as an event's (adapters/tickets/standing.py: the
ticket approved once per version, cooldown, the global opt-out, the holdout split, the
contact policy and arbitration on the tasks it makes), so a contact-triggered playbook is
measured like any standing ticket: treatment against control, in weekly cohorts. What is
particular to a contact:

- Only a person serving the customer there counts (an agent of the channel, the customer's
  manager, the web shop's `agent:online` asking for offers); an admin's or viewer's read
  enters nobody. The edges decide (adapters/http/auth.py `is_contact`).
- A person opens a view many times while serving one customer: entering is idempotent. The
  cooldown blocks a second entry while it runs; a playbook without a cooldown enters a
  customer once per standing ticket (version).
- Two views of one customer opened at once enter them once: the entry takes the customer's
  lock first (SQLite's write lock, a transaction-scoped advisory lock on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import begin_writes
from adapters.db.schema import entries, tickets
from adapters.tickets import standing
from engine.config import Config
from engine.language.customer import Customer
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook
from engine.playbooks.triggers import contact_outcomes

ONCE = "entered before (no cooldown: once per version)"


def triggered_on(library: Library, channel: str) -> bool:
    """Whether any playbook of the library is triggered by a contact on `channel`."""
    return any(channel in p.trigger.contact for p in library.playbooks.values())


def enter(conn: Connection, config: Config, library: Library, customer: Customer,
          channel: str, now: dt.datetime) -> list[dict[str, Any]]:
    """Judge `customer`, who reached us on `channel` at `now`, by every playbook triggered by
    a contact there, and enter those they match. One line per such playbook, highest priority
    first: `{"customer_id", "channel", "playbook", "version", "reason", "tasks", "ticket"?}`,
    `reason` None when the customer entered its treatment group, else why not (conditions not
    met, no approved standing ticket, cooldown, entered before, opted_out, control group).
    Call in a write transaction."""
    outcomes = contact_outcomes(library.playbooks.values(), customer, channel, config, now)
    if not outcomes:
        return []
    cid = customer["id"]
    _lock(conn, cid)
    lines = [{"customer_id": cid, "channel": channel, "playbook": o.playbook,
              "version": o.version, "reason": o.reason, "tasks": []} for o in outcomes]
    admitting = []
    for line, outcome in zip(lines, outcomes, strict=True):
        if not outcome.matched:
            continue
        playbook = library.playbooks[outcome.playbook]
        if playbook.cooldown is None and _entered(conn, playbook, cid):
            line["reason"] = ONCE
        else:
            admitting.append(line)
    if admitting:
        standing.admit(conn, config, library, admitting, {cid: dict(customer)}, now)
    return lines


def _lock(conn: Connection, customer_id: str) -> None:
    """Serialize the entries of one customer: the cooldown and once-per-version checks read
    entries that a concurrent view of the same customer may be writing."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                     {"key": f"tend-contact:{customer_id}"})
    else:
        begin_writes(conn)


def _entered(conn: Connection, playbook: Playbook, customer_id: str) -> bool:
    """Whether the customer entered a ticket of this playbook version (its standing ticket)."""
    found = conn.scalar(sa.select(entries.c.id)
                        .join(tickets, tickets.c.id == entries.c.ticket_id)
                        .where(entries.c.playbook == playbook.id,
                               entries.c.customer_id == customer_id,
                               tickets.c.version == playbook.version).limit(1))
    return found is not None
