"""Codes people read on console pages, in their language: roles, audit actions, triggers,
customer tiers and stages, playbook titles and cron schedules (errors: adapters/http/messages.py).

The API and the database keep the codes (`campaign_lead`, `approve_level`, `0 9 1 * *`);
only pages translate them. A code the catalog does not know (a role or tier someone added to
config.yaml) shows as itself, never as an empty cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from adapters.http.console.i18n import state_label
from adapters.http.messages import error_text, listed
from adapters.http.problem_words import problem_words
from adapters.http.state import state
from adapters.tickets import report_words
from adapters.tickets.report_words import Words
from engine.playbooks.cron_words import cron_in_words

# Roles and the shipped channels: the evaluation report's tables (the same msgids), worded
# here with the reader's catalog.
ROLE_LABELS = report_words.ROLES
CHANNEL_LABELS = report_words.CHANNELS
# engine.tickets.ticket.TRANSITIONS' actions, as the audit trail says them.
ACTION_LABELS = report_words.ACTIONS
TRIGGER_LABELS = {
    "schedule": _l("on schedule"), "event": _l("on an event"), "contact": _l("on contact"),
    "manual": _l("by hand"),
}
# The shipped config's tiers and stages (customer tiers, not approval levels: the glossary
# in docs/CONSOLE.md keeps 客户等级 and 审批级别 apart).
TIER_LABELS = {
    "diamond": _l("diamond"), "gold": _l("gold"), "silver": _l("silver"),
    "standard": _l("standard"),
}
STAGE_LABELS = {
    "churned": _l("churned"), "onboarding": _l("onboarding"), "decline": _l("declining"),
    "growth": _l("growing"), "maturity": _l("mature"),
}
def lang() -> str:
    found = get_locale()
    return found.language if found else "en"


def _from(table: Mapping[str, Any], code: str | None) -> str:
    """A code in words; the plain msgids of report_words' tables are looked up here."""
    if code is None:
        return ""
    found = table.get(code)
    if found is None:
        return code
    return _(found) if isinstance(found, str) else str(found)


def channel_label(name: str | None) -> str:
    """A channel as people read it: its config.yaml `label` in the reader's language, else
    the shipped name's default here, else its name (channels are whatever config.yaml
    declares; a name nobody labelled is still better than an empty cell)."""
    if not name:
        return ""
    found = state().config.channels.get(name)
    label = found.label.get(lang()) if found else None
    return label or _from(CHANNEL_LABELS, name)


def channels_listed(names: Any) -> str:
    """Channels as a list people read: `短信、外呼`."""
    return listed([channel_label(n) for n in names or ()])


def role_label(role: str | None) -> str:
    """`manager:m007` reads "account manager m007" (客户经理 m007)."""
    if not role:
        return ""
    base, _sep, bound = role.partition(":")
    named = _from(ROLE_LABELS, base)
    return f"{named} {bound}" if bound else named


def action_label(action: str | None) -> str:
    return _from(ACTION_LABELS, action)


def trigger_label(trigger: str | None) -> str:
    return _from(TRIGGER_LABELS, trigger)


def tier_label(tier: str | None) -> str:
    return _from(TIER_LABELS, tier)


def stage_label(stage: str | None) -> str:
    return _from(STAGE_LABELS, stage)


def title_of(playbook: Any) -> str:
    """A playbook's title in the reader's language (`title: {zh, en}`), else its title; of a
    playbook, or of a shape that carries `title` and `titles` (the approval card)."""
    if playbook is None:
        return ""
    if isinstance(playbook, Mapping):
        return str((playbook.get("titles") or {}).get(lang()) or playbook.get("title") or "")
    title_in = getattr(playbook, "title_in", None)
    return str(title_in(lang())) if title_in else str(getattr(playbook, "title", ""))


def schedule_words(cron: str) -> str:
    return cron_in_words(cron, lang())


def _trigger_words(schedule: str | None, event: str | None, channels: Sequence[str]) -> str:
    """The one wording of what sets a playbook off: its schedule, its event, or its contact
    channels (a playbook's library row, its explain, its approval card)."""
    if schedule:
        return schedule_words(schedule)
    if event:
        return _("on the event %(event)s", event=event)
    return _("when the customer contacts us on %(channels)s",
             channels=listed([channel_label(c) for c in channels]))


def playbook_trigger(playbook: Any) -> str:
    """What sets a playbook off, in words."""
    trigger = playbook.trigger
    return _trigger_words(trigger.schedule, trigger.event, trigger.contact)


def card_trigger(trigger: Mapping[str, Any]) -> str:
    """The approval card's trigger (engine.tickets.approval_card.trigger_of) in words."""
    kind = trigger.get("kind")
    return _trigger_words(trigger.get("cron") if kind == "schedule" else None,
                          trigger.get("event") if kind == "event" else None,
                          trigger.get("channels") or ())


GROUP_REASONS = {
    "cooldown": _l("in cooldown"), "opted_out": _l("opted out"),
    "global_control": _l("global control group"),
}


def group_label(group: str | None) -> str:
    """A selection group (`treatment`, `suppressed: cooldown`) as people read it."""
    if not group:
        return ""
    kind, _sep, why = group.partition(":")
    named = state_label(kind.strip())
    return f"{named}: {_from(GROUP_REASONS, why.strip())}" if why else named


def suppressed_reason(reason: str | None) -> str:
    """Why a selection leaves a customer out (`cooldown`, ...), in words."""
    return _from(GROUP_REASONS, reason)


def actor_label(actor: str | None) -> str:
    """Who acted: a person's name as it is; the system's own actors in words."""
    return role_label(actor) if actor in ("system", "scheduler") else (actor or "")


def explained_trigger(text: str | None) -> str:
    """engine.playbooks.explain's trigger (`schedule 0 9 * * *`, `event x`, `contact a, b`) in
    words."""
    kind, _sep, rest = (text or "").partition(" ")
    if kind not in ("schedule", "event", "contact"):
        return text or ""
    return _trigger_words(rest if kind == "schedule" else None,
                          rest if kind == "event" else None,
                          [c.strip() for c in rest.split(",")])


def reader_words() -> Words:
    """The evaluation report's language: the reader's, with the configured channel labels
    (adapters/tickets/report_words.py words channels and roles as this module does)."""
    channels = state().config.channels
    return Words(lang(), get_translations(), {n: c.label for n, c in channels.items()})


def register(app: Flask) -> None:
    """The labels as template globals and filters (`role_label(x)`, `x|role`, ...)."""
    helpers = {"role_label": role_label, "action_label": action_label,
               "trigger_label": trigger_label, "tier_label": tier_label,
               "stage_label": stage_label, "title_of": title_of,
               "playbook_trigger": playbook_trigger, "card_trigger": card_trigger,
               "schedule_words": schedule_words,
               "listed": listed, "group_label": group_label, "actor_label": actor_label,
               "explained_trigger": explained_trigger, "error_text": error_text,
               "problem_words": problem_words, "channel_label": channel_label,
               "suppressed_reason": suppressed_reason}
    app.jinja_env.globals.update(helpers)
    app.jinja_env.filters.update(role=role_label, tier=tier_label, stage=stage_label,
                                 listed=listed, channel=channel_label,
                                 channels=channels_listed)
