"""Schedules mean what crontab(5) says, checked against croniter walking forward on its own.

The oracle lists every fire of a span with croniter's forward iteration (no flooring, no
backwards search, no time-zone round trips of ours), then each of thousands of seeded instants
must get the last of them at or before it from Schedule.latest and the first after it from
Schedule.following, in the config's zone and in zones with daylight saving time.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from adapters.tickets.due import fire_time
from adapters.tickets.scheduler import CrontabTrigger
from engine.config import Config
from engine.playbooks.library import load_library
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.schedule import Schedule, problem

ROOT = Path(__file__).resolve().parents[3]
ZONES = ("Asia/Shanghai", "America/New_York", "Europe/Berlin")
RARE = (dt.datetime(2019, 1, 1), dt.datetime(2034, 1, 1))
DAILY = (dt.datetime(2025, 12, 1), dt.datetime(2027, 1, 1))
DENSE = (dt.datetime(2026, 3, 1), dt.datetime(2026, 4, 5))  # both DST starts (US, EU)
FALL = (dt.datetime(2026, 10, 20), dt.datetime(2026, 11, 8))  # both DST ends
SCHEDULES = [
    ("0 0 29 2 *", RARE), ("0 0 31 * *", RARE), ("0 0 * * 7", DAILY), ("0 0 * * 0", DAILY),
    ("30 8 * * 1-5", DAILY), ("0 9 1 * *", RARE), ("0 9 13 * fri", RARE),
    ("0 0 1,15 * 1", RARE), ("0 0 */2 * mon", DAILY), ("15 10 * jan,jul sun", RARE),
    ("*/7 * * * 1-5", DENSE), ("*/7 * * * 1-5", FALL), ("30 2 * * *", DENSE),
    ("30 1 * * *", FALL), ("0 */5 * * sat-sun", DAILY), ("5 4 * * 5-7", DAILY),
]


def oracle(text: str, zone: ZoneInfo, span: tuple[dt.datetime, dt.datetime]) -> list[dt.datetime]:
    begin, end = (t.replace(tzinfo=zone) for t in span)
    walk = croniter(text, begin - dt.timedelta(seconds=1), day_or=True, implement_cron_bug=True)
    fires = []
    while (fire := walk.get_next(dt.datetime)) <= end:
        fires.append(fire.astimezone(dt.UTC))
    return fires


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("text", "span"), SCHEDULES,
                         ids=[f"{t}|{s[0]:%Y%m}" for t, s in SCHEDULES])
def test_latest_and_following_agree_with_croniter_everywhere(
        text: str, span: tuple[dt.datetime, dt.datetime], zone: str) -> None:
    tz = ZoneInfo(zone)
    fires = oracle(text, tz, span)
    assert len(fires) >= 3, "the span must hold fires on both sides of the instants"
    schedule, rng = Schedule(text, tz), random.Random(f"{text}|{zone}")
    lo, hi = fires[1].timestamp(), fires[-2].timestamp()
    instants = [dt.datetime.fromtimestamp(rng.uniform(lo, hi), dt.UTC) for _ in range(200)]
    for fire in rng.sample(fires[1:-1], min(40, len(fires) - 2)):  # the edges of windows
        instants += [fire, fire - dt.timedelta(microseconds=1), fire + dt.timedelta(seconds=59)]
    for at in instants:
        i = bisect.bisect_right(fires, at)
        assert schedule.latest(at) == fires[i - 1], at
        assert schedule.following(at) == fires[i], at


def test_crontab_days() -> None:
    """Spot checks of crontab(5) itself, independent of croniter."""
    tz = ZoneInfo("Asia/Shanghai")

    def days(text: str, start: dt.date, n: int) -> list[str]:
        at, out = dt.datetime.combine(start, dt.time(), tz), []
        for _ in range(n):
            fire = Schedule(text, tz).following(at)
            assert fire is not None
            at = fire
            out.append(fire.astimezone(tz).strftime("%a %d"))
        return out

    # 2026-11-01 is a Sunday
    assert days("30 8 * * 1-5", dt.date(2026, 11, 1), 6) == [
        "Mon 02", "Tue 03", "Wed 04", "Thu 05", "Fri 06", "Mon 09"]
    assert days("0 0 * * 7", dt.date(2026, 11, 2), 2) == ["Sun 08", "Sun 15"]
    assert days("0 0 * * 0", dt.date(2026, 11, 2), 2) == ["Sun 08", "Sun 15"]
    # both day fields restricted: either one matches (the 13th, or a Friday)
    assert days("0 0 13 * fri", dt.date(2026, 12, 1), 4) == ["Fri 04", "Fri 11", "Sun 13",
                                                              "Fri 18"]
    assert days("0 0 13 * mon", dt.date(2026, 11, 1), 3) == ["Mon 02", "Mon 09", "Fri 13"]
    # a day field starting with '*' is unrestricted in crontab(5): both must match
    assert days("0 0 */2 * mon", dt.date(2026, 11, 1), 3) == ["Mon 09", "Mon 23", "Mon 07"]


@pytest.mark.parametrize(("text", "message"), [
    ("30 8 * * 1-5", None), ("0 0 * * 0,7", None), ("0 9 1 jan-mar mon-fri", None),
    ("0 0 * * 8", "day of week field '8': expected values in 0-7"),
    ("0 25 * * *", "hour field '25': expected values in 0-23"),
    ("0 0 30 2 *", "never fires"),
    ("0 0 L * *", "day of month field 'L'"), ("0 0 * * mon#2", "day of week field 'mon#2'"),
    ("@daily", "expected 5 fields, got 1"), ("0 0 0 * * *", "expected 5 fields, got 6"),
    ("0 0 * * fri-mon", "range fri-mon runs backwards"),
])
def test_problems_name_the_field(text: str, message: str | None) -> None:
    found = problem(text)
    assert (found is None) if message is None else (found is not None and message in found)


def test_a_numeric_weekday_range_loads(config: Config) -> None:
    library = load_library(config)
    text = (ROOT / "rules" / "churn_risk.yaml").read_text().replace(
        '"0 9 * * mon-fri"', '"30 8 * * 1-5"')
    playbook = parse_playbook(text, "churn_risk.yaml", config, library.workflows)
    assert playbook.trigger.schedule == "30 8 * * 1-5"
    friday = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert fire_time(playbook, config, friday) == dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC)
    monday = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)
    assert fire_time(playbook, config, monday) == dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC)


def test_a_rare_schedule_keys_its_window_by_its_fire() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    at = dt.datetime(2026, 12, 16, 2, 0, tzinfo=dt.UTC)
    assert Schedule("0 0 29 2 *", tz).latest(at) == dt.datetime(2024, 2, 28, 16, tzinfo=dt.UTC)
    assert Schedule("0 0 29 2 *", tz).latest(dt.datetime(2, 1, 1, tzinfo=dt.UTC)) is None


def test_the_apscheduler_trigger_fires_on_crontab_days() -> None:
    """APScheduler 3's CronTrigger.from_crontab would read weekday 1 as Tuesday."""
    tz = ZoneInfo("Asia/Shanghai")
    trigger = CrontabTrigger(Schedule("30 8 * * 1", tz))
    sunday = dt.datetime(2026, 11, 1, 12, 0, tzinfo=tz)
    first = trigger.get_next_fire_time(None, sunday)
    assert first == dt.datetime(2026, 11, 2, 8, 30, tzinfo=tz)
    assert trigger.get_next_fire_time(None, first) == first  # at `now` exactly: still due
    assert trigger.get_next_fire_time(first, sunday) == dt.datetime(2026, 11, 9, 8, 30,
                                                                    tzinfo=tz)
