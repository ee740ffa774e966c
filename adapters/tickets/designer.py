"""The designer's commands against the database: preview and explain (the conditions, and
what became of the customer's tasks: sent, held, suppressed or cancelled, and why).

A playbook reference is an id from the installed library or a path to a draft file, which is
validated against the installed workflows and previewed without being installed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import load_customer
from adapters.db.schema import events, tasks, tickets
from adapters.tickets.sweep import REPLAY_WINDOW, sweep
from engine.config import Config
from engine.customer import facts
from engine.errors import NotFound
from engine.explain import explain_playbook, render_text, task_story
from engine.playbook import Playbook
from engine.selection import Selection

SAMPLE = 10
TASKS_SHOWN = 50


def preview(conn: Connection, playbooks: Sequence[Playbook], config: Config, at: dt.datetime,
            as_json: bool) -> str:
    stamp = at.astimezone(config.timezone).isoformat(timespec="seconds")
    selections = [(pb, sweep(conn, pb, config, at)) for pb in playbooks]
    if as_json:
        docs = [sel.as_json(stamp) for _, sel in selections]
        return json.dumps(docs[0] if len(docs) == 1 else docs, ensure_ascii=False)
    return "\n\n".join(_preview_text(pb, sel, stamp) for pb, sel in selections)


def _preview_text(playbook: Playbook, sel: Selection, stamp: str) -> str:
    trigger = (f"events {playbook.trigger.event} of the last {REPLAY_WINDOW.days} days"
               if playbook.trigger.event else f"sweep ({playbook.trigger.schedule})")
    suppressed = sum(len(ids) for ids in sel.suppressed.values())
    reasons = ", ".join(f"{r} {len(ids):,}" for r, ids in sel.suppressed.items())
    lines = [
        f"{playbook.id} v{playbook.version} at {stamp} — {playbook.title}",
        f"  trigger     {trigger}",
        f"  matched     {len(sel.matched):>9,}",
        f"  treatment   {len(sel.treatment):>9,}",
        f"  control     {len(sel.control):>9,}   (holdout {playbook.holdout:.0%})",
        f"  suppressed  {suppressed:>9,}" + (f"   ({reasons})" if reasons else ""),
        "  steps:",
    ]
    for step in playbook.steps:
        lines.append(f"    {step.id:<14} {step.channel:<16} {sel.steps.get(step.id, 0):>9,}")
    if sel.treatment:
        stride = max(1, len(sel.treatment) // SAMPLE)
        sample = sel.treatment[::stride][:SAMPLE]
        lines.append("  sample:     " + ", ".join(sample))
    return "\n".join(lines)


def explain(conn: Connection, customer_id: str, playbooks: Sequence[Playbook], config: Config,
            at: dt.datetime, as_json: bool) -> str:
    customer = load_customer(conn, config, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id!r}")
    verdicts = [explain_playbook(customer, pb, config, at, _last_event(conn, pb, customer_id, at))
                for pb in playbooks]
    stamp = at.astimezone(config.timezone).isoformat(timespec="seconds")
    seen = facts(customer, config.today(at), config.tiers, config.lifecycle)
    summary = {k: seen[k] for k in ("tier", "stage", "tenure_days", "days_to_birthday")}
    stories = [task_story(task) for task in customer_tasks(
        conn, config, customer_id, [pb.id for pb in playbooks], at)]
    if as_json:
        return json.dumps({"customer": customer_id, "at": stamp, **summary,
                           "playbooks": verdicts, "tasks": stories},
                          ensure_ascii=False, default=str)
    return render_text(customer_id, stamp, summary, verdicts, stories)


def customer_tasks(conn: Connection, config: Config, customer_id: str,
                   playbook_ids: Sequence[str], at: dt.datetime) -> list[dict[str, Any]]:
    """The customer's tasks of these playbooks made by `at`, newest first (the last
    TASKS_SHOWN), their instants in the configured timezone like the rest of explain."""
    rows = conn.execute(
        sa.select(tasks.c.id, tasks.c.ticket_id, tickets.c.playbook, tasks.c.step,
                  tasks.c.channel, tasks.c.state, tasks.c.attempt, tasks.c.due_at,
                  tasks.c.sent_at, tasks.c.result_at, tasks.c.detail)
        .join(tickets, tickets.c.id == tasks.c.ticket_id)
        .where(tasks.c.customer_id == customer_id, tickets.c.playbook.in_(playbook_ids),
               tasks.c.created_at <= at)
        .order_by(tasks.c.created_at.desc(), tasks.c.id.desc()).limit(TASKS_SHOWN)).mappings()
    return [{**row, **{k: row[k].astimezone(config.timezone).isoformat() if row[k] else None
                       for k in ("due_at", "sent_at", "result_at")}} for row in rows]


def _last_event(conn: Connection, playbook: Playbook, customer_id: str,
                at: dt.datetime) -> dict[str, Any] | None:
    """The customer's latest triggering event in the replay window, for event playbooks."""
    if not playbook.trigger.event:
        return None
    row = conn.execute(
        sa.select(events.c.id, events.c.type, events.c.customer_id, events.c.at, events.c.data)
        .where(events.c.customer_id == customer_id, events.c.type == playbook.trigger.event,
               events.c.at > at - REPLAY_WINDOW, events.c.at <= at)
        .order_by(events.c.at.desc()).limit(1)).mappings().first()
    return dict(row) if row else None
