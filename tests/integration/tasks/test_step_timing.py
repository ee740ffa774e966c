"""Step timing on both databases: delay, retry on results, `unless: converted`, and the
closure of every open task when the customer answers or reaches the goal."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from support.http_api import Api

from adapters.db.engines import make_engine
from adapters.db.schema import customers, events, tasks
from adapters.http.state import State
from adapters.tasks import service as task_pull
from adapters.tickets import service
from engine.config import Config
from engine.playbooks.library import Library
from engine.tasks import policy as pol
from engine.tasks import task as tk
from engine.tickets.users import User

AT = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai
LEAD = User("lead", frozenset({"campaign_lead"}))
DIAMONDS = ["d1", "d2"]


@pytest.fixture
def free(config: Config) -> Config:
    """No contact policy: these tests are about timing."""
    return dataclasses.replace(config, policy=pol.Policy())


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": cid, "phone": "+8613800000000", "joined_on": dt.date(2019, 1, 1),
             "arpu": 350.0, "churned_on": dt.date(2026, 10, 1), "updated_at": AT}
            for cid in DIAMONDS])
    yield engine
    engine.dispose()


def winback(engine: sa.Engine, config: Config, library: Library, at: dt.datetime = AT) -> int:
    """winback: a call now (retry on no_answer, twice, a day after), an sms in 3 days
    (unless converted), goal plan_reactivated."""
    with engine.begin() as conn:
        planned = service.plan(conn, config, library, library.playbooks["winback"], at,
                               "manual", "designer")
        assert planned is not None
        service.approve(conn, config, library, planned["id"], LEAD, None, at)
    return int(planned["id"])


def task_of(engine: sa.Engine, customer: str, step: str, attempt: int = 0) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(tasks).where(
            tasks.c.customer_id == customer, tasks.c.step == step,
            tasks.c.attempt == attempt)).first()


def report(engine: sa.Engine, task_id: int, status: str, at: dt.datetime) -> None:
    """An adapter's result on a task it holds: a pending one is pulled first (a result on a
    task no channel had is refused, engine.tasks.task)."""
    with engine.begin() as conn:
        row = task_pull.task(conn, task_id)
        if row.state == tk.PENDING:
            conn.execute(tasks.update().where(tasks.c.id == task_id).values(
                state=tk.move(task_id, row.state, tk.LEASE), sent_at=row.due_at,
                lease_expires_at=at + dt.timedelta(minutes=5)))
            row = task_pull.task(conn, task_id)
        task_pull.record_result(conn, row, status, at, None, at)


def claim(engine: sa.Engine, channel: str, at: dt.datetime) -> list[str]:
    with engine.begin() as conn:
        items = task_pull.pull(conn, channel, 10, dt.timedelta(days=30), at)
    return [f"{t['customer_id']}/{t['idempotency_key']}" for t in items]


def test_each_step_is_due_its_delay_after_the_start(engine: sa.Engine, free: Config,
                                                    library: Library) -> None:
    winback(engine, free, library)
    assert task_of(engine, "d1", "call").due_at == AT
    assert task_of(engine, "d1", "sms").due_at == AT + dt.timedelta(days=3)
    assert task_of(engine, "d1", "sms").step_rules == {"goal": "plan_reactivated",
                                                        "unless": "converted"}


def test_no_answer_re_plans_the_call_after_its_delay_as_many_times_as_the_step_says(
        engine: sa.Engine, free: Config, library: Library) -> None:
    winback(engine, free, library)
    first = task_of(engine, "d1", "call")
    report(engine, first.id, "no_answer", AT + dt.timedelta(hours=1))
    report(engine, first.id, "no_answer", AT + dt.timedelta(hours=2))  # a repeat: no second
    second = task_of(engine, "d1", "call", 1)
    assert second.idempotency_key == f"{first.idempotency_key}#1"
    assert (second.state, second.retry_of, second.channel) == ("pending", first.id,
                                                                "outbound_call")
    assert second.due_at == AT + dt.timedelta(days=1, hours=1)
    report(engine, second.id, "no_answer", AT + dt.timedelta(days=1, hours=1))
    third = task_of(engine, "d1", "call", 2)
    assert third.idempotency_key == f"{first.idempotency_key}#2"
    report(engine, third.id, "no_answer", AT + dt.timedelta(days=2, hours=1))
    assert task_of(engine, "d1", "call", 3) is None  # times: 2 retries, then no more
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(tasks).where(
            tasks.c.customer_id == "d1", tasks.c.step == "call")) == 3


def test_results_the_step_does_not_retry_on_re_plan_nothing(
        engine: sa.Engine, free: Config, library: Library) -> None:
    winback(engine, free, library)
    call, sms = task_of(engine, "d1", "call"), task_of(engine, "d1", "sms")
    report(engine, call.id, "failed", AT)       # the call retries on no_answer only
    report(engine, sms.id, "failed", AT)        # the sms has no retry
    report(engine, call.id, "no_answer", AT)    # same stage as failed: kept result unchanged
    assert task_of(engine, "d1", "call", 1) is None and task_of(engine, "d1", "sms", 1) is None


def test_no_retry_once_the_customer_accepted_elsewhere(
        engine: sa.Engine, free: Config, library: Library) -> None:
    winback(engine, free, library)
    call, sms = task_of(engine, "d1", "call"), task_of(engine, "d1", "sms")
    with engine.begin() as conn:  # the call went out before the SMS was answered
        conn.execute(tasks.update().where(tasks.c.id == call.id).values(sent_at=AT))
    report(engine, sms.id, "accepted", AT)
    report(engine, call.id, "no_answer", AT)  # late, on the cancelled call: taken
    assert task_of(engine, "d1", "call").state == "no_answer"
    assert task_of(engine, "d1", "call", 1) is None


def test_a_retry_is_judged_by_the_contact_policy_when_claimed(
        engine: sa.Engine, config: Config, library: Library) -> None:
    winback(engine, config, library)
    call = task_of(engine, "d1", "call")
    report(engine, call.id, "no_answer", AT)
    rules = dataclasses.replace(config.policy, caps=(
        pol.Cap(1, dt.timedelta(days=7), "outbound_call"),))
    with engine.begin() as conn:
        conn.execute(tasks.update().where(tasks.c.id == call.id).values(sent_at=AT))
        task_pull.pull(conn, "outbound_call", 10, dt.timedelta(days=1),
                       AT + dt.timedelta(days=1), rules)
    retried = task_of(engine, "d1", "call", 1)
    assert retried.state == "suppressed" and retried.detail["reason"] == "frequency_cap"


def test_an_accepted_call_cancels_the_customers_open_tasks_in_every_state(
        engine: sa.Engine, free: Config, library: Library) -> None:
    ticket = winback(engine, free, library)
    with engine.begin() as conn:
        rows = conn.execute(sa.select(tasks).where(tasks.c.ticket_id == ticket)).all()
    other = task_of(engine, "d2", "sms")
    call = task_of(engine, "d1", "call")
    sms = task_of(engine, "d1", "sms")
    for state in ("pending", "leased", "pushed"):
        with engine.begin() as conn:
            conn.execute(tasks.update().where(tasks.c.id == sms.id).values(state=state))
        report(engine, call.id, "accepted", AT)
        assert task_of(engine, "d1", "sms").state == "cancelled"
        with engine.begin() as conn:
            conn.execute(tasks.update().where(tasks.c.id == call.id).values(state="pending"))
    assert task_of(engine, "d2", "sms").state == other.state == "pending"
    assert len(rows) == 4


def test_unless_converted_cancels_the_step_when_the_goal_was_reached_without_a_trigger(
        engine: sa.Engine, free: Config, library: Library) -> None:
    winback(engine, free, library)
    with engine.begin() as conn:  # as `tend import events --no-trigger` stores it
        conn.execute(events.insert().values(
            id="r1", customer_id="d1", type="plan_reactivated", at=AT + dt.timedelta(days=1),
            data=None, known_customer=True, received_at=AT + dt.timedelta(days=1)))
    assert claim(engine, "sms", AT + dt.timedelta(days=3)) == [
        f"d2/{task_of(engine, 'd2', 'sms').idempotency_key}"]
    sms = task_of(engine, "d1", "sms")
    assert sms.state == "cancelled" and sms.detail["reason"] == "unless converted"
    assert sms.detail["note"].startswith("goal plan_reactivated reached")


def test_unless_converted_also_stops_after_an_accepted_step(
        engine: sa.Engine, free: Config, library: Library) -> None:
    winback(engine, free, library)
    call = task_of(engine, "d1", "call")
    with engine.begin() as conn:  # accepted, bypassing the closure: the claim checks alone
        conn.execute(tasks.update().where(tasks.c.id == call.id).values(state="accepted"))
    claim(engine, "sms", AT + dt.timedelta(days=3))
    assert task_of(engine, "d1", "sms").detail == {"reason": "unless converted",
                                                   "note": "step call was accepted"}


def test_a_goal_event_closes_the_customers_open_tasks_of_the_ticket(api: Api) -> None:
    st: State = api.app.extensions["tend"]
    now = dt.datetime.now(dt.UTC)
    with st.engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": cid, "joined_on": dt.date(2019, 1, 1), "arpu": 350.0,
             "churned_on": now.date() - dt.timedelta(days=10), "updated_at": now}
            for cid in DIAMONDS])
    winback(st.engine, dataclasses.replace(st.config, policy=pol.Policy()), st.library,
            now - dt.timedelta(hours=1))
    with st.engine.begin() as conn:
        conn.execute(tasks.update().where(tasks.c.customer_id == "d1", tasks.c.step == "call")
                     .values(state="pushed", lease_expires_at=now + dt.timedelta(minutes=5)))
    reply = api.call("POST", "/events", "adapter:sms", json=[
        {"id": "g1", "customer_id": "d1", "type": "plan_reactivated", "at": now.isoformat()},
        {"id": "g0", "customer_id": "d2", "type": "plan_reactivated",
         "at": (now - dt.timedelta(days=1)).isoformat()}])  # before d2 entered: no closure
    assert reply.status_code == 200, reply.json
    for step in ("call", "sms"):
        task = task_of(st.engine, "d1", step)
        assert task.state == "cancelled" and task.detail["reason"] == "goal reached"
    assert task_of(st.engine, "d1", "call").lease_expires_at is not None  # cancel is sent
    assert {task_of(st.engine, "d2", s).state for s in ("call", "sms")} == {"pending"}


def test_a_late_result_that_overtakes_the_retried_one_cancels_the_retry(
        engine: sa.Engine, free: Config, library: Library) -> None:
    winback(engine, free, library)
    call = task_of(engine, "d1", "call")
    report(engine, call.id, "no_answer", AT + dt.timedelta(minutes=5))
    report(engine, call.id, "connected", AT)  # the receipt of the call arrives late
    retried = task_of(engine, "d1", "call", 1)
    assert (retried.state, retried.detail["reason"]) == ("cancelled", "answered")
    assert task_of(engine, "d1", "call").state == "connected"
