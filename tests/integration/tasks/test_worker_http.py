"""Dispatch seen from the HTTP side, on both databases: cancels reaching the receivers that
hold a task, dead letters listed and retried, account managers' tasks, and handoffs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from support.http_api import Api
from support.webhook import Receiver, receiving, signed

from adapters.channels.base import DELIVERED, RETRY, Outcome, Pusher
from adapters.channels.registry import pushers
from adapters.db.schema import customers, tasks
from adapters.http.state import State
from adapters.tasks.pushes import claim, record
from adapters.tasks.worker import cancel as send_cancels
from adapters.tasks.worker import run_once
from adapters.tickets import service as tickets
from engine.clock import FixedClock
from engine.config import Config
from engine.tasks.channel import Channel
from engine.tickets.users import User

# 11:00 in Shanghai: outside every channel's quiet hours, whatever the hour the suite runs at.
NOW = dt.datetime(2026, 12, 31, 3, 0, tzinfo=dt.UTC)
STARTED = NOW - dt.timedelta(days=4)  # winback's call is due at the start, its sms 3 days on
MANAGERS = {"d00": "m01", "d01": "m01", "d02": "m01", "d03": "m02", "d04": "m02", "d05": None}
SECRET_ENV, SECRET = "TEND_TEST_HOOK_SECRET", "s3cret-for-tests"
HOLD = dt.timedelta(minutes=5)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def executing(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    """A winback ticket (id 1) planned and approved four days ago: every task is due now."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    st: State = api.app.extensions["tend"]
    with st.engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": cid, "phone": "+8613800000000", "manager": manager,
             "joined_on": dt.date(2019, 1, 1), "arpu": 350.0,
             "churned_on": STARTED.date() - dt.timedelta(days=10), "updated_at": STARTED}
            for cid, manager in MANAGERS.items()])
        planned = tickets.plan(conn, st.config, st.library, st.library.playbooks["winback"],
                               STARTED, "manual", "designer")
        assert planned is not None and planned["id"] == 1
        tickets.approve(conn, st.config, st.library, planned["id"],
                        User("lead", frozenset({"campaign_lead"})), "ok", STARTED)
    return api


def _engine(api: Api) -> sa.Engine:
    st: State = api.app.extensions["tend"]
    return st.engine


def _hooked(config: Config, receiver: Receiver) -> dict[str, Pusher]:
    bound = {"url": receiver.url, "secret_env": SECRET_ENV, "timeout": 5}
    return pushers(dataclasses.replace(config, channels={
        name: Channel(name, "webhook", bound) for name in config.channels}).channels)


def _rows(api: Api) -> list[Any]:
    with _engine(api).connect() as conn:
        return list(conn.execute(sa.select(tasks).order_by(tasks.c.id)))


# --- cancels ---

def test_a_cancelled_ticket_sends_each_receiver_holding_a_task_one_signed_cancel(
        executing: Api, config: Config) -> None:
    with receiving() as receiver:
        channels = _hooked(config, receiver)
        assert run_once(_engine(executing), channels, 100, HOLD, NOW)["delivered"] == 12
        cancelled = executing.call("POST", "/tickets/1/cancel", json={"reason": "recalled"})
        assert cancelled.status_code == 200
        first = run_once(_engine(executing), channels, 100, HOLD, NOW)
        again = run_once(_engine(executing), channels, 100, HOLD, NOW)
    rows = _rows(executing)
    assert first["cancels"] == len(rows) == 12 and again["cancels"] == 0
    assert sorted(receiver.keys("cancel")) == sorted(r.idempotency_key for r in rows)
    for key, signature, body in receiver.calls:
        message = json.loads(body)
        assert signed(signature, body, SECRET) and message["idempotency_key"] == key
        if message["kind"] == "cancel":
            assert "payload" not in message  # a cancel names the task; it is not re-sent
    assert {(r.state, r.lease_expires_at, r.detail["cancel"]["outcome"]) for r in rows} == {
        ("cancelled", None, "delivered")}


