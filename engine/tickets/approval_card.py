"""The approval card: the facts an approver weighs, at the top of a ticket, in its API shape
and in its notices.

Who (how many, which tiers and lifecycle stages), what (channels, offers, scripts), when (tasks
per day each channel can send under its quiet hours and capacity, days to finish), what it costs
(channel and offer costs from the config and the offers), who is already in another running
ticket, why each approval level applies (the workflow's rule, and the ticket facts that made it
hold), the playbook's last measured result, and for a standing ticket what approving starts.

Pure: the service (adapters/tickets/card.py) loads the rehearsal, the overlap and the last
result, and hands them in; everything here is computed from those values, so the page, the API
and a notice say the same thing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from engine.language.condition import describe, leaves
from engine.language.evaluate import holds
from engine.playbooks.cron_words import cron_in_words
from engine.playbooks.offer import Offer
from engine.playbooks.playbook import Playbook
from engine.playbooks.workflow import Workflow
from engine.tasks.policy import Policy

_NO_DATE = dt.date(1970, 1, 1)  # ticket facts hold no dates (engine.playbooks.workflow)
DAY = dt.timedelta(days=1)


def build(*, rehearsal: Mapping[str, Any], playbook: Playbook, workflow: Workflow,
          levels: Sequence[Mapping[str, Any]], channel_costs: Mapping[str, float | None],
          offers: Mapping[str, Offer], policy: Policy, overlap: Sequence[Mapping[str, Any]],
          last_result: Mapping[str, Any] | None) -> dict[str, Any]:
    """The card of a ticket from its stored rehearsal and what the service loaded.
    `levels`: the ticket's levels ({level, role}); `overlap`: other executing tickets with how
    many of this ticket's treatment customers each already holds."""
    who = _who(rehearsal)
    what = _what(playbook, offers)
    when = _when(rehearsal, playbook, policy)
    return {
        "title": playbook.title, "titles": {lang: playbook.title_in(lang) for lang in ("zh", "en")},
        "who": who, "what": what, "when": when,
        "cost": _cost(rehearsal, playbook, channel_costs, offers),
        "overlap": {"customers": sum(int(o["customers"]) for o in overlap),
                    "tickets": [dict(o) for o in overlap]},
        "levels": _why(workflow, levels, who, what, playbook.id),
        "last_result": dict(last_result) if last_result else None,
        "standing": _standing(playbook, workflow),
        "trigger": trigger_of(playbook),
    }


def trigger_of(playbook: Playbook) -> dict[str, Any]:
    """What starts the playbook: an event, contacts on some channels, or a schedule with its
    cron and the cron in words in both languages (engine/cron_words, the one reader of cron
    shapes; the API is language-neutral, like explain's `text`)."""
    trigger = playbook.trigger
    if trigger.event:
        return {"kind": "event", "event": trigger.event}
    if trigger.contact:
        return {"kind": "contact", "channels": list(trigger.contact)}
    cron = trigger.schedule or ""
    return {"kind": "schedule", "cron": cron,
            "words": {lang: cron_in_words(cron, lang) for lang in ("zh", "en")}}


def _who(rehearsal: Mapping[str, Any]) -> dict[str, Any]:
    profile = rehearsal.get("profile") or {}
    return {"treatment": int(rehearsal.get("treatment", 0)),
            "control": int(rehearsal.get("control", 0)),
            "suppressed": sum(int(n) for n in (rehearsal.get("suppressed") or {}).values()),
            "tiers": dict(profile.get("tiers", {})), "stages": dict(profile.get("stages", {}))}


def _what(playbook: Playbook, offers: Mapping[str, Offer]) -> dict[str, Any]:
    return {"channels": list(dict.fromkeys(step.channel for step in playbook.steps)),
            "steps": [{"step": step.id, "channel": step.channel, "script": step.template,
                       "offers": list(step.offers),
                       "delay_days": round(step.delay / DAY, 2)} for step in playbook.steps],
            "offers": [{"offer": name,
                        "title": dict(offers[name].title) if name in offers else {},
                        "cost": offers[name].cost if name in offers else None}
                       for name in dict.fromkeys(o for s in playbook.steps for o in s.offers)]}


def _going(rehearsal: Mapping[str, Any]) -> dict[str, int]:
    """Tasks each channel would send: the contact policy's preview when there is one (it
    knows opt-outs and suppressions), else the rehearsal's count per channel."""
    policy = rehearsal.get("contact_policy") or {}
    if "going" in policy:
        return {k: int(v) for k, v in policy["going"].items()}
    going = {k: int(v) for k, v in (rehearsal.get("channels") or {}).items()}
    for channel, cap in (policy.get("capacity") or {}).items():
        going[channel] = int(cap["tasks"])
    return going


