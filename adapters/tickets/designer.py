"""The designer's commands against the database: preview and explain (the conditions, and
what became of the customer's tasks: sent, held, suppressed or cancelled, and why).

A playbook reference is an id from the installed library or a path to a draft file, which is
validated against the installed workflows and previewed without being installed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import load_customer, load_customers
from adapters.db.schema import events, tasks, tickets
from adapters.tickets.sweep import REPLAY_WINDOW, sweep
from engine.config import Config
from engine.customer import facts
from engine.errors import NotFound
from engine.evaluate import holds
from engine.explain import explain_playbook, render_text, task_story
from engine.offer import Offer
from engine.playbook import Playbook
from engine.selection import Selection

SAMPLE = 10
CHUNK = 5_000  # treatment customers loaded at a time to count offer eligibility
TASKS_SHOWN = 50


def preview(conn: Connection, playbooks: Sequence[Playbook], config: Config, at: dt.datetime,
            as_json: bool, offers: Mapping[str, Offer] | None = None) -> str:
    """Who each playbook selects at `at`; with the library's `offers`, also how many of the
    treatment each offer a step names is eligible for (`"offers": {step: {offer: n}}`)."""
    stamp = at.astimezone(config.timezone).isoformat(timespec="seconds")
    selections = [(pb, sweep(conn, pb, config, at)) for pb in playbooks]
    counts = [offer_counts(conn, pb, sel, config, at, offers or {}) for pb, sel in selections]
    if as_json:
        docs = [{**sel.as_json(stamp), **({"offers": n} if n else {})}
                for (_, sel), n in zip(selections, counts, strict=True)]
        return json.dumps(docs[0] if len(docs) == 1 else docs, ensure_ascii=False)
    return "\n\n".join(_preview_text(pb, sel, stamp, n)
                       for (pb, sel), n in zip(selections, counts, strict=True))


def offer_counts(conn: Connection, playbook: Playbook, sel: Selection, config: Config,
                 at: dt.datetime, offers: Mapping[str, Offer]) -> dict[str, dict[str, int]]:
    """Per step that names offers, how many of the treatment each is eligible for at `at`:
    what a designer weighs when ordering a step's offers (validity, channel and limit act
    when the offer is shown)."""
    named = sorted({n for step in playbook.steps for n in step.offers if n in offers})
    found: Counter[str] = Counter()
    today = config.today(at)
    for start in range(0, len(sel.treatment) if named else 0, CHUNK):
        records = load_customers(conn, config, sel.treatment[start:start + CHUNK])
        for record in records.values():
            seen = facts(record, today, config.tiers, config.lifecycle)
            found.update(n for n in named if holds(offers[n].eligible, seen, today))
    return {step.id: {n: found[n] for n in step.offers} for step in playbook.steps
            if step.offers}


def _preview_text(playbook: Playbook, sel: Selection, stamp: str,
                  offers: Mapping[str, Mapping[str, int]]) -> str:
    trigger = (f"events {playbook.trigger.event} of the last {REPLAY_WINDOW.days} days"
               if playbook.trigger.event else f"sweep ({playbook.trigger.schedule})")
    if playbook.trigger.contact:
        trigger = (f"contact on {', '.join(playbook.trigger.contact)} (who would enter if "
                   f"they contacted us now)")
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
        named = ", ".join(f"{n} {k:,}" for n, k in offers.get(step.id, {}).items())
        lines.append(f"    {step.id:<14} {step.channel:<16} {sel.steps.get(step.id, 0):>9,}"
                     + (f"   (eligible: {named})" if named else ""))
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
