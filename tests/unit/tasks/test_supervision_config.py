"""Supervision's config (teams' managers, SLAs per channel, the warning threshold) is checked
with file:line places, and "this week" is the configured zone's Monday to Monday."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.config_loader import parse_config
from engine.errors import ValidationError
from engine.tasks.supervision import rounded_rate, week_of
from engine.tickets.users import check_roles

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _problems(old: str, new: str) -> str:
    assert old in SHIPPED
    with pytest.raises(ValidationError) as caught:
        parse_config(SHIPPED.replace(old, new), "config.yaml")
    return "\n".join(str(p) for p in caught.value.problems)


def test_shipped_teams_and_slas() -> None:
    config = parse_config(SHIPPED, "config.yaml")
    sup = config.supervision
    assert sup.supervised(frozenset({"north"})) == {"m01", "m02"}
    assert sup.team_of("m03") == "south" and sup.team_of("m99") is None
    assert sup.sla_of("account_manager") == dt.timedelta(days=2)
    assert sup.sla_of("sms") == sup.default_sla
    assert check_roles(["supervisor:north"], config) == {"supervisor:north"}
    with pytest.raises(ValidationError, match="supervisor:west"):
        check_roles(["supervisor:west"], config)


def test_an_sla_for_an_unknown_channel_is_named_with_its_line() -> None:
    found = _problems("store: 3d}", "carrier_pigeon: 3d}")
    assert "config.yaml:" in found and "carrier_pigeon" in found


def test_a_manager_in_two_teams_is_refused() -> None:
    found = _problems("south: {managers: [m03, m04]}", "south: {managers: [m03, m01]}")
    assert "m01" in found and "north" in found


def test_a_bad_threshold_and_duration_are_refused() -> None:
    assert "overdue_warning" in _problems("overdue_warning: 10", "overdue_warning: 0")
    assert "default_sla" in _problems("default_sla: 1d", "default_sla: soon")


@pytest.mark.parametrize("now, monday", [
    # Thursday 23:30 on New Year's Eve in Shanghai (15:30 UTC)
    (dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC), dt.datetime(2026, 12, 27, 16, 0)),
    # Sunday 23:59 local is still the week before; Monday 00:00 local starts the next
    (dt.datetime(2027, 1, 3, 15, 59, tzinfo=dt.UTC), dt.datetime(2026, 12, 27, 16, 0)),
    (dt.datetime(2027, 1, 3, 16, 0, tzinfo=dt.UTC), dt.datetime(2027, 1, 3, 16, 0)),
])
def test_the_week_is_monday_to_monday_in_the_configured_zone(
        now: dt.datetime, monday: dt.datetime) -> None:
    start, end = week_of(now, SHANGHAI)
    assert start == monday.replace(tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=7)


def test_no_results_is_no_rate_not_zero() -> None:
    assert rounded_rate(0, 0) is None
    assert rounded_rate(3, 4) == 0.75
