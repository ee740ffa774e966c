"""A contact with a customer on any channel, as every channel shares it (DESIGN 10, the
unified view's trajectory): what was presented and how the customer answered.

The outcomes are the words a store clerk, a hotline agent or an account manager records;
three of them act: `handled` closes the customer's open tasks of the ticket (as an accepted
result does), `referred` passes the customer on to another channel, and `declined` counts
toward the decline limit, after which an offer is no longer shown to that customer. The
limit is judged here, on declines the caller loads, so the offers of every channel stop at
the same count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

PRESENTED, INTERESTED, DECLINED = "presented", "interested", "declined"
HANDLED, REFERRED = "handled", "referred"
OUTCOMES = (PRESENTED, INTERESTED, DECLINED, HANDLED, REFERRED)


@dataclass(frozen=True)
class Declines:
    """config.yaml `contact_policy: declines: {max, within}`: an offer the customer declined
    `max` times within the rolling window `within` is not shown to them again until the
    oldest of those declines is `within` old."""

    max: int
    within: dt.timedelta


@dataclass(frozen=True)
class Decline:
    """One recorded `declined` contact: which offer (None: no offer named), when."""

    offer: str | None
    at: dt.datetime


def offer_stopped(limit: Declines | None, offer: str, declines: Sequence[Decline],
                  now: dt.datetime) -> bool:
    """True when the customer declined `offer` at least `limit.max` times in the window
    (now − within, now] (half-open like the caps: a decline exactly `within` ago no longer
    counts). Declines that name no offer or another offer do not count; no limit stops
    nothing."""
    if limit is None:
        return False
    recent = sum(1 for d in declines
                 if d.offer == offer and now - limit.within < d.at <= now)
    return recent >= limit.max
