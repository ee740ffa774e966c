"""Assignment (划配): which account manager a customer without one is given.

Seed 002: new customers get their managers "the moment they are in the system". config.yaml's
`assignment:` lists rules, first match wins: a rule names the tiers and the values of one
attribute (a region) it covers and the managers who share its customers. Within a rule the
managers are listed by preference; a customer goes to the first listed manager who, with
them, holds at most `tolerance` customers more than the least loaded of the rule's managers
(workload: customers held, every rule counted), so the preferred managers fill first and
nobody drifts more than `tolerance` above the lightest. `tolerance: 0` is least-loaded.

Pure: the caller loads the customers and the workloads and writes what this returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    name: str
    managers: tuple[str, ...]
    tiers: frozenset[str] | None = None  # None: every tier
    attribute: str | None = None  # e.g. region
    values: frozenset[str] = frozenset()  # the attribute's values this rule covers

    def covers(self, tier: str | None, attrs: Mapping[str, Any]) -> bool:
        if self.tiers is not None and tier not in self.tiers:
            return False
        return self.attribute is None or attrs.get(self.attribute) in self.values


@dataclass(frozen=True)
class AssignmentRules:
    rules: tuple[Rule, ...] = ()
    tolerance: int = 0

    @property
    def managers(self) -> frozenset[str]:
        return frozenset(m for rule in self.rules for m in rule.managers)


@dataclass(frozen=True)
class Candidate:
    """A customer without a manager, as the decision needs them."""

    id: str
    tier: str | None
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    customer: str
    manager: str
    rule: str


def pick(rule: Rule, load: Mapping[str, int], tolerance: int) -> str:
    """The first listed manager who, given one more customer, is at most `tolerance` above
    the rule's lightest (at 0: the first of the lightest). A rule that starts balanced stays
    within max(tolerance, 1)."""
    lightest = min(load.get(m, 0) for m in rule.managers)
    room = max(tolerance - 1, 0)
    return next(m for m in rule.managers if load.get(m, 0) - lightest <= room)


def decide(rules: AssignmentRules, candidates: Iterable[Candidate],
           load: Mapping[str, int]) -> list[Assignment]:
    """A manager for each candidate a rule covers, in id order (the same input gives the
    same answer); `load` is each manager's customers now, and grows as customers are given.
    A candidate no rule covers is left out: they stay without a manager."""
    held = dict(load)
    made = []
    for person in sorted(candidates, key=lambda c: c.id):
        rule = next((r for r in rules.rules if r.covers(person.tier, person.attrs)), None)
        if rule is None:
            continue
        manager = pick(rule, held, rules.tolerance)
        held[manager] = held.get(manager, 0) + 1
        made.append(Assignment(person.id, manager, rule.name))
    return made


def spread(load: Mapping[str, int], managers: Iterable[str]) -> int:
    """How far apart the heaviest and lightest of `managers` are: the balance a rule keeps."""
    counts = [load.get(m, 0) for m in managers]
    return max(counts) - min(counts) if counts else 0
