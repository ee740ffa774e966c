"""No fire is lost: sweeps resume per (playbook, window) after a kill, a handover or downtime.

The job function runs with an injected clock; a scheduler "killed" mid-sweep is one whose
planning raises after N playbooks, leaving the rest of that fire without a record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.db.engines import make_engine
from adapters.db.schema import tickets
from adapters.tickets import due
from adapters.tickets.scheduler import Scheduler
from engine.config import Config
from engine.playbooks.library import Library

TTL = dt.timedelta(seconds=30)
# Tuesday 1 December 2026, 09:45:02 in Shanghai: within the hour of grace are the 09:00 fires of
# churn_risk, high_value_upsell (monthly) and winback, and renewal's 09:30.
AT = dt.datetime(2026, 12, 1, 1, 45, 2, tzinfo=dt.UTC)
DUE = {"churn_risk": "01:00", "high_value_upsell": "01:00", "renewal": "01:30",
       "winback": "01:00"}


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Killed(Exception):
    """The process dies here."""


class Dying(Scheduler):
    """A scheduler whose process is killed after planning `lives` playbooks."""

    def __init__(self, *args: Any, lives: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lives = lives

    def _plan(self, library: Library, window: due.Window,
              now: dt.datetime) -> dict[str, Any] | None:
        if self.lives == 0:
            raise Killed
        self.lives -= 1
        return super()._plan(library, window, now)


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def windows(engine: sa.Engine) -> dict[str, list[str]]:
    """Scheduled tickets: playbook -> window keys."""
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for playbook, key in conn.execute(
                sa.select(tickets.c.playbook, tickets.c.window_key)
                .where(tickets.c.trigger == "schedule").order_by(tickets.c.id)):
            found.setdefault(playbook, []).append(key)
    return found


def expected(playbooks: dict[str, str]) -> dict[str, list[str]]:
    return {p: [f"2026-12-01T{hm}:00+00:00"] for p, hm in playbooks.items()}


def test_a_successor_plans_what_a_scheduler_killed_mid_sweep_left(
        engine: sa.Engine, config: Config) -> None:
    clock = Clock(AT)
    dying = Dying(engine, config, "a", TTL, clock, lives=2)
    with pytest.raises(Killed):
        dying.tick()  # gaining the lease sweeps the due windows; the kill comes after two
    assert len(windows(engine)) == 2
    successor = Scheduler(engine, config, "b", TTL, clock)
    clock.now += dt.timedelta(seconds=2.7)
    successor.tick()
    assert not successor.leader and len(windows(engine)) == 2  # the dead one's lease holds
    clock.now += TTL
    successor.tick()
    assert successor.leader
    assert windows(engine) == expected(DUE)  # each window once, keyed by its fire
    assert successor.sweep_due() == []


def test_the_same_scheduler_restarted_resumes_its_sweep(engine: sa.Engine,
                                                       config: Config) -> None:
    clock = Clock(AT)
    with pytest.raises(Killed):
        Dying(engine, config, "a", TTL, clock, lives=1).tick()
    clock.now += dt.timedelta(seconds=3)
    restarted = Scheduler(engine, config, "a", TTL, clock)
    restarted.tick()
    assert windows(engine) == expected(DUE)


def test_a_cron_job_run_after_a_kill_plans_only_its_own_window(engine: sa.Engine,
                                                              config: Config) -> None:
    clock = Clock(AT)
    dying = Dying(engine, config, "a", TTL, clock, lives=0)
    with pytest.raises(Killed):
        dying.tick()
    dying.lives = 5
    opened = dying.sweep("renewal")  # renewal's own 09:30 job, late
    assert opened is not None and opened["window_key"] == "2026-12-01T01:30:00+00:00"
    assert windows(engine) == expected({"renewal": "01:30"})


def test_fires_missed_while_no_scheduler_ran_are_swept_within_the_grace(
        engine: sa.Engine, config: Config) -> None:
    assert config.misfire_grace == dt.timedelta(hours=1)
    clock = Clock(AT + dt.timedelta(minutes=65))  # 10:50: only welcome's 10:00 is in grace
    Scheduler(engine, config, "a", TTL, clock).tick()
    assert windows(engine) == expected({"welcome": "02:00"})
    longer = dataclasses.replace(config, misfire_grace=dt.timedelta(hours=3))
    clock.now += TTL + dt.timedelta(seconds=1)
    Scheduler(engine, longer, "b", TTL, clock).tick()
    assert windows(engine) == expected({**DUE, "birthday": "00:00", "welcome": "02:00"})