def test_an_accepted_call_cancels_only_that_customers_delivered_sms(executing: Api,
                                                                     config: Config) -> None:
    with receiving() as receiver:
        channels = _hooked(config, receiver)
        run_once(_engine(executing), channels, 100, HOLD, NOW)
        by_key = {(r.customer_id, r.step): r for r in _rows(executing)}
        call = by_key[("d00", "call")]
        accepted = executing.call("POST", f"/tasks/{call.id}/result",
                                  json={"status": "accepted"})
        assert accepted.status_code == 200
        counts = run_once(_engine(executing), channels, 100, HOLD, NOW + dt.timedelta(seconds=1))
    assert counts["cancels"] == 1
    assert receiver.keys("cancel") == [by_key[("d00", "sms")].idempotency_key]
    states = {(r.customer_id, r.step): r.state for r in _rows(executing)}
    assert states[("d00", "sms")] == "cancelled" and states[("d00", "call")] == "accepted"
    assert {s for (cid, _), s in states.items() if cid != "d00"} == {"delivered"}


def test_a_task_cancelled_while_in_flight_is_cancelled_after_its_push_ends(
        executing: Api, config: Config) -> None:
    engine = _engine(executing)
    with receiving() as receiver:
        channels = _hooked(config, receiver)
        held = claim(engine, list(channels), 100, HOLD, NOW)
        assert len(held) == 12
        executing.call("POST", "/tickets/1/cancel", json={"reason": "recalled"})
        kinds = record(engine, channels, [(t, Outcome(DELIVERED, "HTTP 200")) for t in held],
                       NOW)
        assert set(kinds) == {"changed"}  # the cancel came first: the task stays cancelled
        with ThreadPoolExecutor(2) as pool:
            sent = send_cancels(engine, channels, 100, HOLD, NOW, pool)
        for pusher in channels.values():
            pusher.close()
    assert sent == len(held) and len(receiver.keys("cancel")) == len(held)
    assert {r.state for r in _rows(executing)} == {"cancelled"}


def test_a_push_waiting_for_its_retry_is_told_of_the_cancel(executing: Api,
                                                            config: Config) -> None:
    """A timed-out push may have reached the receiver: cancelled while it waits for its next
    attempt, it gets a cancel, and no second push."""
    engine = _engine(executing)
    with receiving() as receiver:
        channels = _hooked(config, receiver)
        held = claim(engine, list(channels), 100, HOLD, NOW)
        kinds = record(engine, channels, [(t, Outcome(RETRY, "TimeoutError")) for t in held],
                       NOW)
        assert set(kinds) == {RETRY}
        executing.call("POST", "/tickets/1/cancel", json={"reason": "recalled"})
        later = NOW + dt.timedelta(days=1)  # every retry would be due by now
        counts = run_once(engine, channels, 100, HOLD, later)
        again = run_once(engine, channels, 100, HOLD, later)
    assert counts["delivered"] == 0 and counts["cancels"] == len(held) == 12
    assert again["cancels"] == 0 and receiver.keys("task") == []
    assert sorted(receiver.keys("cancel")) == sorted(t["idempotency_key"] for t in held)
    assert {r.state for r in _rows(executing)} == {"cancelled"}


def test_tasks_never_pushed_are_cancelled_without_a_message(executing: Api,
                                                            config: Config) -> None:
    """Tasks that were never sent are cancelled in place: nobody holds them."""
    with receiving() as receiver:
        channels = _hooked(config, receiver)
        executing.call("POST", "/tickets/1/cancel", json={"reason": "recalled"})
        counts = run_once(_engine(executing), channels, 100, HOLD, NOW)
    assert counts["cancels"] == 0 and receiver.calls == []


