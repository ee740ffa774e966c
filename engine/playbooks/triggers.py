"""Event triggers: which event-triggered playbooks one incoming event sets off, and why not
(and `contact_outcomes`: which contact-triggered playbooks a customer's contact sets off).

Each playbook version is compiled once into its own durable-rules ruleset (one event fires
one rule, so playbooks on the same event type cannot share a ruleset) named
`<playbook>@<version>`; a library reload only adds rulesets. The customer's state is never kept
in durable-rules: every event is posted with the customer's facts at that moment attached.

Only the facts some ruleset of the event's type reads are computed for it (`wanted_facts`):
computing every field (the lifecycle stage runs the reference evaluator) cost more than the
match itself, for a message that then leaves most of them out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.compilers.rules import Matcher
from engine.config import Config
from engine.language.customer import Customer, days_to_birthday, event_facts, facts, tier_of
from engine.language.evaluate import holds
from engine.language.fields import CUSTOMER_FIELDS
from engine.playbooks.playbook import Playbook


@dataclass(frozen=True)
class EventVerdict:
    """One playbook's answer to one event: matched, or the reason it did not."""

    playbook: str
    version: int
    matched: bool
    reason: str | None = None


def ruleset_name(playbook: Playbook) -> str:
    return f"{playbook.id}@{playbook.version}"


def wanted_facts(customer: Customer, today: dt.date, config: Config,
                 wanted: Collection[str]) -> dict[str, Any]:
    """The `wanted` fields of `facts(customer, ...)`, computing only those; the stage (defined
    by lifecycle conditions over any field) falls back to computing them all."""
    if "stage" in wanted:
        return facts(customer, today, config.tiers, config.lifecycle)
    out: dict[str, Any] = {}
    for name in wanted:
        if name in CUSTOMER_FIELDS:
            out[name] = customer.get(name)
        elif name.startswith("attr."):
            out[name] = (customer.get("attrs") or {}).get(name[5:])
        elif name == "tier":
            out[name] = tier_of(customer.get("arpu"), config.tiers)
        elif name == "tenure_days":
            joined = customer.get("joined_on")
            out[name] = float((today - joined).days) if joined is not None else None
        elif name == "days_to_birthday":
            birthday = customer.get("birthday")
            out[name] = (float(days_to_birthday(birthday, today))
                         if birthday is not None else None)
    return out


def contact_outcomes(playbooks: Iterable[Playbook], customer: Customer, channel: str,
                     config: Config, now: dt.datetime) -> list[EventVerdict]:
    """Every playbook triggered by a contact on `channel`, highest priority first, with its
    answer for `customer` reaching us there at `now`. One customer at a time with the
    reference evaluator (engine.language.evaluate): no ruleset to compile, and the sweep that
    rehearses the playbook's standing ticket is held to the same evaluator by tests."""
    mine = sorted((p for p in playbooks if channel in p.trigger.contact),
                  key=lambda p: (-p.priority, p.id))
    if not mine:
        return []
    today = config.today(now)
    seen = facts(customer, today, config.tiers, config.lifecycle)
    return [EventVerdict(p.id, p.version, True) if holds(p.selector, seen, today)
            else EventVerdict(p.id, p.version, False, "conditions not met") for p in mine]


def _undated(_: dt.datetime) -> None:
    """event.at's local day, for rulesets that do not read it: not computed."""


class Triggers:
    """The event-triggered playbooks of a library, compiled into one process-wide Matcher."""

    def __init__(self, playbooks: Iterable[Playbook], config: Config, matcher: Matcher) -> None:
        self.config = config
        self.matcher = matcher
        self.by_type: dict[str, list[Playbook]] = {}
        self._names: dict[str, list[tuple[Playbook, str]]] = {}
        self._reads: dict[str, frozenset[str]] = {}
        self._day: tuple[dt.datetime | None, dt.date] = (None, dt.date.min)
        self._dated: set[str] = set()  # event types whose rulesets read event.at
        for playbook in sorted(playbooks, key=lambda p: (-p.priority, p.id)):
            if playbook.trigger.event:
                name = ruleset_name(playbook)
                matcher.add(name, playbook.selector)
                event_type = playbook.trigger.event
                self.by_type.setdefault(event_type, []).append(playbook)
                self._names.setdefault(event_type, []).append((playbook, name))
                self._reads[event_type] = self._reads.get(event_type, frozenset()) | frozenset(
                    field for field in matcher.fields(name) if not field.startswith("event."))
                if "event.at" in matcher.fields(name):
                    self._dated.add(event_type)

    def reads(self, event_types: Iterable[str]) -> frozenset[str]:
        """The customer facts the rulesets of these event types read."""
        return frozenset().union(*(self._reads.get(t, frozenset()) for t in event_types))

    def outcomes(self, event: Mapping[str, Any], customer: Customer | None,
                 now: dt.datetime, known: Mapping[str, Any] | None = None) -> list[EventVerdict]:
        """Every playbook on this event type, highest priority first, with its answer.

        The customer's computed fields are those of `now`, the moment the event is handled
        (`known`: those facts computed already, for a caller that needs them too); the
        event's own fields (event.at, event.data.*) are those it carries.
        """
        named = self._names.get(event["type"])
        if not named:
            return []
        reason = self._refusal(event, customer, now)
        if reason is not None or customer is None:
            return [EventVerdict(p.id, p.version, False, reason) for p, _ in named]
        day = self._day  # a batch is handled at one `now`: its day is computed once
        if day[0] != now:
            day = self._day = (now, self.config.today(now))
        today = day[1]
        seen = (dict(known) if known is not None
                else wanted_facts(customer, today, self.config, self._reads[event["type"]]))
        seen.update(event_facts(event, self.config.today if event["type"] in self._dated
                                else _undated))
        return [EventVerdict(p.id, p.version, True) if self.matcher.matches(name, seen, today)
                else EventVerdict(p.id, p.version, False, "conditions not met")
                for p, name in named]

    def _refusal(self, event: Mapping[str, Any], customer: Customer | None,
                 now: dt.datetime) -> str | None:
        if customer is None:
            return "unknown customer"
        if event["at"] < now - self.config.trigger_max_age:
            return "older than trigger_max_age"
        return None
