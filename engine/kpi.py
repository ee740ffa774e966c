"""What counts as sent, delivered, connected, accepted and converted, and the rates built on them.

A task keeps the furthest result an adapter reported (engine/task.py), so one task counts at
every funnel stage up to the one it reached. docs/EVALUATION.md defines each figure in words;
the definitions live here once, for ticket results and for the KPIs over time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.task import STAGE

FUNNEL = ("tasks", "sent", "delivered", "connected", "accepted", "converted")
NOT_SENT = frozenset({"pending", "cancelled"})  # never handed to a channel unless attempted


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
    if state in ("accepted", "converted"):
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
