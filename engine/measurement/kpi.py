"""What counts as sent, delivered, connected, accepted and converted, and the rates built on them.

A task keeps the furthest result an adapter reported (engine/tasks/task.py), so one task counts at
every funnel stage up to the one it reached. docs/EVALUATION.md defines each figure in words;
the definitions live here once, for ticket results and for the KPIs over time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.measurement.units import in_units
from engine.measurement.uplift import uplift
from engine.tasks import task as tk
from engine.tasks.task import STAGE

GROUPS = ("treatment", "control")
FUNNEL = ("tasks", "sent", "delivered", "connected", "accepted", "converted")
# Not handed over unless attempted: no channel had it, and the worker never gave up on it.
NOT_SENT = frozenset(tk.STATES) - set(tk.REACHED) - {tk.DEAD}


def stages_reached(state: str, attempts: int = 0) -> tuple[str, ...]:
    """The funnel stages a task in `state` counts at (`attempts`: pushes tried so far)."""
    reached = ["tasks"]
    if state not in NOT_SENT or attempts > 0:
        reached.append("sent")
    rank = STAGE.get(state, -1)
    if rank >= STAGE["delivered"]:
        reached.append("delivered")
    if rank >= STAGE["connected"]:
        reached.append("connected")
    if state in tk.CLOSING:
        reached.append("accepted")
    if state == "converted":
        reached.append("converted")
    return tuple(reached)


@dataclass
class Funnel:
    """Task counts per stage, and the raw task states behind them."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FUNNEL, 0))
    states: dict[str, int] = field(default_factory=dict)

    def add(self, state: str, attempts: int = 0, n: int = 1) -> None:
        for stage in stages_reached(state, attempts):
            self.counts[stage] += n
        self.states[state] = self.states.get(state, 0) + n

    def merge(self, other: Funnel) -> None:
        for stage, n in other.counts.items():
            self.counts[stage] += n
        for state, n in other.states.items():
            self.states[state] = self.states.get(state, 0) + n


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def cost_of(sent_by_channel: Mapping[str, int], prices: Mapping[str, float | None]) -> float | None:
    """What the sent tasks cost at the configured per-channel prices; None when no channel
    used is priced (unpriced channels count as free and are named in the results)."""
    priced = [n * price for channel, n in sent_by_channel.items()
              if (price := prices.get(channel)) is not None]
    return sum(priced) if priced else None


def unpriced(channels: Iterable[str], prices: Mapping[str, float | None]) -> list[str]:
    return sorted(c for c in set(channels) if prices.get(c) is None)


@dataclass(frozen=True)
class EntryFacts:
    """One entry as the KPIs see it. `converted` is None for a playbook without a goal."""

    customer_id: str
    grp: str
    entered_on: dt.date
    converted: bool | None
    window_open: bool
    churned_on: dt.date | None


@dataclass
class Group:
    """The entries (and their tasks) of one row of a KPI table."""

    entries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    with_goal: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    conversions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    open_windows: int = 0
    funnel: Funnel = field(default_factory=Funnel)
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    first_entry: dict[tuple[str, str], EntryFacts] = field(default_factory=dict)

    def add_entry(self, entry: EntryFacts) -> None:
        self.entries[entry.grp] += 1
        if entry.converted is not None:
            self.with_goal[entry.grp] += 1
            self.conversions[entry.grp] += entry.converted
            self.open_windows += entry.window_open
        key = (entry.grp, entry.customer_id)
        seen = self.first_entry.get(key)
        if seen is None or entry.entered_on < seen.entered_on:
            self.first_entry[key] = entry

    def add_task(self, customer_id: str, channel: str, state: str, attempts: int) -> None:
        self.funnel.add(state, attempts)
        if "sent" in stages_reached(state, attempts):
            self.sent_by_channel[channel] = self.sent_by_channel.get(channel, 0) + 1
            self.contacts[customer_id] = self.contacts.get(customer_id, 0) + 1

    def summary(self, prices: Mapping[str, float | None], last_day: dt.date) -> dict[str, Any]:
        treated = {cid for grp, cid in self.first_entry if grp == "treatment"}
        counts = self.funnel.counts
        sent = counts["sent"]
        verdict = uplift(self.with_goal["treatment"], self.conversions["treatment"],
                         self.with_goal["control"], self.conversions["control"])
        return {
            "entries": dict(self.entries),
            "with_goal": dict(self.with_goal),
            "conversions": dict(self.conversions),
            "open_windows": self.open_windows,
            "retention_success_rate": verdict.treatment_rate,
            "control_success_rate": verdict.control_rate,
            "uplift": in_units(dataclasses.asdict(verdict)),
            "churn": {
                "targeted": self._churn(lambda g, c: g == "treatment", last_day),
                "untargeted": self._churn(lambda g, c: g == "control" and c not in treated,
                                          last_day)},
            "funnel": dict(counts),
            "delivery_rate": rate(counts["delivered"], sent),
            "connect_rate": rate(counts["connected"], sent),
            "marketing_success_rate": rate(counts["accepted"], sent),
            "contacts_per_customer": rate(sent, len(treated)),
            "max_contacts": max(self.contacts.values(), default=0),
            "cost": cost_of(self.sent_by_channel, prices),
        }

    def _churn(self, chosen: Callable[[str, str], bool], last_day: dt.date) -> dict[str, Any]:
        at_risk = churned = 0
        for (grp, cid), entry in self.first_entry.items():
            if not chosen(grp, cid):
                continue
            if entry.churned_on is not None and entry.churned_on <= entry.entered_on:
                # Already gone when entered (a win-back): cannot churn again. A churn dated
                # the entry's own day counts as before it: a date cannot order the two within
                # the day, and a win-back selecting on churned_on enters customers who churned
                # that very day; counting them made winback's treated churn 100%.
                continue
            at_risk += 1
            churned += entry.churned_on is not None and entry.churned_on <= last_day
        return {"customers": at_risk, "churned": churned, "rate": rate(churned, at_risk)}
