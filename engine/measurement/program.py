"""The whole program against doing nothing: everyone the marketing playbooks treated in a
period compared with the global control group (config.yaml `global_control`).

Both arms are drawn from the same customers: those a non-exempt playbook's sweep matched and
would have put in its treatment group. A customer outside the global control who landed in
it is *treated*; a global-control customer the sweep set aside (suppressed `global_control`)
and whom the playbook's own holdout would not have taken is their twin. Membership of the
global control is a hash of the customer id alone, so the split is random and the difference
of the arms' conversion rates is the program's intention-to-treat effect
(docs/EVALUATION.md, "The program report"). Each customer counts once per arm, read on their
first membership of the period; this module does the arithmetic, adapters/evaluation/program.py
the reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.measurement.kpi import rate
from engine.measurement.uplift import Uplift, uplift
from engine.playbooks.selection import in_control

TREATED = "treated"
GLOBAL_CONTROL = "global_control"
ARMS = (TREATED, GLOBAL_CONTROL)
NO_REVENUE = ("revenue: Tend stores no revenue per customer over time (arpu is today's "
              "value only), so the report has no revenue figure")


@dataclass(frozen=True)
class Membership:
    """A customer's place in one started ticket of a non-exempt playbook: `start` is when
    their goal window opened (entry, or the ticket's start for a set-aside member)."""

    customer_id: str
    arm: str
    playbook: str
    start: dt.datetime
    goal_event: str | None
    within: dt.timedelta | None


@dataclass(frozen=True)
class Arm:
    customers: int
    with_goal: int
    conversions: int
    rate: float | None
    open_windows: int
    churn_at_risk: int
    churned: int
    churn_rate: float | None


@dataclass(frozen=True)
class Incremental:
    """Conversions over what the global control's rate predicts for the treated, with the
    uplift's interval scaled the same way."""

    conversions: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Spent:
    """What the treated arm's contacts cost, as the reads priced them (None: nothing priced)."""

    channels: float | None
    offers: float | None
    unpriced_channels: tuple[str, ...] = ()
    unpriced_offers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cost:
    channels: float | None
    offers: float | None
    total: float | None
    unpriced_channels: tuple[str, ...]
    unpriced_offers: tuple[str, ...]
    per_incremental_conversion: float | None


@dataclass(frozen=True)
class PlaybookArms:
    playbook: str
    treated: int
    global_control: int


@dataclass(frozen=True)
class ProgramReport:
    first: dt.date          # first day of the period
    end: dt.date            # the day after the last (the period is [first, end))
    evaluated_at: dt.datetime
    share: float            # config.yaml global_control now
    treated: Arm
    global_control: Arm
    uplift: Uplift
    incremental: Incremental
    churn: Uplift
    cost: Cost
    playbooks: tuple[PlaybookArms, ...]
    revenue: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def program_report(first: dt.date, end: dt.date, now: dt.datetime, share: float,
                   memberships: Iterable[Membership],
                   goal_times: Mapping[tuple[str, str], Sequence[dt.datetime]],
                   churned_on: Mapping[str, dt.date | None], today: dt.date,
                   local_day: Callable[[dt.datetime], dt.date], spent: Spent,
                   level: float = 0.95) -> ProgramReport:
    """`goal_times`: (customer, event type) → instants of that event; `churned_on`: each
    member's churn date as stored; `local_day` turns an instant into its configured-timezone
    date; `today` is now's local date."""
    members = list(memberships)
    arms = {arm: _arm([m for m in members if m.arm == arm], goal_times, churned_on, today,
                      local_day, now) for arm in ARMS}
    t, c = arms[TREATED], arms[GLOBAL_CONTROL]
    effect = uplift(t.with_goal, t.conversions, c.with_goal, c.conversions, level)
    churn = uplift(t.churn_at_risk, t.churned, c.churn_at_risk, c.churned, level)
    incremental = Incremental(*(None if x is None else x * t.with_goal
                                for x in (effect.absolute, effect.low, effect.high)))
    channels, offers = spent.channels, spent.offers
    priced = [x for x in (channels, offers) if x is not None]
    total = sum(priced) if priced else None
    per = (total / incremental.conversions
           if total is not None and incremental.conversions and incremental.conversions > 0
           else None)
    return ProgramReport(
        first=first, end=end, evaluated_at=now, share=share, treated=t, global_control=c,
        uplift=effect, incremental=incremental, churn=churn,
        cost=Cost(channels, offers, total, spent.unpriced_channels, spent.unpriced_offers,
                  per),
        playbooks=_per_playbook(members), revenue=None, notes=(NO_REVENUE,))


def twin_treated(playbook: str, customer_id: str, holdout: float) -> bool:
    """Would this global-control customer, set aside by the playbook's sweep, have been
    treated without the global control? Not when the playbook's own holdout takes them
    (the same hash the sweep used): their twin outside the global control is untreated, so
    they are left out of the comparison, as that twin is."""
    return not in_control(playbook, customer_id, holdout)


def first_of_each(members: Iterable[Membership], with_goal: bool) -> dict[str, Membership]:
    """Each customer's earliest membership (with a goal, when `with_goal`); ties go to the
    playbook named first, so the choice does not depend on the order rows were read."""
    first: dict[str, Membership] = {}
    for m in members:
        if with_goal and m.goal_event is None:
            continue
        seen = first.get(m.customer_id)
        if seen is None or (m.start, m.playbook) < (seen.start, seen.playbook):
            first[m.customer_id] = m
    return first


def converted(m: Membership, goal_times: Mapping[tuple[str, str], Sequence[dt.datetime]],
              now: dt.datetime) -> bool:
    """A goal event of the membership's playbook inside its window, seen by `now`."""
    if m.goal_event is None or m.within is None:
        return False
    end = min(now, m.start + m.within)
    return any(m.start <= at <= end for at in goal_times.get((m.customer_id, m.goal_event), ()))


def _arm(members: list[Membership],
         goal_times: Mapping[tuple[str, str], Sequence[dt.datetime]],
         churned_on: Mapping[str, dt.date | None], today: dt.date,
         local_day: Callable[[dt.datetime], dt.date],
         now: dt.datetime) -> Arm:
    everyone = first_of_each(members, with_goal=False)
    goals = first_of_each(members, with_goal=True)
    hits = sum(converted(m, goal_times, now) for m in goals.values())
    still_open = sum(1 for m in goals.values()
                     if m.within is not None and m.start + m.within > now)
    at_risk = churned = 0
    for cid, m in everyone.items():
        gone = churned_on.get(cid)
        if gone is not None and gone <= local_day(m.start):
            continue  # had churned when selected (a win-back): cannot churn again
        at_risk += 1
        churned += gone is not None and gone <= today
    return Arm(customers=len(everyone), with_goal=len(goals), conversions=hits,
               rate=rate(hits, len(goals)), open_windows=still_open,
               churn_at_risk=at_risk, churned=churned, churn_rate=rate(churned, at_risk))


def _per_playbook(members: Iterable[Membership]) -> tuple[PlaybookArms, ...]:
    seen: dict[str, dict[str, set[str]]] = {}
    for m in members:
        seen.setdefault(m.playbook, {arm: set() for arm in ARMS})[m.arm].add(m.customer_id)
    return tuple(PlaybookArms(name, len(arms[TREATED]), len(arms[GLOBAL_CONTROL]))
                 for name, arms in sorted(seen.items()))


def as_json(found: ProgramReport) -> dict[str, Any]:
    """The report as JSON values (`GET /program/report`, `tend program --json`): dates and
    instants as ISO text, `to` the excluded day after the period."""
    out = dataclasses.asdict(found)
    out["from"], out["to"] = out.pop("first").isoformat(), out.pop("end").isoformat()
    out["evaluated_at"] = found.evaluated_at.isoformat()
    out["notes"] = list(found.notes)
    out["cost"]["unpriced_channels"] = list(found.cost.unpriced_channels)
    out["cost"]["unpriced_offers"] = list(found.cost.unpriced_offers)
    out["playbooks"] = [dataclasses.asdict(p) for p in found.playbooks]
    return out
