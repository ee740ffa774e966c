"""Why a customer is or isn't taken by a playbook, condition by condition, with actual values.

This is the designer's debugger: it uses the reference evaluator, so what it says is by
definition what every backend does (the backends are held to the evaluator by tests).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from engine.config import Config
from engine.language.condition import Condition
from engine.language.customer import Customer, event_facts, facts
from engine.language.evaluate import Verdict, explain
from engine.language.wording import annotate
from engine.playbooks.playbook import Playbook
from engine.playbooks.selection import global_share, in_control, in_global_control
from engine.playbooks.variant import resolved
from engine.tasks import task as tk
from engine.tasks.policy import SALES, exemption


def explain_playbook(customer: Customer, playbook: Playbook, config: Config, at: dt.datetime,
                     event: Mapping[str, Any] | None = None,
                     in_cooldown: bool = False) -> dict[str, Any]:
    """One playbook's verdict for one customer at `at` (with the triggering event, if any)."""
    today = config.today(at)
    seen = facts(customer, today, config.tiers, config.lifecycle)
    if event is not None:
        seen.update(event_facts(event, config.today))
    audience = explain(playbook.audience, seen, today)
    exclude = explain(playbook.exclude, seen, today) if playbook.exclude else None
    matched = audience.held and not (exclude and exclude.held)
    opted_out = "all" in (customer.get("opt_out") or ())
    out: dict[str, Any] = {
        "playbook": playbook.id, "version": playbook.version,
        "trigger": _trigger(playbook), "class": playbook.contact_class,
        "audience": annotate(playbook.audience, audience.as_dict()),
        # said negated ("not tagged do_not_contact"): `ok` is true when it did not apply
        "exclude": (annotate(playbook.exclude, exclude.as_dict(), negate=True)
                    if playbook.exclude and exclude else None),
        "matched": matched, "group": _group(playbook, customer["id"], matched, in_cooldown,
                                            opted_out, config.global_control),
    }
    if playbook.trigger.event and event is None:
        out["note"] = (f"no {playbook.trigger.event} event in the replay window: "
                       "event fields were missing")
    out["steps"] = {}
    treated = out["group"] == "treatment"  # only treatment gets a variant
    for step in playbook.steps:
        own, variant = resolved(playbook.id, step, customer["id"]) if treated else (step, None)
        out["steps"][step.id] = _step(step.when, explain(step.when, seen, today)
                                      if step.when else None, own.channel, customer)
        if variant is not None:
            out["steps"][step.id].update(variant=variant, template=own.template)
    return out


def _trigger(playbook: Playbook) -> str:
    if playbook.trigger.event:
        return f"event {playbook.trigger.event}"
    if playbook.trigger.contact:  # judged as if they contacted us at `at`
        return f"contact {', '.join(playbook.trigger.contact)}"
    return f"schedule {playbook.trigger.schedule}"


def _group(playbook: Playbook, cid: str, matched: bool, in_cooldown: bool,
           opted_out: bool, global_control: float) -> str:
    """Where the customer lands, in the order selection applies: cooldown, opt-out, the
    global control, holdout."""
    if not matched:
        return "not matched"
    if in_cooldown:
        return "suppressed: cooldown"
    if opted_out:
        return "suppressed: opted_out"
    if in_global_control(cid, global_share(global_control, playbook.contact_class)):
        return "suppressed: global_control"
    return "control" if in_control(playbook.id, cid, playbook.holdout) else "treatment"


def _step(when: Condition | None, verdict: Verdict | None, channel: str,
          customer: Customer) -> dict[str, Any]:
    channel_opt_out = channel in (customer.get("opt_out") or ())
    out: dict[str, Any] = {"channel": channel,
                           "eligible": (verdict is None or verdict.held) and not channel_opt_out}
    if when is not None and verdict is not None:
        out["when"] = annotate(when, verdict.as_dict())
    if channel_opt_out:
        out["note"] = f"opted out of {channel}"
    return out


def task_story(task: Mapping[str, Any]) -> dict[str, Any]:
    """What became of one task, in one word, and why: `sent` (handed to an adapter; its
    result if any), `held` (waiting for quiet hours or capacity), `waiting` (not due yet),
    `suppressed` (opted out, arbitration, a frequency cap), `cancelled` (the ticket, an
    answer on another step, the goal, `unless`), `dead` (the channel gave up)."""
    detail = task.get("detail") or {}
    reason = " — ".join(str(detail[k]) for k in ("reason", "note") if detail.get(k))
    state = task["state"]
    if state in tk.STOPPED:
        outcome, why = state, reason or "no reason recorded"
    elif state in tk.RESULTS:
        outcome, why = "sent", f"result {state}"
    elif task.get("sent_at") is not None:
        outcome, why = "sent", f"{state} since {task['sent_at']}, no result yet"
    elif detail.get("policy") == "hold":
        outcome, why = "held", f"{reason}; due {task['due_at']}"
    else:
        outcome, why = "waiting", f"due {task['due_at']}"
    return {**task, "outcome": outcome, "why": why}


def render_text(customer_id: str, at: str, summary: Mapping[str, Any],
                verdicts: list[dict[str, Any]], tasks: Sequence[Mapping[str, Any]] = ()) -> str:
    """The explanation as a designer reads it in a terminal."""
    lines = [f"{customer_id} at {at}: "
             + ", ".join(f"{k} {_show(v)}" for k, v in summary.items())]
    for v in verdicts:
        lines.append("")
        lines.append(f"{v['playbook']} v{v['version']} ({v['trigger']}): {v['group']}")
        spared = exemption(v.get("class", SALES))
        if spared:
            lines.append(f"  class {spared}")
        lines.append("  audience:")
        lines.extend(_tree(v["audience"], 4))
        if v["exclude"]:
            lines.append("  exclude:")
            lines.extend(_tree(v["exclude"], 4))
        if v.get("note"):
            lines.append(f"  note: {v['note']}")
        for step_id, step in v["steps"].items():
            mark = "✓" if step["eligible"] else "✗"
            variant = f" variant {step['variant']}" if step.get("variant") else ""
            lines.append(f"  step {step_id} ({step['channel']}){variant}: {mark}"
                         + (f" {step['note']}" if step.get("note") else ""))
            if "when" in step:
                lines.extend(_tree(step["when"], 6))
    if tasks:
        lines += ["", "tasks:"]
    for task in tasks:
        again = f" retry {task['attempt']}" if task.get("attempt") else ""
        lines.append(f"  {task['outcome']:<10} {task['playbook']} ticket {task['ticket_id']} "
                     f"step {task['step']}{again} ({task['channel']}): {task['why']}")
    return "\n".join(lines)


def _tree(node: Mapping[str, Any], indent: int) -> list[str]:
    mark = "✓" if node["held"] else "✗"
    pad = " " * indent
    if "parts" not in node:
        return [f"{pad}{mark} {node['condition']}   (actual: {_show(node['actual'])})"]
    lines = [f"{pad}{mark} {node['condition']}"]
    for part in node["parts"]:
        lines.extend(_tree(part, indent + 2))
    return lines


def _show(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