def test_a_result_reported_while_its_cancel_is_on_the_way_stands(executing: Api,
                                                                  config: Config) -> None:
    with receiving() as receiver:
        channels = _hooked(config, receiver)
        run_once(_engine(executing), channels, 100, HOLD, NOW)
    rows = {(r.customer_id, r.step): r for r in _rows(executing)}
    sms = rows[("d00", "sms")]

    def cancel_answered_late(task: Mapping[str, Any]) -> Outcome:
        reply = executing.call("POST", f"/tasks/{task['id']}/result", "adapter:sms",
                               json={"status": "connected"})  # the receiver's own news
        assert reply.status_code == 200
        return Outcome(DELIVERED, "HTTP 200")

    late = {"sms": dataclasses.replace(channels["sms"], cancel=cancel_answered_late)}
    executing.call("POST", f"/tasks/{rows[('d00', 'call')].id}/result",
                   json={"status": "accepted"})
    with ThreadPoolExecutor(2) as pool:
        assert send_cancels(_engine(executing), late, 100, HOLD, NOW + dt.timedelta(seconds=1),
                            pool) == 1
    after = next(r for r in _rows(executing) if r.id == sms.id)
    assert (after.state, after.lease_expires_at) == ("connected", None)
    assert after.detail["cancel"]["outcome"] == "delivered"


def test_a_pulled_task_of_a_cancelled_ticket_is_listed_as_cancelled_once(
        executing: Api) -> None:
    leased = executing.call("GET", "/channels/sms/tasks", "adapter:sms").json["items"]
    assert leased and {t["state"] for t in leased} == {"leased"}
    executing.call("POST", "/tickets/1/cancel", json={"reason": "recalled"})
    listed = executing.call("GET", "/channels/sms/tasks", "adapter:sms").json["items"]
    assert sorted((t["id"], t["state"]) for t in listed) == sorted(
        (t["id"], "cancelled") for t in leased)
    assert executing.call("GET", "/channels/sms/tasks", "adapter:sms").json["items"] == []


# --- dead letters ---

def _dead_letters(api: Api, role: str = "admin", query: str = "") -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        path = f"/tasks?state=dead&limit=2{query}" + (f"&cursor={cursor}" if cursor else "")
        reply = api.call("GET", path, role)
        assert reply.status_code == 200, reply.json
        items += reply.json["items"]
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return items


def test_dead_letters_are_listed_with_their_reason_and_retried_with_their_key(
        executing: Api, config: Config) -> None:
    with receiving([400]) as refusing:
        run_once(_engine(executing), _hooked(config, refusing), 100, HOLD, NOW)
    dead = _dead_letters(executing)
    assert len(dead) == 12 and len({t["id"] for t in dead}) == 12
    assert {t["detail"]["reason"] for t in dead} == {f"HTTP 400 from {refusing.url}"}
    assert {t["channel"] for t in _dead_letters(executing, "adapter:sms")} == {"sms"}
    assert len(_dead_letters(executing, "adapter:sms", "&channel=sms")) == 6
    assert executing.call("GET", "/tasks?state=dead&channel=outbound_call",
                          "adapter:sms").status_code == 403

    task = dead[0]
    retried = executing.call("POST", f"/tasks/{task['id']}/retry")
    assert retried.status_code == 200, retried.json
    assert (retried.json["state"], retried.json["attempts"], retried.json["idempotency_key"]) \
        == ("pending", 0, task["idempotency_key"])
    assert retried.json["detail"]["retried"]["by"] == "admin"
    assert executing.call("POST", f"/tasks/{task['id']}/retry").status_code == 409
    assert executing.call("POST", "/tasks/999999/retry").status_code == 404
    with receiving() as receiver:
        counts = run_once(_engine(executing), _hooked(config, receiver), 100, HOLD,
                          NOW + dt.timedelta(minutes=1))
    assert counts["delivered"] == 1 and receiver.keys() == [task["idempotency_key"]]
    assert len(_dead_letters(executing)) == 11


@pytest.mark.parametrize(("path", "status", "field"), [
    ("/tasks?state=deceased", 400, "state"),
    ("/tasks?state=dead&cursor=bm9wZQ", 400, "cursor"),  # "nope"
    ("/tasks?state=dead&limit=0", 400, "limit"),
    ("/managers/m01/tasks?state=bogus", 400, "state"),
])
def test_bad_listing_queries_name_the_parameter(executing: Api, path: str, status: int,
                                                field: str) -> None:
    reply = executing.call("GET", path)
    assert reply.status_code == status and reply.is_json
    assert field in json.dumps(reply.json["errors"])


