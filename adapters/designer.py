"""The designer's commands against the database: preview and explain.

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

from adapters.db import events, load_customer
from adapters.sweep import REPLAY_WINDOW, sweep
from engine.config import Config
from engine.customer import facts
from engine.errors import NotFound, ValidationError
from engine.explain import explain_playbook, render_text
from engine.playbook import Playbook
from engine.selection import Selection
from engine.values import parse_instant

SAMPLE = 10


def parse_at(text: str | None, config: Config) -> dt.datetime:
    """`--at`: a date (local midnight), an ISO timestamp, or now."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        return parse_instant(text, config.timezone)
    except ValueError as exc:
        raise ValidationError(f"--at: {exc}") from None


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
    if as_json:
        return json.dumps({"customer": customer_id, "at": stamp, **summary,
                           "playbooks": verdicts}, ensure_ascii=False, default=str)
    return render_text(customer_id, stamp, summary, verdicts)


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
