"""The push worker's decisions on both databases, its channels FakePushers (tests/support/fakes.py):
what is handed to which channel, once; what a busy, refusing or failing far side makes of a
task; who is told of a cancel. The real webhook receiver's side stays in test_worker.py and
test_worker_http.py; nothing here opens a socket."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.executing import HOLD, NOW, executing
from support.fakes import BUSY, OK, FakePusher, pushers

from adapters.channels.base import REFUSED, Outcome
from adapters.db.engines import make_engine
from adapters.db.schema import events, tasks, tickets
from adapters.tasks.worker import run_once
from adapters.tickets import service as ticket_service
from engine.config import Config
from engine.playbooks.library import Library
from engine.tickets.users import User

LATER = NOW + dt.timedelta(hours=1)


@pytest.fixture
def engine(db_url: str, config: Config, library: Library) -> Iterator[Engine]:
    """A winback ticket executing since four days ago: its 12 tasks (6 calls, 6 sms) are due."""
    engine = make_engine(db_url)
    executing(engine, config, library)
    yield engine
    engine.dispose()


def _fakes(**options: Any) -> tuple[FakePusher, FakePusher]:
    return FakePusher("outbound_call", **options), FakePusher("sms", **options)


def _tasks(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(tasks).order_by(tasks.c.id)))


def _cancel_the_ticket(engine: Engine, config: Config, library: Library) -> None:
    with engine.begin() as conn:
        ticket_id = conn.scalar(sa.select(tickets.c.id))
        ticket_service.cancel(conn, config, library, ticket_id,
                              User("lead", frozenset({"campaign_lead"})), "recalled", NOW)


def test_each_due_task_goes_to_its_own_channel_once_and_is_reported_delivered(
        engine: Engine) -> None:
    call, sms = _fakes()
    counts = run_once(engine, pushers(call, sms), 100, HOLD, NOW)
    rows = _tasks(engine)
    assert counts["delivered"] == len(rows) == 12
    assert sorted(call.keys()) == sorted(r.idempotency_key for r in rows
                                         if r.channel == "outbound_call")
    assert sorted(sms.keys()) == sorted(r.idempotency_key for r in rows if r.channel == "sms")
    assert {(r.state, r.attempts, r.detail["push"]) for r in rows} == {
        ("delivered", 1, OK.detail)}
    assert call.closed == sms.closed == 1  # a round without a pool lets go of its channels
    with engine.connect() as conn:
        reported = conn.scalars(sa.select(events.c.id).where(events.c.type == "task_result"))
        assert sorted(reported) == sorted(f"task:{r.id}:delivered" for r in rows)
    assert sum(run_once(engine, pushers(call, sms), 100, HOLD, NOW).values()) == 0
    assert len(call.sent) + len(sms.sent) == 12


def test_a_busy_far_side_gets_the_same_task_again_after_its_backoff(engine: Engine) -> None:
    call, sms = _fakes(script=[BUSY] * 6, backoff=60)
    assert run_once(engine, pushers(call, sms), 100, HOLD, NOW)["retry"] == 12
    waiting = _tasks(engine)
    assert {(r.state, r.detail["error"], r.detail["attempts"]) for r in waiting} == {
        ("pending", BUSY.detail, 1)}
    assert all(NOW + dt.timedelta(seconds=29) < r.due_at <= NOW + dt.timedelta(seconds=60)
               for r in waiting)
    assert sum(run_once(engine, pushers(call, sms), 100, HOLD, NOW).values()) == 0
    assert run_once(engine, pushers(call, sms), 100, HOLD, LATER)["delivered"] == 12
    rows = _tasks(engine)
    assert {(r.state, r.attempts) for r in rows} == {("delivered", 2)}
    assert sorted(call.keys() + sms.keys()) == sorted(r.idempotency_key for r in rows
                                                      for _ in range(2))


def test_a_far_side_busy_for_every_attempt_dead_letters_the_task(engine: Engine) -> None:
    call, sms = _fakes(then=BUSY, attempts=2, backoff=1)
    run_once(engine, pushers(call, sms), 100, HOLD, NOW)
    counts = run_once(engine, pushers(call, sms), 100, HOLD, LATER)
    rows = _tasks(engine)
    assert counts["dead"] == 12
    assert {(r.state, r.attempts, r.detail["reason"]) for r in rows} == {
        ("dead", 2, f"gave up after 2 attempts: {BUSY.detail}")}
    assert len(call.sent) + len(sms.sent) == 24
    after = LATER + dt.timedelta(hours=1)
    assert sum(run_once(engine, pushers(call, sms), 100, HOLD, after).values()) == 0  # dead stays


def test_a_refusal_dead_letters_at_once_with_the_phone_it_names_masked(engine: Engine) -> None:
    refusal = Outcome(REFUSED, "unknown subscriber +8613800000000")
    call, sms = _fakes(then=refusal, attempts=5)
    assert run_once(engine, pushers(call, sms), 100, HOLD, NOW)["dead"] == 12
    rows = _tasks(engine)
    assert {(r.state, r.attempts) for r in rows} == {("dead", 1)}
    assert all(r.detail["reason"].startswith("unknown subscriber")
               and "13800000000" not in r.detail["reason"] for r in rows)


def test_a_cancelled_ticket_tells_each_channel_holding_a_task_once(
        engine: Engine, config: Config, library: Library) -> None:
    call, sms = _fakes()
    run_once(engine, pushers(call, sms), 100, HOLD, NOW)
    _cancel_the_ticket(engine, config, library)
    assert run_once(engine, pushers(call, sms), 100, HOLD, NOW)["cancels"] == 12
    assert run_once(engine, pushers(call, sms), 100, HOLD, LATER)["cancels"] == 0
    assert sorted(t["idempotency_key"] for t in call.cancels) == sorted(call.keys())
    assert sorted(t["idempotency_key"] for t in sms.cancels) == sorted(sms.keys())
    assert {(r.state, r.lease_expires_at, r.detail["cancel"]["outcome"])
            for r in _tasks(engine)} == {("cancelled", None, "delivered")}


def test_a_busy_cancel_is_asked_again_later_and_then_taken(
        engine: Engine, config: Config, library: Library) -> None:
    call, sms = _fakes(cancel_then=BUSY)
    run_once(engine, pushers(call, sms), 100, HOLD, NOW)
    _cancel_the_ticket(engine, config, library)
    assert run_once(engine, pushers(call, sms), 100, HOLD, NOW)["cancels"] == 0
    assert {(r.state, r.detail["cancel"]["attempts"]) for r in _tasks(engine)} == {
        ("delivered", 1)}
    call.cancel_then = sms.cancel_then = OK
    assert run_once(engine, pushers(call, sms), 100, HOLD, LATER)["cancels"] == 12
    assert {(r.state, r.detail["cancel"]["attempts"]) for r in _tasks(engine)} == {
        ("cancelled", 2)}


def test_a_channel_that_takes_no_cancels_is_never_sent_one(
        engine: Engine, config: Config, library: Library) -> None:
    call, sms = _fakes(takes_cancels=False)
    run_once(engine, pushers(call, sms), 100, HOLD, NOW)
    _cancel_the_ticket(engine, config, library)
    assert run_once(engine, pushers(call, sms), 100, HOLD, LATER)["cancels"] == 0
    assert call.cancels == sms.cancels == []
    assert {r.state for r in _tasks(engine)} == {"delivered"}
