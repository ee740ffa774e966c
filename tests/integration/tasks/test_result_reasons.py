"""Result reason codes on both databases: a person's declined or failed result needs a code
from config.yaml, an unknown code is refused naming `reason`, and `wrong_number` stops every
channel that uses the phone until an import brings a different phone."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from support.folders import SHIPPED
from support.http_api import ROOT, Api

from adapters.db.schema import customers, tasks
from adapters.http.state import State
from engine.clock import Clock, FixedClock
from engine.config import Config
from engine.config_loader import load_config
from engine.tasks.policy import Policy

NOW = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)
PHONES = frozenset({"sms", "outbound_call", "account_manager"})


@pytest.fixture
def clock() -> Clock:
    return FixedClock(NOW)


@pytest.fixture
def config() -> Config:
    """The shipped config (its reason codes) with a policy of phone channels only: no quiet
    hours at this late hour, no caps."""
    return dataclasses.replace(load_config(ROOT / "config.yaml"), folders=SHIPPED,
                               policy=Policy(phone_channels=PHONES))


def _task(n: int, channel: str, route: str = "pool", customer: str = "c1") -> dict[str, Any]:
    return {"ticket_id": 1, "entry_id": n, "customer_id": customer, "step": f"s{n}",
            "channel": channel, "route": route, "state": "pending",
            "idempotency_key": f"{n}:s", "due_at": NOW - dt.timedelta(hours=1),
            "payload": {"template": "t"}, "created_at": NOW, "updated_at": NOW}


@pytest.fixture
def desk(api: Api) -> Api:
    """Customer c1 (phone 13800001111) with a call on manager m01's desk (task 1), an SMS
    (2) and an email (3) due; customer c2 with an SMS (4)."""
    st: State = api.app.extensions["tend"]
    with st.engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": cid, "phone": phone, "joined_on": dt.date(2020, 1, 1),
             "updated_at": NOW} for cid, phone in (("c1", "13800001111"), ("c2", "13900002222"))])
        conn.execute(tasks.insert(), [_task(1, "account_manager", "manager:m01"),
                                      _task(2, "sms"), _task(3, "email"),
                                      _task(4, "sms", customer="c2")])
    return api


def _report(api: Api, task_id: int, role: str, **body: Any) -> Any:
    return api.call("POST", f"/tasks/{task_id}/result", role, json=body)


def _states(api: Api) -> dict[int, tuple[str, Any]]:
    st: State = api.app.extensions["tend"]
    with st.engine.connect() as conn:
        return {r.id: (r.state, (r.detail or {}).get("reason"))
                for r in conn.execute(sa.select(tasks.c.id, tasks.c.state, tasks.c.detail))}


def test_a_person_must_give_a_declared_reason(desk: Api) -> None:
    missing = _report(desk, 1, "manager:m01", status="declined")
    assert missing.status_code == 400 and "reason" in missing.json["errors"], missing.json
    unknown = _report(desk, 1, "manager:m01", status="declined", reason="grumpy")
    assert unknown.status_code == 400 and "not_interested" in str(unknown.json["errors"])
    assert _states(desk)[1][0] == "pending"  # nothing written
    given = _report(desk, 1, "manager:m01", status="declined", reason="price")
    assert given.status_code == 200 and given.json["reason"] == "price", given.json


def test_an_adapter_may_report_without_a_reason(desk: Api) -> None:
    pulled = desk.call("GET", "/channels/sms/tasks", "adapter:sms").json["items"]
    assert {t["id"] for t in pulled} == {2, 4}
    assert _report(desk, 4, "adapter:sms", status="declined").status_code == 200


def test_wrong_number_stops_phone_channels_until_the_phone_changes(desk: Api) -> None:
    reply = _report(desk, 1, "manager:m01", status="failed", reason="wrong_number")
    assert reply.status_code == 200, reply.json
    pulled = desk.call("GET", "/channels/sms/tasks", "adapter:sms").json["items"]
    assert [t["id"] for t in pulled] == [4]  # c2's phone is fine
    emailed = desk.call("GET", "/channels/email/tasks", "admin").json["items"]
    assert [t["id"] for t in emailed] == [3]  # email does not use the phone
    assert _states(desk)[2] == ("suppressed", "wrong_number")

    same = desk.call("POST", "/customers", "admin",
                     json=[{"id": "c1", "joined_on": "2020-01-01", "phone": "13800001111"}])
    assert same.status_code == 200, same.json
    st: State = desk.app.extensions["tend"]
    with st.engine.begin() as conn:
        conn.execute(tasks.insert(), [_task(5, "sms")])
    assert desk.call("GET", "/channels/sms/tasks", "adapter:sms").json["items"] == []
    assert _states(desk)[5] == ("suppressed", "wrong_number")

    fresh = desk.call("POST", "/customers", "admin",
                      json=[{"id": "c1", "joined_on": "2020-01-01", "phone": "13800009999"}])
    assert fresh.status_code == 200, fresh.json
    with st.engine.begin() as conn:
        conn.execute(tasks.insert(), [_task(6, "sms")])
    pulled = desk.call("GET", "/channels/sms/tasks", "adapter:sms").json["items"]
    assert [t["id"] for t in pulled] == [6]