# --- account managers and handoffs ---

def test_a_manager_reads_and_reports_on_their_own_tasks_only(executing: Api) -> None:
    mine = executing.call("GET", "/managers/m01/tasks", "manager:m01")
    assert mine.status_code == 200
    assert sorted(t["customer_id"] for t in mine.json["items"]) == ["d00", "d01", "d02"]
    assert {(t["route"], t["step"]) for t in mine.json["items"]} == {("manager:m01", "call")}
    assert executing.call("GET", "/managers/m02/tasks", "manager:m01").status_code == 403
    assert len(executing.call("GET", "/managers/m02/tasks").json["items"]) == 2  # admin
    rows = {(r.customer_id, r.step): r for r in _rows(executing)}
    assert rows[("d05", "call")].route == "pool"  # no manager: the channel's pool

    own = executing.call("POST", f"/tasks/{rows[('d00', 'call')].id}/result", "manager:m01",
                         json={"status": "connected"})
    assert own.status_code == 200 and own.json["state"] == "connected"
    for other in (rows[("d03", "call")], rows[("d00", "sms")]):
        reply = executing.call("POST", f"/tasks/{other.id}/result", "manager:m01",
                               json={"status": "connected"})
        assert reply.status_code == 403 and other.route in reply.json["message"]
    assert executing.call("GET", "/managers/m01/tasks?state=connected",
                          "manager:m01").json["items"][0]["customer_id"] == "d00"


def test_a_handoff_makes_one_follow_up_whose_result_counts_on_the_ticket(
        executing: Api) -> None:
    rows = {(r.customer_id, r.step): r for r in _rows(executing)}
    call = rows[("d01", "call")]
    body = {"status": "connected",
            "handoff": {"channel": "store", "note": "visiting Friday"}}
    first = executing.call("POST", f"/tasks/{call.id}/result", "manager:m01", json=body)
    again = executing.call("POST", f"/tasks/{call.id}/result", "manager:m01", json=body)
    assert first.status_code == again.status_code == 200, first.json
    visit = first.json["handoff"]
    assert again.json["handoff"]["id"] == visit["id"]
    assert (visit["ticket_id"], visit["customer_id"], visit["channel"], visit["route"],
            visit["state"], visit["idempotency_key"]) == (
        1, "d01", "store", "manager:m01", "pending", f"{call.idempotency_key}>store")
    assert visit["payload"]["handoff"] == {"task_id": call.id, "step": "call",
                                           "channel": "outbound_call", "note": "visiting Friday"}
    assert len(_rows(executing)) == len(rows) + 1

    accepted = executing.call("POST", f"/tasks/{visit['id']}/result", "manager:m01",
                              json={"status": "accepted"})
    assert accepted.status_code == 200
    on_ticket = {(t["customer_id"], t["step"]): t["state"]
                 for t in executing.call("GET", "/tickets/1/tasks").json["items"]}
    assert on_ticket[("d01", "call>store")] == "accepted"
    assert on_ticket[("d01", "sms")] == "cancelled"  # the store visit closed the other channels


def test_a_handoff_to_an_unknown_channel_is_a_400_that_writes_nothing(executing: Api) -> None:
    call = next(r for r in _rows(executing) if r.step == "call")
    reply = executing.call("POST", f"/tasks/{call.id}/result", json={
        "status": "connected", "handoff": {"channel": "pigeon"}})
    assert reply.status_code == 400 and "handoff" in reply.json["errors"]
    assert {r.state for r in _rows(executing)} == {"pending"}
    missing = executing.call("POST", f"/tasks/{call.id}/result", json={
        "status": "connected", "handoff": {"note": "no channel"}})
    assert missing.status_code == 400 and "handoff" in missing.json["errors"]
