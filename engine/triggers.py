"""Event triggers: which event-triggered playbooks one incoming event sets off, and why not.

Each playbook version is compiled once into its own durable-rules ruleset (one event fires
one rule, so playbooks on the same event type cannot share a ruleset) named
`<playbook>@<version>`; a library reload only adds rulesets. The customer's state is never kept
in durable-rules: every event is posted with the customer's facts at that moment attached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.config import Config
from engine.customer import Customer, event_facts, facts
from engine.playbook import Playbook
from engine.rules import Matcher


@dataclass(frozen=True)
class Outcome:
    """One playbook's answer to one event: matched, or the reason it did not."""

    playbook: str
    version: int
    matched: bool
    reason: str | None = None


def ruleset_name(playbook: Playbook) -> str:
    return f"{playbook.id}@{playbook.version}"


class Triggers:
    """The event-triggered playbooks of a library, compiled into one process-wide Matcher."""

    def __init__(self, playbooks: Iterable[Playbook], config: Config, matcher: Matcher) -> None:
        self.config = config
        self.matcher = matcher
        self.by_type: dict[str, list[Playbook]] = {}
        for playbook in sorted(playbooks, key=lambda p: (-p.priority, p.id)):
            if playbook.trigger.event:
                matcher.add(ruleset_name(playbook), playbook.selector)
                self.by_type.setdefault(playbook.trigger.event, []).append(playbook)

    def outcomes(self, event: Mapping[str, Any], customer: Customer | None,
                 now: dt.datetime, known: Mapping[str, Any] | None = None) -> list[Outcome]:
        """Every playbook on this event type, highest priority first, with its answer.

        The customer's computed fields are those of `now`, the moment the event is handled
        (`known`: those facts computed already, for a caller that needs them too); the
        event's own fields (event.at, event.data.*) are those it carries.
        """
        playbooks = self.by_type.get(event["type"], [])
        reason = self._refusal(event, customer, now)
        if reason is not None or customer is None:
            return [Outcome(p.id, p.version, False, reason) for p in playbooks]
        today = self.config.today(now)
        seen = dict(known or facts(customer, today, self.config.tiers, self.config.lifecycle))
        seen.update(event_facts(event, self.config.today))
        return [Outcome(p.id, p.version, True) if self.matcher.matches(ruleset_name(p), seen, today)
                else Outcome(p.id, p.version, False, "conditions not met")
                for p in playbooks]

    def _refusal(self, event: Mapping[str, Any], customer: Customer | None,
                 now: dt.datetime) -> str | None:
        if customer is None:
            return "unknown customer"
        if event["at"] < now - self.config.trigger_max_age:
            return "older than trigger_max_age"
        return None