def _when(rehearsal: Mapping[str, Any], playbook: Playbook, policy: Policy) -> dict[str, Any]:
    """Per channel: tasks, the most it sends a local day, its quiet hours, the days it needs.
    The ticket finishes sending when its slowest channel's last day is done, after the longest
    step delay."""
    channels: list[dict[str, Any]] = []
    longest = 0
    for channel, tasks in _going(rehearsal).items():
        rules = policy.rules(channel)
        per_day = rules.capacity
        days = max(1, math.ceil(tasks / per_day)) if per_day and tasks else (1 if tasks else 0)
        channels.append({"channel": channel, "tasks": tasks, "per_day": per_day,
                         "quiet_hours": str(rules.quiet_hours) if rules.quiet_hours else None,
                         "days": days})
        longest = max(longest, days)
    delay = max((step.delay for step in playbook.steps), default=dt.timedelta(0))
    held = dict((rehearsal.get("contact_policy") or {}).get("held", {}))
    return {"channels": channels, "held": held,
            "days": longest + math.ceil(delay / DAY) if longest else 0}


def _cost(rehearsal: Mapping[str, Any], playbook: Playbook,
          channel_costs: Mapping[str, float | None], offers: Mapping[str, Offer]
          ) -> dict[str, Any]:
    """Contacts: tasks × the channel's cost. Offers: each step's tasks × the dearest offer it
    makes, the most the offers can cost if every customer takes one."""
    going = _going(rehearsal)
    contacts = sum(n * (channel_costs.get(c) or 0.0) for c, n in going.items())
    unpriced = sorted(c for c, n in going.items() if n and channel_costs.get(c) is None)
    steps = rehearsal.get("steps") or {}
    offer_cost = 0.0
    for step in playbook.steps:
        prices = [offers[o].cost or 0.0 for o in step.offers if o in offers]
        if prices:
            offer_cost += int(steps.get(step.id, 0)) * max(prices)
    return {"contacts": round(contacts, 2), "offers_at_most": round(offer_cost, 2),
            "total_at_most": round(contacts + offer_cost, 2), "unpriced_channels": unpriced}


def _why(workflow: Workflow, levels: Sequence[Mapping[str, Any]], who: Mapping[str, Any],
         what: Mapping[str, Any], playbook: str) -> list[dict[str, Any]]:
    """Each level the ticket needs, with the workflow's rule that put it on and the parts
    of that rule this ticket's facts met (level 1 approves every ticket: no rule)."""
    facts = {"audience_size": float(who["treatment"]),
             "tiers": tuple(sorted(t for t, n in who["tiers"].items() if n)),
             "channels": tuple(sorted(what["channels"])), "playbook": playbook}
    rules = {lv.level: lv.when for lv in workflow.levels}
    out = []
    for level in levels:
        when = rules.get(int(level["level"]))
        met = [describe(leaf) for leaf in leaves(when) if holds(leaf, facts, _NO_DATE)] \
            if when is not None else []
        out.append({"level": level["level"], "role": level["role"],
                    "rule": describe(when) if when is not None else None, "met": met})
    return out


def _standing(playbook: Playbook, workflow: Workflow) -> dict[str, Any] | None:
    """What approving a standing ticket starts: not one send, but every matching event (or
    contact) entering its customer the same day, until a new version replaces it."""
    if not workflow.standing:
        return None
    return {"event": playbook.trigger.event, "contact": list(playbook.trigger.contact),
            "channels": list(dict.fromkeys(step.channel for step in playbook.steps))}


def summary(card: Mapping[str, Any]) -> str:
    """One line for a notice: who, what, how long, what it costs, overlap."""
    who, when, cost = card["who"], card["when"], card["cost"]
    channels = ", ".join(f"{c['tasks']} {c['channel']}" for c in when["channels"]) or "no tasks"
    standing = card.get("standing")
    if standing:
        trigger = standing["event"] or "contact on " + "/".join(standing["contact"])
        return (f"standing: approving starts an ongoing stream of same-day "
                f"{', '.join(standing['channels'])} for every {trigger}; "
                f"{who['treatment']} customers would enter now")
    line = (f"{who['treatment']} customers; {channels}; {when['days']} day(s) to finish; "
            f"cost ≤ ¥{cost['total_at_most']:,.2f}")
    if card["overlap"]["customers"]:
        line += f"; {card['overlap']['customers']} already in a running ticket"
    return line
