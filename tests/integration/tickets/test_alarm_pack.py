"""The telecom alarm pack (rules/*_alert.yaml): each alarm event that arrives is a task on
the manager's desk due the same local day, on both databases, at noon and at 23:30 on New
Year's Eve in Shanghai (the instant where a task held to "tomorrow" would show)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.http_api import Api

from adapters.http.state import State
from adapters.tickets.scheduler import plan_standing
from engine.clock import Clock, FixedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
# (playbook, event type, event data): one of each alarm, for a silver customer with a manager
ALARMS: list[tuple[str, str, dict[str, Any]]] = [
    ("arrears_alert", "arrears", {"amount": 56.5}),
    ("low_balance_alert", "low_balance", {"balance": 3.2}),
    ("call_forwarding_alert", "call_forwarding", {"number": "13100000000",
                                                  "other_operator": True}),
    ("pre_disconnect_alert", "pre_disconnect", {"reason": "price"}),
    ("number_kept_alert", "number_kept", {"months": 3}),
]


@pytest.fixture(params=[dt.datetime(2026, 12, 31, 23, 30), dt.datetime(2026, 12, 31, 12, 0)],
                ids=["hostile-23:30", "noon"])
def clock(request: pytest.FixtureRequest) -> Clock:
    return FixedClock(request.param.replace(tzinfo=SHANGHAI).astimezone(dt.UTC))


def approve_standing(api: Api, now: dt.datetime) -> dict[str, int]:
    st: State = api.app.extensions["tend"]
    with st.engine.begin() as conn:
        opened = plan_standing(conn, st.config, st.library, now)
    wanted = {playbook for playbook, _, _ in ALARMS}
    found = {t["playbook"]: int(t["id"]) for t in opened if t["playbook"] in wanted}
    assert set(found) == wanted
    for ticket in found.values():
        reply = api.call("POST", f"/tickets/{ticket}/approve", "campaign_lead",
                         json={"comment": "the alarm pack"})
        assert reply.json["state"] == "executing", reply.json
    return found


def test_every_alarm_is_a_manager_task_due_the_same_day(api: Api, clock: Clock) -> None:
    now = clock()
    people = [{"id": f"c{i}", "joined_on": "2019-01-01", "arpu": 120.0, "manager": "m01",
               "phone": f"1380000000{i}"} for i in range(len(ALARMS))]
    assert api.call("POST", "/customers", json=people).status_code == 200
    tickets = approve_standing(api, now)
    batch = [{"id": f"e{i}", "customer_id": f"c{i}", "type": etype, "at": now.isoformat(),
              "data": data} for i, (_, etype, data) in enumerate(ALARMS)]
    reply = api.call("POST", "/events", "adapter:sms", json=batch)
    assert reply.status_code == 200, reply.json
    by_event = {t["event"]: t for t in reply.json["triggered"]}
    today = now.astimezone(SHANGHAI).date()
    for i, (playbook, _, _) in enumerate(ALARMS):
        fired = by_event[f"e{i}"]
        assert (fired["playbook"], fired["reason"]) == (playbook, None), fired
        assert fired["ticket"] == tickets[playbook]
        [task] = fired["tasks"]
        assert (task["channel"], task["route"], task["state"]) == (
            "account_manager", "manager:m01", "pending")
        due = dt.datetime.fromisoformat(task["due_at"])
        assert due.astimezone(SHANGHAI).date() == today, (playbook, task["due_at"])
        assert due <= now + dt.timedelta(minutes=1)
    # the manager sees all of them on the desk at once
    desk = api.call("GET", "/managers/m01/tasks", "manager:m01").json["items"]
    assert len(desk) == len(ALARMS)


def test_a_repeated_alarm_in_the_cooldown_makes_no_second_task(api: Api, clock: Clock) -> None:
    now = clock()
    api.call("POST", "/customers", json=[{"id": "c1", "joined_on": "2019-01-01", "arpu": 60.0}])
    approve_standing(api, now)
    first = {"id": "a1", "customer_id": "c1", "type": "arrears", "at": now.isoformat(),
             "data": {"amount": 80}}
    again = {**first, "id": "a2", "at": (now + dt.timedelta(seconds=1)).isoformat()}
    made = api.call("POST", "/events", "adapter:sms", json=[first]).json["triggered"]
    assert made[0]["reason"] is None and made[0]["tasks"][0]["route"] == "pool"
    held = api.call("POST", "/events", "adapter:sms", json=[again]).json["triggered"]
    assert held[0]["reason"] == "cooldown" and held[0]["tasks"] == []
