"""The decline limit (DESIGN 10): an offer declined `max` times within the window stops for
that customer, on every channel; the phone as the unified view shows it; agents' roles."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.config import Config
from engine.errors import ValidationError
from engine.privacy import mask_phone
from engine.tasks.contact import Decline, Declines, offer_stopped
from engine.tickets.users import User, check_roles

NOW = dt.datetime(2026, 12, 31, 3, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
LIMIT = Declines(2, 30 * DAY)


def test_an_offer_stops_at_the_limit_within_the_window() -> None:
    twice = [Decline("prepay_168", NOW - 29 * DAY), Decline("prepay_168", NOW)]
    assert offer_stopped(LIMIT, "prepay_168", twice, NOW)
    assert not offer_stopped(LIMIT, "prepay_168", twice[:1], NOW)


def test_a_decline_exactly_the_window_ago_no_longer_counts() -> None:
    declines = [Decline("prepay_168", NOW - 30 * DAY), Decline("prepay_168", NOW - DAY)]
    assert not offer_stopped(LIMIT, "prepay_168", declines, NOW)
    assert offer_stopped(LIMIT, "prepay_168", declines, NOW - dt.timedelta(seconds=1))


def test_declines_of_other_offers_later_ones_or_no_limit_stop_nothing() -> None:
    declines = [Decline("renew", NOW), Decline(None, NOW), Decline("prepay_168", NOW + DAY),
                Decline("prepay_168", NOW)]
    assert not offer_stopped(LIMIT, "prepay_168", declines, NOW)
    assert not offer_stopped(None, "prepay_168", [Decline("prepay_168", NOW)] * 5, NOW)


@pytest.mark.parametrize(("phone", "shown"), [
    ("13812345678", "138****5678"), ("+86 138 1234 5678", "138****5678"),
    ("+8613812345678", "138****5678"), ("12345", "***45"), (None, None), ("", ""),
])
def test_a_view_shows_phones_masked(phone: str | None, shown: str | None) -> None:
    assert mask_phone(phone) == shown


def test_agents_are_bound_to_channels_of_the_config(config: Config) -> None:
    assert check_roles(["agent:store"], config) == {"agent:store"}
    with pytest.raises(ValidationError, match="'agent:fax', 'agent'"):
        check_roles(["agent:fax", "agent"], config)
    assert User("a", frozenset({"agent:store", "adapter:sms"})).serves() == {"store"}
