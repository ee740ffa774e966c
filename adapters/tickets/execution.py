"""Execution of an approved ticket: its entries and tasks (adapters/evaluation/results.py judges
it).

Entries are written for treatment AND control members (the cooldown counts from entries, and
intention-to-treat compares both groups from the same start). Tasks go to treatment only: one
per customer × step whose `when` holds now and whose channel the customer has not opted out
of. Step conditions are evaluated on the customer's data at the start, not at planning: the
tasks act on the present, the rehearsal showed what the plan looked like. The contact policy
judges each new task (adapters/tasks/contact_policy.py): a held one waits, a suppressed one is kept
with its reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import load_customers
from adapters.db.schema import OPEN, entries, tasks, ticket_members
from adapters.tasks import contact_policy
from adapters.tasks.store import cancelled
from adapters.tasks.timing import step_rules
from engine.config import Config
from engine.language.customer import Customer, facts
from engine.language.evaluate import holds
from engine.playbooks.playbook import Playbook, Step
from engine.playbooks.variant import resolved, variant_of
from engine.tasks import task as tk

PENDING = tk.PENDING
SELECTED = ("treatment", "control")


def start(conn: Connection, config: Config, playbook: Playbook, ticket_id: int,
          now: dt.datetime) -> list[dt.datetime]:
    """Write the entries and tasks; returns the tasks' due times."""
    members = conn.execute(sa.select(ticket_members.c.customer_id, ticket_members.c.grp)
                           .where(ticket_members.c.ticket_id == ticket_id,
                                  ticket_members.c.grp.in_(SELECTED))
                           .order_by(ticket_members.c.customer_id)).all()
    if not members:
        return []
    conn.execute(entries.insert(), [
        {"playbook": playbook.id, "customer_id": cid, "ticket_id": ticket_id, "grp": grp,
         "entered_at": now, "variant": entry_variant(playbook, cid, grp)}
        for cid, grp in members])
    entry_ids = dict(conn.execute(
        sa.select(entries.c.customer_id, entries.c.id).where(entries.c.ticket_id == ticket_id)
    ).all())
    treated = [cid for cid, grp in members if grp == "treatment"]
    records = load_customers(conn, config, treated)
    today = config.today(now)
    rows = []
    for cid in treated:
        customer = records.get(cid)
        if customer is None:  # deleted since planning: entered, but nobody to contact
            continue
        seen = facts(customer, today, config.tiers, config.lifecycle)
        rows += [task_row(ticket_id, entry_ids[cid], customer, playbook, step, now)
                 for step in steps_for(playbook, cid) if eligible(step, customer, seen, today)]
    contact_policy.admit(conn, config.policy, playbook.id, rows, now, playbook.contact_class)
    if rows:
        conn.execute(tasks.insert(), rows)
    return sorted({row["due_at"] for row in rows if row["state"] == PENDING})


def entry_variant(playbook: Playbook, customer_id: str, group: str) -> str | None:
    """The variant an entry records: a treatment customer's, for a playbook with variants."""
    return variant_of(playbook.id, playbook.steps, customer_id) if group == "treatment" else None


def steps_for(playbook: Playbook, customer_id: str) -> list[Step]:
    """The playbook's steps as this customer gets them: a step with variants becomes the
    customer's variant of it (engine/playbooks/variant.py)."""
    return [resolved(playbook.id, step, customer_id)[0] for step in playbook.steps]


def eligible(step: Step, customer: Customer, seen: dict[str, Any], today: dt.date) -> bool:
    if step.channel in (customer.get("opt_out") or ()):
        return False
    return step.when is None or holds(step.when, seen, today)


def task_row(ticket_id: int, entry_id: int, customer: Customer, playbook: Playbook, step: Step,
             now: dt.datetime) -> dict[str, Any]:
    """A new task; the contact policy may still hold or suppress it (contact_policy.admit)."""
    manager = customer.get("manager")
    route = f"manager:{manager}" if step.route == "manager" and manager else "pool"
    payload: dict[str, Any] = {"template": step.template, "params": dict(step.params),
               "customer": {key: customer.get(key)
                            for key in ("id", "name", "phone", "email", "manager")}}
    if any(s.id == step.id and s.variants for s in playbook.steps):
        # adapters see which alternative they carry
        payload["variant"] = variant_of(playbook.id, playbook.steps, customer["id"])
    return {"ticket_id": ticket_id, "entry_id": entry_id, "customer_id": customer["id"],
            "step": step.id, "channel": step.channel, "route": route, "state": PENDING,
            "idempotency_key": f"{entry_id}:{step.id}", "due_at": now + step.delay,
            "payload": payload, "created_at": now, "updated_at": now,
            "priority": playbook.priority, "detail": None,
            "step_rules": step_rules(step, playbook.goal.event if playbook.goal else None)}


def cancel_tasks(conn: Connection, ticket_id: int, now: dt.datetime) -> int:
    """Tasks nobody reported on are cancelled with their ticket (adapters see them listed as
    cancelled); finished ones keep their result."""
    done = conn.execute(tasks.update().where(tasks.c.ticket_id == ticket_id,
                                             tasks.c.state.in_(OPEN))
                        .values(cancelled(now, {"reason": "ticket cancelled"})))
    return done.rowcount
