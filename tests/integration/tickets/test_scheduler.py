"""The scheduler: one active process by database lease, idempotent sweeps, safe reloads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.clock import child_env
from support.folders import with_rules
from support.lease import TTL, Clock, lease_holder, rules

from adapters.db.engines import make_engine
from adapters.db.schema import tickets
from adapters.tickets.due import fire_time
from adapters.tickets.scheduler import Scheduler
from engine.config import Config
from engine.playbooks.library import load_library
from engine.playbooks.playbook import Trigger

__all__ = ["rules"]  # a fixture

ROOT = Path(__file__).resolve().parents[3]
@pytest.fixture
def config(config: Config, rules: Path) -> Config:
    """The shipped config reading its playbooks from the test's own copy, which it edits."""
    return with_rules(config, rules)


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def pair(engine: sa.Engine, config: Config, clock: Clock) -> tuple[Scheduler, Scheduler]:
    return (Scheduler(engine, config, "a", TTL, clock),
            Scheduler(engine, config, "b", TTL, clock))


def test_one_leader_and_a_handover_when_the_lease_runs_out(
        engine: sa.Engine, config: Config, rules: Path) -> None:
    clock = Clock(dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC))
    first, second = pair(engine, config, clock)
    first.tick()
    second.tick()
    assert (first.leader, second.leader) == (True, False)
    clock.now += TTL / 2
    first.tick()
    second.tick()
    assert (first.leader, second.leader) == (True, False)
    clock.now += TTL + dt.timedelta(seconds=1)
    second.tick()
    first.tick()
    assert (first.leader, second.leader) == (False, True)


def test_a_tick_is_swept_once_even_across_a_handover(
        engine: sa.Engine, config: Config, rules: Path) -> None:
    clock = Clock(dt.datetime(2026, 11, 20, 0, 59, tzinfo=dt.UTC))  # 08:59 in Shanghai
    first, second = pair(engine, config, clock)
    first.tick()
    clock.now += dt.timedelta(minutes=1, seconds=5)  # the 09:00 job runs at 09:00:05
    opened = first.sweep("winback")
    # no customers here: the ticket is ended at once, not put to approvers
    assert opened is not None and opened["state"] == "cancelled"
    assert opened["cancel_reason"].startswith("empty audience: nobody to contact")
    assert second.sweep("winback") is None  # not the leader: does nothing
    clock.now += TTL + dt.timedelta(seconds=20)  # the leader died; same cron tick still
    second.tick()
    assert second.leader
    assert second.sweep("winback") is None  # that window was swept already
    with engine.connect() as conn:
        keys = conn.scalars(sa.select(tickets.c.window_key)
                            .where(tickets.c.playbook == "winback")).all()
    assert keys == ["2026-11-20T01:00:00+00:00"]


@pytest.mark.parametrize(("now", "schedule", "expected"), [
    (dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC), "0 9 * * *",
     dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)),
    (dt.datetime(2026, 11, 20, 0, 59, tzinfo=dt.UTC), "0 9 * * *",
     dt.datetime(2026, 11, 19, 1, 0, tzinfo=dt.UTC)),
    (dt.datetime(2026, 11, 23, 0, 30, tzinfo=dt.UTC), "0 9 * * mon-fri",  # Monday 08:30 local
     dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)),
    (dt.datetime(2026, 11, 20, 1, 0, 59, tzinfo=dt.UTC), "* * * * *",
     dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)),
])
def test_fire_time_is_the_latest_tick_in_the_config_timezone(
        config: Config, rules: Path, now: dt.datetime, schedule: str,
        expected: dt.datetime) -> None:
    library = load_library(config)
    playbook = library.playbooks["winback"]
    every = dataclasses.replace(playbook, trigger=Trigger(schedule=schedule, event=None))
    assert fire_time(every, config, now) == expected


def test_a_broken_library_leaves_the_running_jobs(engine: sa.Engine, config: Config,
                                                 rules: Path) -> None:
    clock = Clock(dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC))
    scheduler = Scheduler(engine, config, "a", TTL, clock)
    scheduler.tick()
    before = {job.id for job in scheduler.jobs.get_jobs()}
    assert "winback" in before and "zero_usage_alert" not in before
    (rules / "winback.yaml").write_text("playbook: [oops\n")
    scheduler.tick()
    assert {job.id for job in scheduler.jobs.get_jobs()} == before
    assert scheduler.library is not None and "winback" in scheduler.library.playbooks
    (rules / "winback.yaml").unlink()
    scheduler.tick()
    assert "winback" not in {job.id for job in scheduler.jobs.get_jobs()}


def test_two_scheduler_processes_sweep_once_and_hand_over_when_one_dies(
        pg_url: str, tmp_path: Path) -> None:
    """Real `tend scheduler` processes on one PostgreSQL database, a playbook due every minute."""
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copytree(ROOT / "rules" / "offers", folder / "offers")  # winback names an offer
    text = (ROOT / "rules" / "winback.yaml").read_text()
    (folder / "winback.yaml").write_text(text.replace('schedule: "0 9 * * *"',
                                                      'schedule: "* * * * *"'))
    env = {**os.environ, "TEND_DATABASE_URL": pg_url, "TEND_RULES": str(folder),
           "TEND_WORKFLOWS": str(ROOT / "workflows"), "TEND_CONFIG": str(ROOT / "config.yaml")}
    command = [sys.executable, "-m", "adapters.cli", "scheduler", "--every", "0.5", "--ttl", "3"]
    processes = [subprocess.Popen(command, env=child_env(env), cwd=tmp_path,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(2)]
    engine = make_engine(pg_url)
    try:
        leader = wait_for(lambda: lease_holder(engine), 30)
        assert wait_for(lambda: ticket_count(engine), 75) == 1  # the leader's start sweeps
        time.sleep(2)
        keys = window_keys(engine)  # a minute may have turned meanwhile: its own window
        assert len(keys) == len(set(keys)) <= 2  # the other process swept nothing
        by_pid = {f":{p.pid}": p for p in processes}
        dead = next(p for suffix, p in by_pid.items() if str(leader).endswith(suffix))
        dead.kill()
        dead.wait(10)
        survivor = next(p for p in processes if p is not dead)
        assert wait_for(lambda: str(lease_holder(engine)).endswith(f":{survivor.pid}"), 20)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        engine.dispose()


def wait_for(probe: Callable[[], object], seconds: float) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"nothing after {seconds}s")


def window_keys(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(tickets.c.window_key)))


def ticket_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(tickets)) or 0)


def test_the_leader_plans_one_standing_ticket_per_event_or_contact_playbook_version(
        engine: sa.Engine, config: Config, rules: Path) -> None:
    clock = Clock(dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC))
    first, second = pair(engine, config, clock)
    for _ in range(2):
        first.tick()
        second.tick()
        clock.now += dt.timedelta(seconds=5)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tickets.c.playbook, tickets.c.state, tickets.c.trigger)
                            .where(tickets.c.trigger.in_(("event", "contact")))  # not sweeps
                            .order_by(tickets.c.playbook)).all()
    assert [tuple(r) for r in rows] == [("arrears_alert", "planned", "event"),
                                        ("call_forwarding_alert", "planned", "event"),
                                        ("competitor_call_alert", "planned", "event"),
                                        ("low_balance_alert", "planned", "event"),
                                        ("number_kept_alert", "planned", "event"),
                                        ("pre_disconnect_alert", "planned", "event"),
                                        ("retention_inbound", "planned", "contact"),
                                        ("zero_usage_alert", "planned", "event")]
