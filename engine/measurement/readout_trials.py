"""Seeded trials of the daily pooled readout, in the statistics alone (no database).

A trial is one playbook version that plans a ticket every day: `members` customers, a share
`holdout` held out, each member converting within the goal window of `window` days with
chance `base_rate` (control) or `base_rate + effect` (treatment), on a day of the window drawn
uniformly. Every evening the readout (engine/measurement/sequential.py) is computed over the tickets
evaluated so far (their goal window has ended), what adapters/evaluation/readouts.py loads from the
database. `tend simulate` runs the same
readout through the whole service; these trials are what makes 50 or 1,000 runs cheap enough
for the tests and `make bench` (bench/readouts.py).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from engine.measurement.power import DEFAULT_PLAUSIBLE_EFFECT
from engine.measurement.sequential import (
    COLLECTING,
    Readout,
    Stratum,
    chance_of_works,
    readout,
    verdict_day,
)
from engine.playbooks.library import Library


@dataclass(frozen=True)
class Design:
    members: int  # per daily ticket
    holdout: float
    window: int  # goal window, days
    base_rate: float
    effect: float  # planted: treatment's conversion chance minus control's
    days: int  # evenings looked at

    def split(self) -> tuple[int, int]:
        control = round(self.members * self.holdout)
        return self.members - control, control

    def predicted_day(self, effect: float = DEFAULT_PLAUSIBLE_EFFECT) -> float | None:
        """What the power calculation says before the first approval: the evening by which
        the readout has 80% power for `effect`, counting tickets once their window ends."""
        t, c = self.split()
        return verdict_day([(day + self.window, t, c) for day in range(self.days)],
                           self.base_rate, effect)

    def chance_by(self, evening: float, effect: float = DEFAULT_PLAUSIBLE_EFFECT) -> float:
        """The power calculation's chance that the readout says `works` at the look of
        `evening` (the tickets whose window has ended by then), as `predicted_day` uses it:
        renewal's design reaches 79.7% on day 69 and 85.5% on day 70, so 70 is its day and
        85.5%, not 80%, the share of runs expected to have said `works` by it."""
        t, c = self.split()
        done = max(0, math.floor(evening) - self.window + 1)
        return chance_of_works([(t, c)] * done, self.base_rate, effect)


@dataclass(frozen=True)
class Trial:
    verdict: str  # the first verdict other than collecting, or collecting
    day: int | None  # the evening it was reached
    covered: bool  # the sequence held the true pooled difference on every evening
    final: Readout


def run(design: Design, seed: int) -> Trial:
    """One seeded trial, looked at every evening for `design.days` evenings."""
    rng = np.random.default_rng(seed)
    t, c = design.split()
    # conversions by day since start, cumulative, per ticket: [ticket, days elapsed]
    cum = {group: _cumulative(rng, design, n, rate) for group, n, rate in (
        ("treatment", t, design.base_rate + design.effect), ("control", c, design.base_rate))}
    verdict, reached, covered = COLLECTING, None, True
    found = readout([])
    for evening in range(1, design.days + 1):
        # the tickets evaluated by this evening: their goal window has ended
        strata = [Stratum(t, int(cum["treatment"][s, -1]), c, int(cum["control"][s, -1]))
                  for s in range(max(0, evening - design.window + 1))]
        found = readout(strata)
        truth = design.effect
        if found.low is not None and found.high is not None \
                and not found.low <= truth <= found.high:
            covered = False
        if reached is None and found.verdict != COLLECTING:
            verdict, reached = found.verdict, evening
    return Trial(verdict, reached, covered, found)


DAILY = ("renewal", "winback", "churn_risk")  # the shipped daily playbooks with a holdout


def shipped_designs(library: Library, members: int = 1000, days: int = 90,
                    base_rate: float = 0.05, effect: float = DEFAULT_PLAUSIBLE_EFFECT
                    ) -> dict[str, tuple[Design, Design]]:
    """Per shipped daily playbook, its holdout and goal window with a daily ticket of
    `members`: the design with `effect` planted, and the same with none."""
    found = {}
    for pid in DAILY:
        playbook = library.playbooks[pid]
        if playbook.goal is None:
            continue
        window = round(playbook.goal.within / dt.timedelta(days=1))
        found[pid] = (Design(members, playbook.holdout, window, base_rate, effect, days),
                      Design(members, playbook.holdout, window, base_rate, 0.0, days))
    return found


def _cumulative(rng: np.random.Generator, design: Design, n: int, rate: float) -> np.ndarray:
    converts = rng.binomial(n, rate, size=design.days)
    counts = np.zeros((design.days, design.window + 1), dtype=np.int64)
    for ticket, k in enumerate(converts):
        days = rng.integers(1, design.window + 1, size=k)
        counts[ticket] = np.cumsum(np.bincount(days, minlength=design.window + 1))
    return counts
