"""Adapter pull on both databases: leases, channel binding, results, cross-channel closure."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from support.http_api import ROOT, Api

from adapters.access.users import add_user
from adapters.db.schema import customers, events, tasks
from adapters.http.state import State
from adapters.tickets import service as tickets
from engine.config import Config
from engine.config_loader import load_config
from engine.tasks.policy import ChannelRules, Policy
from engine.tickets.users import User

NOW = dt.datetime.now(dt.UTC)
STARTED = NOW - dt.timedelta(days=4)  # winback's call is due at the start, its sms 3 days on
DIAMONDS = [f"d{i:02d}" for i in range(12)]


def _customer(cid: str) -> dict[str, Any]:
    return {"id": cid, "name": cid, "phone": "+8613800000000", "joined_on": dt.date(2019, 1, 1),
            "arpu": 350.0, "churned_on": STARTED.date() - dt.timedelta(days=10),
            "updated_at": STARTED}


@pytest.fixture
def config(request: pytest.FixtureRequest) -> Config:
    """The shipped config without its contact policy, whose quiet hours would follow the real
    clock these tests pull at; a test may pass its own policy (indirect parametrize)."""
    return dataclasses.replace(load_config(ROOT / "config.yaml"),
                               policy=getattr(request, "param", Policy()))


@pytest.fixture
def executing(api: Api) -> Api:
    """A winback ticket planned and approved four days ago: every task is due now."""
    st: State = api.app.extensions["tend"]
    with st.engine.begin() as conn:
        conn.execute(customers.insert(), [_customer(cid) for cid in DIAMONDS])
        planned = tickets.plan(conn, st.config, st.library, st.library.playbooks["winback"],
                               STARTED, "manual", "designer")
        assert planned is not None
        tickets.approve(conn, st.config, st.library, planned["id"],
                        User("lead", frozenset({"campaign_lead"})), "ok", STARTED)
    return api


def _pull(api: Api, channel: str, role: str = "adapter:sms", limit: int = 100) -> Any:
    reply = api.call("GET", f"/channels/{channel}/tasks?limit={limit}", role)
    assert reply.status_code == 200, reply.json
    return reply.json["items"]


def _report(api: Api, task_id: int, status: str, role: str = "adapter:sms",
            **extra: Any) -> Any:
    return api.call("POST", f"/tasks/{task_id}/result", role, json={"status": status, **extra})


def _db(api: Api) -> sa.Engine:
    st: State = api.app.extensions["tend"]
    return st.engine


def test_a_pull_leases_tasks_that_the_next_pull_skips_until_the_lease_ends(
        executing: Api) -> None:
    pulled_at = dt.datetime.now(dt.UTC)
    first = _pull(executing, "sms", limit=2)
    assert len(first) == 2 and {t["state"] for t in first} == {"leased"}
    assert {t["channel"] for t in first} == {"sms"}
    expires = dt.datetime.fromisoformat(first[0]["lease_expires_at"])
    assert dt.timedelta(minutes=4) < expires - pulled_at < dt.timedelta(minutes=6)
    rest = _pull(executing, "sms")
    assert rest and not {t["id"] for t in rest} & {t["id"] for t in first}
    assert _pull(executing, "sms") == []
    with _db(executing).begin() as conn:  # the first lease ran out: those are due again
        conn.execute(tasks.update().where(tasks.c.id.in_([t["id"] for t in first]))
                     .values(lease_expires_at=NOW - dt.timedelta(seconds=1)))
    again = _pull(executing, "sms")
    assert sorted(t["id"] for t in again) == sorted(t["id"] for t in first)
    assert {t["idempotency_key"] for t in again} == {t["idempotency_key"] for t in first}


def test_an_adapter_bound_to_a_channel_serves_only_that_channel(executing: Api) -> None:
    assert executing.call("GET", "/channels/outbound_call/tasks", "adapter:sms").status_code == 403
    assert executing.call("GET", "/channels/sms/tasks", "viewer").status_code == 403
    assert executing.call("GET", "/channels/fax/tasks", "admin").status_code == 404
    call = _pull(executing, "outbound_call", role="admin")[0]
    refused = _report(executing, call["id"], "connected")
    assert refused.status_code == 403 and "outbound_call" in refused.json["message"]
    with _db(executing).begin() as conn:
        executing.tokens["adapter"] = add_user(conn, "any_adapter", ["adapter"], NOW)
        state = conn.scalar(sa.select(tasks.c.state).where(tasks.c.id == call["id"]))
    assert state == "leased"
    assert _report(executing, call["id"], "connected", role="adapter").json["state"] == \
        "connected"
    assert _report(executing, 999_999, "delivered", role="admin").status_code == 404


def test_a_repeated_or_late_result_is_harmless_and_stored_once(executing: Api) -> None:
    sms = _pull(executing, "sms", limit=1)[0]
    at = (NOW - dt.timedelta(minutes=1)).isoformat()
    done = _report(executing, sms["id"], "delivered", at=at, detail={"gateway": "g1"})
    assert done.status_code == 200
    assert done.json["state"] == "delivered" and done.json["detail"] == {"gateway": "g1"}
    again = _report(executing, sms["id"], "delivered", at=at, detail={"gateway": "g1"})
    assert again.status_code == 200 and again.json == done.json
    late = _report(executing, sms["id"], "failed")  # an earlier-stage report, arriving late
    assert late.status_code == 200 and late.json["state"] == "delivered"
    with _db(executing).begin() as conn:
        stored = conn.execute(sa.select(events.c.id, events.c.customer_id, events.c.data)
                              .where(events.c.type == "task_result")
                              .order_by(events.c.id)).all()
    assert [(e.id, e.customer_id, e.data) for e in stored] == [
        (f"task:{sms['id']}:delivered", sms["customer_id"], {"status": "delivered"}),
        (f"task:{sms['id']}:failed", sms["customer_id"], {"status": "failed"})]


def test_an_accepted_offer_cancels_the_other_channels_and_the_pull_says_so(
        executing: Api) -> None:
    held = {t["customer_id"]: t for t in _pull(executing, "sms")}
    calls = _pull(executing, "outbound_call", role="admin")
    call = next(t for t in calls if t["customer_id"] in held)
    other = next(t for t in calls if t["id"] != call["id"])
    accepted = _report(executing, call["id"], "accepted", role="admin")
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"
    dropped = _pull(executing, "sms")
    assert [(t["id"], t["state"], t["lease_expires_at"]) for t in dropped] == [
        (held[call["customer_id"]]["id"], "cancelled", None)]
    assert _pull(executing, "sms") == []  # listed once
    with _db(executing).begin() as conn:
        states = dict(conn.execute(sa.select(tasks.c.id, tasks.c.state)).all())
    assert states[other["id"]] == "leased"  # another customer's task goes on
    late = _report(executing, held[call["customer_id"]]["id"], "delivered")
    assert late.status_code == 200  # it went out before the cancel arrived: recorded


@pytest.mark.parametrize(("body", "field", "status"), [
    ({}, "status", 400),
    ({"status": "bogus"}, "status", 400),
    ({"status": "delivered", "at": "yesterday-ish"}, "at", 400),
    ({"status": "delivered", "colour": "red"}, "colour", 400),
])
def test_a_bad_result_names_its_field_and_writes_nothing(executing: Api, body: dict[str, Any],
                                                         field: str, status: int) -> None:
    sms = _pull(executing, "sms", limit=1)[0]
    reply = executing.call("POST", f"/tasks/{sms['id']}/result", "adapter:sms", json=body)
    assert reply.status_code == status and field in reply.json["errors"]
    with _db(executing).begin() as conn:
        assert conn.scalar(sa.select(tasks.c.state).where(tasks.c.id == sms["id"])) == "leased"


def test_a_bad_limit_names_it(executing: Api) -> None:
    reply = executing.call("GET", "/channels/sms/tasks?limit=0", "adapter:sms")
    assert reply.status_code == 400 and "limit" in reply.json["errors"]


FIVE_SMS_A_DAY = Policy(timezone=ZoneInfo("Asia/Shanghai"),
                        channels={"sms": ChannelRules(capacity=5)})


@pytest.mark.parametrize("config", [FIVE_SMS_A_DAY], indirect=True)
def test_a_pull_hands_out_no_more_than_the_channels_daily_capacity(executing: Api) -> None:
    """The pull applies the contact policy at send time, like the push worker: the rest wait
    for the next local day, they are not dropped."""
    assert len(_pull(executing, "sms")) == 5
    assert _pull(executing, "sms") == []
    with _db(executing).connect() as conn:
        waiting = conn.execute(sa.select(tasks.c.due_at, tasks.c.detail)
                               .where(tasks.c.channel == "sms", tasks.c.state == "pending")).all()
        made = conn.execute(sa.select(sa.func.count()).where(tasks.c.channel == "sms")).scalar()
    assert made is not None and made > 5 and len(waiting) == made - 5
    assert all("capacity" in str(detail) for _, detail in waiting)


def test_a_result_on_a_suppressed_task_is_refused_and_changes_nothing(executing: Api) -> None:
    """A task the contact policy suppressed never reached a channel: an `accepted` on it
    would erase its reason, make explain call it sent and count a contact in the KPIs."""
    sms = _pull(executing, "sms", limit=1)[0]
    reason = {"policy": "suppress", "reason": "arbitration", "note": "churn_risk wins"}
    with _db(executing).begin() as conn:
        conn.execute(tasks.update().where(tasks.c.id == sms["id"]).values(
            state="suppressed", detail=reason, lease_expires_at=None, sent_at=None))
        before = conn.execute(sa.select(tasks).where(tasks.c.id == sms["id"])).one()
    kpis = f"/kpis?by=channel&from={(NOW - dt.timedelta(days=10)).date()}&to={NOW.date()}"
    counted = executing.call("GET", kpis, "viewer").json
    explain = f"/customers/{sms['customer_id']}/explain?playbook=winback&at={NOW.date()}"
    told = executing.call("GET", explain, "viewer").json
    story = next(t for t in told["tasks"] if t["id"] == sms["id"])
    assert (story["outcome"], story["why"]) == ("suppressed", "arbitration — churn_risk wins")

    for _ in range(2):
        refused = _report(executing, sms["id"], "accepted")
        assert refused.status_code == 409, refused.json
        assert refused.json["message"] == (f"task {sms['id']} is suppressed: cannot take the "
                                           f"result accepted")
    with _db(executing).begin() as conn:
        after = conn.execute(sa.select(tasks).where(tasks.c.id == sms["id"])).one()
        results = conn.scalar(sa.select(sa.func.count()).select_from(events).where(
            events.c.type == "task_result", events.c.id.like(f"task:{sms['id']}:%")))
    assert after == before and results == 0
    assert executing.call("GET", kpis, "viewer").json == counted
    assert executing.call("GET", explain, "viewer").json == told



def test_a_result_on_a_task_no_channel_had_yet_is_refused_until_it_is_pulled(
        executing: Api) -> None:
    """A pending sms was never sent: an adapter's `accepted` on it would count a contact that
    never happened. Once the adapter pulls it, the same result is taken."""
    with _db(executing).begin() as conn:
        waiting = conn.execute(sa.select(tasks).where(
            tasks.c.channel == "sms", tasks.c.state == "pending").limit(1)).one()
    refused = _report(executing, waiting.id, "accepted")
    assert refused.status_code == 409, refused.json
    assert refused.json["message"] == (f"task {waiting.id} is pending: cannot take the result "
                                       f"accepted")
    with _db(executing).begin() as conn:
        assert conn.execute(sa.select(tasks).where(tasks.c.id == waiting.id)).one() == waiting
        assert not conn.scalar(sa.select(sa.func.count()).select_from(events).where(
            events.c.id.like(f"task:{waiting.id}:%")))
    held = {t["id"] for t in _pull(executing, "sms")}
    assert waiting.id in held
    taken = _report(executing, waiting.id, "accepted")
    assert taken.status_code == 200 and taken.json["state"] == "accepted"
