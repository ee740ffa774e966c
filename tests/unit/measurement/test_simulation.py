"""The simulated customers' behaviour: a ticket's measured uplift recovers the true effect.

Each run is one ticket in the pure model (no database): members split at random into
treatment and control, treatment contacted at the start, natural goal events for everyone,
conversions counted in the goal window and judged by engine.measurement.uplift. `tend simulate`
drives the same World through the real ticket service
(tests/integration/simulation/test_simulate.py).
"""

from __future__ import annotations

import datetime as dt
from random import Random

import pytest

from engine.errors import ValidationError
from engine.measurement.simulation import Behaviour, World, natural_times, with_effects
from engine.measurement.uplift import NOT_SIGNIFICANT, Uplift, uplift

START = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=30)
GOAL = "contract_renewed"
BEHAVIOUR = Behaviour(goal_rates={GOAL: 0.003}, effects={"works": 0.08, "placebo": 0.0},
                      reach={"sms": 0.9})


def _ticket(seed: int, playbook: str, members: int = 3000,
            holdout: float = 0.25) -> tuple[Uplift, float]:
    """One ticket's measured uplift and its true uplift."""
    rng = Random(seed)
    world = World(BEHAVIOUR, seed)
    end = START + WINDOW
    counts = {"treatment": [0, 0], "control": [0, 0]}
    for i in range(members):
        cid = f"c{i}"
        group = "control" if rng.random() < holdout else "treatment"
        converted = bool(natural_times(rng, BEHAVIOUR.rate(GOAL), START, end))
        if group == "treatment":
            contact = world.contact(1, cid, playbook, "sms", START)
            converted = converted or (contact.goal_at is not None and contact.goal_at <= end)
        counts[group][0] += 1
        counts[group][1] += converted
    reached = world.reached(1, end - BEHAVIOUR.lag) / counts["treatment"][0]
    return (uplift(*counts["treatment"], *counts["control"]),
            BEHAVIOUR.true_uplift(playbook, GOAL, WINDOW, reached))


def test_the_95_interval_covers_the_true_effect_in_at_least_90_of_50_runs() -> None:
    runs = [_ticket(seed, "works") for seed in range(50)]
    covered = sum(1 for u, true in runs if u.low is not None and u.high is not None
                  and u.low <= true <= u.high)
    assert covered >= 45
    # and the estimate is centred on the truth (about 0.067 here), not just wide enough
    mean_measured = sum(u.absolute or 0 for u, _ in runs) / len(runs)
    mean_true = sum(true for _, true in runs) / len(runs)
    assert mean_true == pytest.approx(0.9 * 0.08 * 0.914, abs=0.003)
    assert mean_measured == pytest.approx(mean_true, abs=0.006)


def test_a_zero_effect_playbook_is_not_significant() -> None:
    """One fixed seed, 0. At level 0.95 a zero effect is called significant in about 1 run
    in 20 by design, so any single seed can be one of them: seed 1, tried first, is
    (p = 0.031, treatment below control). Seed 0 was the next one tried, not searched for.
    How often it happens is checked over 50 runs below, and coverage above."""
    measured, true = _ticket(0, "placebo")
    assert true == 0
    assert measured.verdict == NOT_SIGNIFICANT
    assert measured.low is not None and measured.high is not None
    assert measured.low <= 0 <= measured.high


def test_a_zero_effect_is_rarely_called_significant() -> None:
    """Expected 2.5 false positives in 50 runs at 0.95; 7 or more has a chance of about 1%."""
    verdicts = [_ticket(seed, "placebo", members=1500)[0].verdict for seed in range(50)]
    assert verdicts.count("significant") <= 6


def test_natural_events_arrive_at_the_stated_rate() -> None:
    rng = Random(5)
    end = START + dt.timedelta(days=100)
    counts = [len(natural_times(rng, 0.02, START, end)) for _ in range(2000)]
    assert sum(counts) / len(counts) == pytest.approx(2.0, rel=0.05)
    assert all(START <= at < end for at in natural_times(rng, 0.5, START, end))


def test_a_ticket_persuades_a_customer_once_and_channels_answer_like_channels() -> None:
    world = World(Behaviour(effects={"p": 1.0}, reach={"outbound_call": 1.0, "sms": 1.0}), 1)
    first = world.contact(7, "a", "p", "outbound_call", START)
    again = world.contact(7, "a", "p", "sms", START + dt.timedelta(days=3))
    assert first.status == "accepted" and first.goal_at is not None
    assert START <= first.goal_at <= START + dt.timedelta(days=1)
    assert again.status == "delivered" and again.goal_at is None
    assert world.reached(7, START) == 1 and world.reached(8, START) == 0
    unreachable = World(Behaviour(reach={"outbound_call": 0.0}), 1)
    assert unreachable.contact(1, "a", "p", "outbound_call", START).status == "no_answer"


def test_effects_from_the_command_line_are_checked() -> None:
    behaviour = with_effects(Behaviour(), ["renewal=0.2", "mine=0"])
    assert behaviour.effect("renewal") == 0.2 and behaviour.effect("mine") == 0
    assert behaviour.effect("churn_risk") == Behaviour().effect("churn_risk")
    for bad in ("renewal", "renewal=lots", "renewal=1.5", "=0.1", "renewal=nan"):
        with pytest.raises(ValidationError, match="--effect"):
            with_effects(Behaviour(), [bad])
