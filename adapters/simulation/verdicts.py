"""What `tend simulate` says per playbook about its pooled readout: the effect planted, the
power shown before the first approval, the day power predicted a verdict, and the evening the
readout (adapters.evaluation.readouts, engine.measurement.sequential) first left `collecting`, with
that verdict. The readout is looked at every simulated evening, as a designer would.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from adapters.evaluation import readouts
from engine.measurement.power import DEFAULT_PLAUSIBLE_EFFECT
from engine.measurement.sequential import COLLECTING, NO_DIFFERENCE, verdict_day
from engine.measurement.simulation import DAY, Behaviour
from engine.measurement.units import pts
from engine.playbooks.library import Library


@dataclass
class PlaybookVerdict:
    playbook: str
    planted: float  # the chance that reaching a customer persuades them
    mde: float | None = None  # the first ticket's, shown before its approval
    base_rate: float | None = None
    holdout_needed: float | None = None
    planned: list[tuple[float, int, int]] = field(default_factory=list)  # (eval day, t, c)
    day: int | None = None  # the evening the readout first said something
    verdict: str = COLLECTING
    bound: float | None = None
    estimate: float | None = None

    def predicted_day(self) -> float | None:
        """The day power predicts 80% for the plausible effect, from the tickets' planned
        sizes, each counted once its goal window has ended."""
        if self.base_rate is None:
            return None
        found = verdict_day(self.planned, self.base_rate, DEFAULT_PLAUSIBLE_EFFECT)
        return None if found is None else math.ceil(found)  # evaluated the day after


class VerdictLog:
    """Filled in as the run goes: `planned` for each ticket planned, `look` each evening."""

    def __init__(self, library: Library, behaviour: Behaviour, begin: dt.datetime) -> None:
        self.begin = begin
        self.by_playbook = {p.id: PlaybookVerdict(p.id, behaviour.effect(p.id))
                            for p in sorted(library.playbooks.values(), key=lambda p: p.id)
                            if p.trigger.schedule and p.goal is not None and p.holdout > 0}
        self.windows = {p.id: p.goal.within / DAY for p in library.playbooks.values()
                        if p.goal is not None}

    def planned(self, ticket: Mapping[str, Any], at: dt.datetime) -> None:
        found = self.by_playbook.get(ticket["playbook"])
        rehearsal = ticket.get("rehearsal") or {}
        power = rehearsal.get("power") or ticket.get("power")
        if found is None or not power:
            return
        if found.base_rate is None:  # the first ticket: what its approvers were shown
            found.mde, found.base_rate = power["minimum_detectable_effect"], power["base_rate"]
            found.holdout_needed = power["holdout_needed"]
        day = (at - self.begin) / DAY + self.windows[found.playbook]
        found.planned.append((day, power["treatment"], power["control"]))

    def look(self, conn: Connection, day: int, reading: readouts.Reading) -> None:
        """The readouts on the evening of `day` (days since the start, `reading.now` its
        end): the first verdict other than collecting is kept, of the newest version with
        evaluated tickets."""
        for found in self.by_playbook.values():
            if found.day is not None:
                continue
            read = readouts.readouts(conn, found.playbook, reading)
            if not read:
                continue
            latest = read[max(read)].readout
            found.estimate = latest.estimate
            if latest.verdict != COLLECTING:
                found.day, found.verdict, found.bound = day, latest.verdict, latest.bound


def render(log: VerdictLog) -> list[str]:
    """Planted effects, then one line per playbook with a holdout and a goal."""
    rows = list(log.by_playbook.values())
    if not rows:
        return []
    lines = ["planted effects (chance that reaching a customer persuades them): "
             + ", ".join(f"{r.playbook} {r.planted:.0%}" for r in rows),
             f"{'playbook':<22} {'planted':>7} {'MDE before approval':>20} "
             f"{'80% power by day':>16} {'verdict on day':>14}  verdict"]
    for r in rows:
        predicted = r.predicted_day()
        mde = "none" if r.base_rate is not None and r.mde is None else pts(r.mde)
        if r.base_rate is None:
            mde = "not planned"
        verdict = r.verdict
        if r.verdict == NO_DIFFERENCE and r.bound is not None:
            verdict = f"no difference larger than {pts(r.bound).lstrip('+')}"
        lines.append(f"{r.playbook:<22} {r.planted:>7.0%} {mde:>20} "
                     f"{'-' if predicted is None else f'{predicted:.0f}':>16} "
                     f"{'-' if r.day is None else r.day:>14}  {verdict}")
    return lines
