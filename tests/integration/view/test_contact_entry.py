"""Contact-triggered playbooks over HTTP on both databases (DESIGN 10): an agent's view (or
the web shop's offers call) enters a matching customer into retention_inbound's standing
ticket, once; the control group is entered and never offered its offers on any channel;
an admin's or viewer's read enters nobody; the cooldown holds; the members are measured
like any standing ticket's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from support.http_api import Api

from adapters.access.users import add_user
from adapters.db.schema import customers, entries, events, tasks
from adapters.evaluation.results import results
from adapters.http.state import State
from adapters.tickets.scheduler import plan_standing
from engine.clock import FixedClock
from engine.playbooks.selection import in_control

# 11:00 in Shanghai: outside every channel's quiet hours, whatever the hour the suite runs at.
NOW = dt.datetime(2026, 12, 30, 3, 0, tzinfo=dt.UTC)
TREATED, CONTROL, STEADY = "d00", "d20", "s00"  # d20 falls in the 10% holdout
AGENTS = ("agent:hotline", "agent:store", "agent:online")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def _customer(cid: str, **fields: Any) -> dict[str, Any]:
    base = {"id": cid, "name": f"客户{cid}", "phone": "13800000000", "manager": "m01",
            "joined_on": dt.date(2019, 1, 1), "arpu": 120.0, "churn_score": 0.8,
            "contract_end": dt.date(2027, 2, 20), "attrs": {"plan_fee": 96.0},
            "updated_at": NOW}
    return {**base, **fields}


@pytest.fixture
def inbound(api: Api) -> Api:
    """retention_inbound's standing ticket approved; two declining customers (one in its
    control group) and a steady one; agents of the three contact channels."""
    assert in_control("retention_inbound", CONTROL, 0.10)
    assert not in_control("retention_inbound", TREATED, 0.10)
    st = _state(api)
    with st.engine.begin() as conn:
        conn.execute(customers.insert(), [_customer(TREATED), _customer(CONTROL),
                                          _customer(STEADY, churn_score=0.1)])
        for role in AGENTS:
            api.tokens[role] = add_user(conn, role.replace(":", "_"), [role], NOW)
        opened = plan_standing(conn, st.config, st.library, NOW)
    ticket = next(t for t in opened if t["playbook"] == "retention_inbound")
    assert ticket["trigger"] == "contact"
    approved = api.call("POST", f"/tickets/{ticket['id']}/approve", "campaign_lead", json={})
    assert approved.status_code == 200 and approved.json["state"] == "executing"
    api.tokens["ticket"] = str(ticket["id"])
    return api


def _state(api: Api) -> State:
    st: State = api.app.extensions["tend"]
    return st


def _entries(api: Api, customer_id: str) -> list[Any]:
    with _state(api).engine.connect() as conn:
        return list(conn.execute(sa.select(entries).where(
            entries.c.customer_id == customer_id, entries.c.playbook == "retention_inbound")
            .order_by(entries.c.id)))


def _tasks(api: Api, customer_id: str) -> list[tuple[str, str, str]]:
    with _state(api).engine.connect() as conn:
        rows = conn.execute(sa.select(tasks.c.step, tasks.c.channel, tasks.c.state).where(
            tasks.c.customer_id == customer_id).order_by(tasks.c.id))
        return [tuple(row) for row in rows]


def _view(api: Api, customer_id: str, channel: str, role: str) -> dict[str, Any]:
    reply = api.call("GET", f"/customers/{customer_id}/view?channel={channel}", role)
    assert reply.status_code == 200, reply.json
    body: dict[str, Any] = reply.json
    return body


def test_a_hotline_agents_view_enters_the_customer_once(inbound: Api) -> None:
    ticket = int(inbound.tokens["ticket"])
    body = _view(inbound, TREATED, "hotline", "agent:hotline")
    assert [(o["offer"], o["source"]) for o in body["offers"]] == [
        ("prepay_168", {"ticket_id": ticket, "playbook": "retention_inbound",
                        "step": "offer_sms"}),
        ("renew_discount", {"ticket_id": ticket, "playbook": "retention_inbound",
                            "step": "offer_sms"})]
    assert body["offers"][0]["script"].startswith("客户d00您好,您的96元套餐")
    assert [(t["ticket_id"], t["channel"], t["step"]) for t in body["open_tasks"]] == [
        (ticket, "sms", "offer_sms"), (ticket, "outbound_call", "followup_call")]
    [entry] = _entries(inbound, TREATED)
    assert (entry.ticket_id, entry.grp, entry.entered_at) == (ticket, "treatment", NOW)
    with _state(inbound).engine.connect() as conn:
        due = dict(conn.execute(sa.select(tasks.c.step, tasks.c.due_at)
                                .where(tasks.c.customer_id == TREATED)).all())
    assert due == {"offer_sms": NOW + dt.timedelta(days=1),
                   "followup_call": NOW + dt.timedelta(days=3)}

    again = _view(inbound, TREATED, "hotline", "agent:hotline")  # the agent looks again
    _view(inbound, TREATED, "store", "agent:store")              # and a store, the same day
    assert again["offers"] == body["offers"]
    assert len(_entries(inbound, TREATED)) == 1
    assert _tasks(inbound, TREATED) == [("offer_sms", "sms", "pending"),
                                        ("followup_call", "outbound_call", "pending")]


def test_reads_by_admin_and_viewer_enter_nobody(inbound: Api) -> None:
    for role in ("admin", "viewer"):
        body = _view(inbound, TREATED, "hotline", role)
        assert body["offers"] == [] and body["open_tasks"] == []
        listed = inbound.call("GET", f"/customers/{TREATED}/offers?channel=online", role)
        assert listed.status_code == 200 and listed.json["items"] == []
    assert _entries(inbound, TREATED) == [] and _tasks(inbound, TREATED) == []


def test_the_manager_is_a_contact_and_a_steady_customer_does_not_match(inbound: Api) -> None:
    body = _view(inbound, STEADY, "hotline", "agent:hotline")
    assert body["offers"] == [] and _entries(inbound, STEADY) == []
    assert _view(inbound, TREATED, "store", "manager:m01")["offers"]
    assert [e.grp for e in _entries(inbound, TREATED)] == ["treatment"]


def test_the_online_offers_call_enters_the_customer(inbound: Api) -> None:
    listed = inbound.call("GET", f"/customers/{TREATED}/offers?channel=online", "agent:online")
    assert listed.status_code == 200, listed.json
    assert [o["offer"] for o in listed.json["items"]] == ["prepay_168", "renew_discount"]
    assert [e.grp for e in _entries(inbound, TREATED)] == ["treatment"]


def test_the_control_group_is_entered_and_never_offered_anything(inbound: Api) -> None:
    ticket = int(inbound.tokens["ticket"])
    body = _view(inbound, CONTROL, "hotline", "agent:hotline")
    assert body["offers"] == [] and body["open_tasks"] == []
    assert body["control"] == [{"ticket_id": ticket, "playbook": "retention_inbound"}]
    assert [(e.ticket_id, e.grp) for e in _entries(inbound, CONTROL)] == [(ticket, "control")]
    for channel in ("store", "online"):
        assert _view(inbound, CONTROL, channel, f"agent:{channel}")["offers"] == []
    listed = inbound.call("GET", f"/customers/{CONTROL}/offers?channel=online", "agent:online")
    assert listed.json["items"] == []
    assert len(_entries(inbound, CONTROL)) == 1 and _tasks(inbound, CONTROL) == []


def test_the_cooldown_holds_then_lets_the_customer_enter_again(inbound: Api) -> None:
    st = _state(inbound)
    _view(inbound, TREATED, "hotline", "agent:hotline")
    st.clock = FixedClock(NOW + dt.timedelta(days=29))
    _view(inbound, TREATED, "hotline", "agent:hotline")
    assert len(_entries(inbound, TREATED)) == 1
    st.clock = FixedClock(NOW + dt.timedelta(days=31))
    body = _view(inbound, TREATED, "hotline", "agent:hotline")
    later = _entries(inbound, TREATED)
    assert [e.entered_at for e in later] == [NOW, NOW + dt.timedelta(days=31)]
    assert [o["offer"] for o in body["offers"]] == ["prepay_168", "renew_discount"]


def test_no_entry_before_the_standing_ticket_is_approved(api: Api) -> None:
    st = _state(api)
    with st.engine.begin() as conn:
        conn.execute(customers.insert().values(**_customer(TREATED)))
        api.tokens["agent:hotline"] = add_user(conn, "agent_hotline", ["agent:hotline"], NOW)
    assert _view(api, TREATED, "hotline", "agent:hotline")["offers"] == []
    assert _entries(api, TREATED) == []


def test_its_members_are_measured_treatment_against_control(inbound: Api) -> None:
    st = _state(inbound)
    ticket = int(inbound.tokens["ticket"])
    for cid in (TREATED, CONTROL):
        _view(inbound, cid, "hotline", "agent:hotline")
    with st.engine.begin() as conn:
        conn.execute(events.insert().values(
            id="renewed-d00", customer_id=TREATED, type="contract_renewed",
            at=NOW + dt.timedelta(days=2), data={"months": 12}, known_customer=True,
            received_at=NOW))
        found = results(conn, st.config, st.library.playbooks["retention_inbound"], ticket,
                        NOW + dt.timedelta(days=50), standing=True)
    goal = found["goal"]
    assert goal["treatment"] == {"members": 1, "conversions": 1, "rate": 1.0}
    assert goal["control"] == {"members": 1, "conversions": 0, "rate": 0.0}
    assert [c["treatment"]["members"] + c["control"]["members"] for c in found["cohorts"]] == [2]


def test_a_pool_task_result_shows_by_pool_in_the_trajectory(inbound: Api) -> None:
    st = _state(inbound)
    _view(inbound, TREATED, "hotline", "agent:hotline")
    st.clock = FixedClock(NOW + dt.timedelta(days=1, hours=1))  # the sms is due, not quiet
    pulled = inbound.call("GET", "/channels/sms/tasks?limit=5", "adapter:sms").json["items"]
    [sms] = [t for t in pulled if t["customer_id"] == TREATED]
    assert sms["route"] == "pool"
    reply = inbound.call("POST", f"/tasks/{sms['id']}/result", "adapter:sms",
                         json={"status": "delivered"})
    assert reply.status_code == 200, reply.json
    body = _view(inbound, TREATED, "store", "agent:store")
    assert [(t["channel"], t["outcome"], t["by"]) for t in body["trajectory"]] == [
        ("sms", "delivered", "pool")]
