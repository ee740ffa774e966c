"""Customer state as conditions see it: stored fields plus those computed at an instant.

A customer record is a plain mapping with the section 3 fields (dates as `date`, numbers as
`float`, `tags`/`opt_out` as tuples, extra columns under `attrs`). `facts()` adds the computed
fields for one evaluation date; the SQL renderer computes the same fields inside the query.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.language.condition import Condition
from engine.language.evaluate import holds
from engine.language.fields import CUSTOMER_FIELDS

Customer = Mapping[str, Any]


@dataclass(frozen=True)
class Tier:
    name: str
    min_arpu: float


@dataclass(frozen=True)
class Stage:
    name: str
    when: Condition | None


def tier_of(arpu: float | None, tiers: Sequence[Tier]) -> str:
    """First tier (highest first) whose `min_arpu ≤ arpu`; missing or lower arpu → the last tier."""
    if arpu is not None:
        for tier in tiers:
            if tier.min_arpu <= arpu:
                return tier.name
    return tiers[-1].name


def anniversary(birthday: dt.date, year: int) -> dt.date:
    """The birthday in `year`; 29 February counts as 28 February in other years."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return birthday.replace(year=year)


def days_to_birthday(birthday: dt.date, today: dt.date) -> int:
    """Days until the next anniversary, 0 on the day itself (0..365)."""
    this_year = anniversary(birthday, today.year)
    if this_year >= today:
        return (this_year - today).days
    return (anniversary(birthday, today.year + 1) - today).days


def facts(customer: Customer, today: dt.date, tiers: Sequence[Tier],
          lifecycle: Sequence[Stage]) -> dict[str, Any]:
    """The flat field → value mapping a condition is evaluated on."""
    out: dict[str, Any] = {name: customer.get(name) for name in CUSTOMER_FIELDS}
    for name, value in (customer.get("attrs") or {}).items():
        out[f"attr.{name}"] = value
    joined = out["joined_on"]
    out["tenure_days"] = float((today - joined).days) if joined is not None else None
    birthday = out["birthday"]
    out["days_to_birthday"] = (float(days_to_birthday(birthday, today))
                               if birthday is not None else None)
    out["tier"] = tier_of(out["arpu"], tiers)
    out["stage"] = stage_of(out, today, lifecycle)
    return out


def stage_of(partial: Mapping[str, Any], today: dt.date, lifecycle: Sequence[Stage]) -> str:
    """First lifecycle stage whose condition holds; the last entry is the default."""
    for stage in lifecycle:
        if stage.when is None or holds(stage.when, partial, today):
            return stage.name
    return lifecycle[-1].name


def event_facts(event: Mapping[str, Any], today_of: Any) -> dict[str, Any]:
    """An event's fields as conditions name them: event.<field> and event.data.<key>.

    `today_of` maps the event's instant to its calendar date in the configured timezone, so
    date operators on `event.at` compare local dates like every other date field.
    """
    out: dict[str, Any] = {
        "event.id": event.get("id"), "event.type": event["type"],
        "event.customer_id": event["customer_id"], "event.at": today_of(event["at"]),
    }
    for key, value in (event.get("data") or {}).items():
        out[f"event.data.{key}"] = value
    return out
