"""How simulated customers behave, with a true effect per playbook that is known exactly.

Every customer reaches each goal on their own now and then: goal events of a type arrive as a
Poisson process at `goal_rates[type]` per customer per day, whoever they are and whatever we
do. A contact changes one thing: a task reaches the customer with the channel's `reach`
chance, and the first time a ticket reaches a customer they are persuaded with the playbook's
`effects` chance, and then reach the goal within `lag`. Nothing else responds to contacts.

So the truth of a ticket is a formula, not a second measurement. A member converts in the goal
window of `W` days when a natural event falls in it (chance 1 − e^(−rate·W)) or they were
reached and persuaded; the two are independent, so, intention-to-treat,

    P(treatment converts) − P(control converts) = reached share × effect × e^(−rate·W)

where the reached share counts treatment members first reached early enough for the goal
(by the window's end less `lag`). That is the `true_uplift` a measured uplift is held to. It
assumes no other ticket persuades the same customers towards the same goal meanwhile: two
playbooks sharing a goal event (churn_risk and renewal both aim at contract_renewed) lend
each other conversions, as they would in the field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from random import Random

from engine.errors import ValidationError
from engine.tasks.channel import CALL_CHANNELS

DAY = dt.timedelta(days=1)
# Natural goal events per customer per day (about 9% of customers renew in 45 days unasked).
GOAL_RATES = {"contract_renewed": 0.002, "plan_upgraded": 0.0015, "plan_reactivated": 0.003}
DEFAULT_RATE = 0.002
# The chance that reaching a customer persuades them: the true effect of each shipped
# playbook. high_value_upsell has none, so a run shows what "no effect" looks like.
EFFECTS = {"churn_risk": 0.15, "renewal": 0.10, "winback": 0.12, "upsell": 0.06,
           "high_value_upsell": 0.0, "competitor_call_alert": 0.10, "zero_usage_alert": 0.10}
REACH = {"outbound_call": 0.7, "account_manager": 0.8, "sms": 0.95, "push": 0.6, "email": 0.5,
         "store": 0.3}
DEFAULT_REACH = 0.9
CALLS = CALL_CHANNELS  # unless the caller says which channels are calls (config `kind`)
EVERY = "*"  # `--effect '*=X'`: a program-wide effect, every playbook's (docs/EVALUATION.md)


@dataclass(frozen=True)
class Behaviour:
    goal_rates: Mapping[str, float] = field(default_factory=lambda: dict(GOAL_RATES))
    effects: Mapping[str, float] = field(default_factory=lambda: dict(EFFECTS))
    reach: Mapping[str, float] = field(default_factory=lambda: dict(REACH))
    lag: dt.timedelta = DAY

    def rate(self, event_type: str) -> float:
        return self.goal_rates.get(event_type, DEFAULT_RATE)

    def effect(self, playbook: str) -> float:
        """A playbook without a stated effect has the program-wide one (`*`), else none."""
        return self.effects.get(playbook, self.effects.get(EVERY, 0.0))

    def true_uplift(self, playbook: str, event_type: str, window: dt.timedelta,
                    reached_share: float) -> float:
        days = window / DAY
        return reached_share * self.effect(playbook) * math.exp(-self.rate(event_type) * days)


def program_true_uplift(behaviour: Behaviour, event_type: str, window: dt.timedelta,
                        reached_by: Iterable[Iterable[str]]) -> float:
    """The true intention-to-treat uplift of a program report's treated arm: for each of its
    customers, the playbooks whose tickets reached them in time; a customer is persuaded
    unless every one of those contacts failed to persuade (each ticket's first reach is its
    own chance, World.contact), then as true_uplift."""
    chances = [1 - math.prod(1 - behaviour.effect(p) for p in playbooks)
               for playbooks in reached_by]
    if not chances:
        return 0.0
    return sum(chances) / len(chances) * math.exp(-behaviour.rate(event_type) * (window / DAY))


def with_effects(behaviour: Behaviour, texts: Iterable[str]) -> Behaviour:
    """`--effect PLAYBOOK=X` options over the defaults; X is a chance between 0 and 1.
    `*=X` plants a program-wide effect: every playbook's, the shipped defaults included;
    a PLAYBOOK=X after it still sets that one."""
    effects = dict(behaviour.effects)
    for text in texts:
        name, sep, value = text.partition("=")
        try:
            effect = float(value) if sep and name else math.nan
        except ValueError:
            effect = math.nan
        if not 0 <= effect <= 1:
            raise ValidationError(f"expected PLAYBOOK=X with X from 0 to 1, "
                                  f"got {text!r}", field="--effect")
        if name == EVERY:
            effects = dict.fromkeys(effects, effect)
        effects[name] = effect
    return Behaviour(behaviour.goal_rates, effects, behaviour.reach, behaviour.lag)


def natural_times(rng: Random, rate: float, start: dt.datetime,
                  end: dt.datetime) -> list[dt.datetime]:
    """One customer's own goal events in [start, end): a Poisson process at `rate` per day."""
    times = []
    at = start + DAY * rng.expovariate(rate)
    while at < end:
        times.append(at)
        at += DAY * rng.expovariate(rate)
    return times


@dataclass(frozen=True)
class SimulatedContact:
    status: str  # the result the simulated channel reports on the task
    goal_at: dt.datetime | None  # when the persuaded customer reaches the goal


class World:
    """The customers' side of a simulation: who each ticket has reached, and their answers."""

    def __init__(self, behaviour: Behaviour, seed: int | str,
                 calls: frozenset[str] = CALLS) -> None:
        self.behaviour = behaviour
        self.calls = calls  # channels whose results are calls' (no_answer, connected)
        self.rng = Random(seed)
        self.first_reached: dict[tuple[int, str], dt.datetime] = {}

    def contact(self, ticket_id: int, customer_id: str, playbook: str, channel: str,
                at: dt.datetime) -> SimulatedContact:
        """A task of `ticket_id` handled by `channel` at `at`."""
        call = channel in self.calls
        if self.rng.random() >= self.behaviour.reach.get(channel, DEFAULT_REACH):
            return SimulatedContact("no_answer" if call else "failed", None)
        key = (ticket_id, customer_id)
        if key in self.first_reached:
            return SimulatedContact("connected" if call else "delivered", None)
        self.first_reached[key] = at
        if self.rng.random() < self.behaviour.effect(playbook):
            return SimulatedContact("accepted" if call else "delivered",
                           at + self.behaviour.lag * self.rng.random())
        return SimulatedContact("connected" if call else "delivered", None)

    def reached(self, ticket_id: int, by: dt.datetime) -> int:
        """Members of the ticket first reached at or before `by`."""
        return sum(1 for (tid, _), at in self.first_reached.items()
                   if tid == ticket_id and at <= by)
