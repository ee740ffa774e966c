"""Standing tickets: a matching event is a stored task when `POST /events` returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from support.http_api import Api

from adapters.db.engines import one_of
from adapters.db.schema import customers, entries, events, tasks
from adapters.http.state import State
from adapters.tickets.scheduler import plan_standing

NOW = dt.datetime.now(dt.UTC)
SILVER = {"id": "c1", "joined_on": "2020-01-01", "arpu": 100.0, "manager": "m01",
          "phone": "13800000001"}
STANDARD = {"id": "c2", "joined_on": "2020-01-01", "arpu": 10.0, "manager": None,
            "phone": "13800000002"}


def silent(event_id: str, customer: str, days: int, ago: dt.timedelta = dt.timedelta(0)
           ) -> dict[str, Any]:
    return {"id": event_id, "customer_id": customer, "type": "zero_usage",
            "at": (NOW - ago).isoformat(), "data": {"days": days}}


def approved_standing_ticket(api: Api) -> int:
    """zero_usage_alert's standing ticket, planned as the scheduler plans it, approved."""
    st: State = api.app.extensions["tend"]
    with st.engine.begin() as conn:
        opened = plan_standing(conn, st.config, st.library, NOW)
    ticket = next(t for t in opened if t["playbook"] == "zero_usage_alert")
    approved = api.call("POST", f"/tickets/{ticket['id']}/approve", "campaign_lead",
                        json={"comment": "standing alert for v2"})
    assert approved.status_code == 200, approved.json
    assert approved.json["state"] == "executing"
    return int(ticket["id"])


def test_a_matching_event_is_a_task_when_the_response_returns(api: Api) -> None:
    api.call("POST", "/customers", json=[SILVER, STANDARD])
    before = api.call("POST", "/events", "adapter:sms", json=[silent("e0", "c1", 9)])
    assert before.json["triggered"][0]["reason"] == \
        "no approved standing ticket for version 2"  # zero_usage_alert v2
    ticket = approved_standing_ticket(api)
    assert api.call("GET", f"/tickets/{ticket}/tasks").json["items"] == []  # rehearsal only
    reply = api.call("POST", "/events", "adapter:sms", json=[
        silent("e1", "c1", 9), silent("e2", "c2", 9), silent("e3", "c1", 12),
        silent("e4", "ghost", 9), silent("e5", "c1", 9, ago=dt.timedelta(days=3))])
    assert reply.status_code == 200, reply.json
    by_event = {t["event"]: t for t in reply.json["triggered"]}
    made = by_event["e1"]["tasks"]
    assert by_event["e1"]["reason"] is None and by_event["e1"]["ticket"] == ticket
    assert [(t["step"], t["channel"], t["route"], t["state"]) for t in made] == [
        ("manager_call", "outbound_call", "manager:m01", "pending")]
    assert made[0]["idempotency_key"].endswith(":manager_call")
    assert by_event["e2"]["reason"] == "conditions not met"
    assert by_event["e3"]["reason"] == "cooldown"  # c1 entered with e1, in the same request
    assert by_event["e4"]["reason"] == "unknown customer"
    assert by_event["e5"]["reason"] == "older than trigger_max_age"
    stored = api.call("GET", f"/tickets/{ticket}/tasks").json["items"]
    assert [t["id"] for t in stored] == [t["id"] for t in made]
    keys = ("ticket_id", "customer_id", "step", "channel", "route", "state", "idempotency_key",
            "due_at", "payload", "created_at", "updated_at")
    assert [{k: t[k] for k in keys} for t in stored] == [{k: t[k] for k in keys} for t in made]
    assert made[0]["payload"]["customer"] == {"id": "c1", "name": None, "phone": "13800000001",
                                              "email": None, "manager": "m01"}


def test_an_entry_of_an_earlier_request_blocks_a_later_match_for_the_cooldown(api: Api) -> None:
    """The cooldown check reads the entries stored (on PostgreSQL one index probe per
    customer), not only those of the request at hand."""
    api.call("POST", "/customers", json=[SILVER, {**SILVER, "id": "c3", "phone": "13800000003"}])
    approved_standing_ticket(api)
    first = api.call("POST", "/events", "adapter:sms", json=[silent("e1", "c1", 9)])
    assert first.json["triggered"][0]["reason"] is None
    later = api.call("POST", "/events", "adapter:sms",
                     json=[silent("e2", "c1", 10), silent("e3", "c3", 9)])
    assert {t["event"]: t["reason"] for t in later.json["triggered"]} == {
        "e2": "cooldown", "e3": None}


def test_a_bad_item_writes_no_event_no_entry_no_task(api: Api) -> None:
    api.call("POST", "/customers", json=[SILVER])
    approved_standing_ticket(api)
    reply = api.call("POST", "/events", "adapter:sms",
                     json=[silent("e1", "c1", 9), {**silent("e2", "c1", 9), "at": "soon"}])
    assert reply.status_code == 400 and list(reply.json["errors"]) == ["1"]
    state = api.app.extensions["tend"]
    with state.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(entries)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(tasks)) == 0


def test_a_batch_is_stored_as_sent_once_per_id(api: Api) -> None:
    """The batch insert (one statement of JSON rows) keeps every value exactly, on both
    databases: instants to the microsecond in UTC, numbers to the last bit, any text."""
    at = dt.datetime(2026, 11, 20, 1, 2, 3, 456789, tzinfo=dt.UTC)
    sent = [{"id": "é-1", "customer_id": "c1", "type": "zero_usage", "at": at.isoformat(),
             "data": {"days": 0.1 + 0.2}},
            {"id": "e-2", "customer_id": "ghost", "type": "competitor_call",
             "at": "2026-11-20T09:02:03+08:00", "data": {"number": "10086 \"x\"", "minutes": 3}},
            {"id": "e-3", "customer_id": "c1", "type": "plan_reactivated", "at": "2026-11-20"},
            {"id": "é-1", "customer_id": "c1", "type": "zero_usage", "at": at.isoformat()}]
    api.call("POST", "/customers", json=[SILVER])
    reply = api.call("POST", "/events", "adapter:sms", json=sent)
    assert (reply.json["stored"], reply.json["ignored"]) == (3, 1)
    assert reply.json["unknown_customers"] == ["ghost"]
    state = api.app.extensions["tend"]
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.id, events.c.customer_id, events.c.at,
                                      events.c.data, events.c.known_customer)
                            .order_by(events.c.seq)).all()
    assert [tuple(r) for r in rows] == [
        ("é-1", "c1", at, {"days": 0.30000000000000004}, True),
        ("e-2", "ghost", dt.datetime(2026, 11, 20, 1, 2, 3, tzinfo=dt.UTC),
         {"number": "10086 \"x\"", "minutes": 3.0}, False),
        ("e-3", "c1", dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC), None, True)]


def test_batch_lookups_find_any_id(api: Api) -> None:
    """Ids are passed to the database as one JSON text or array literal: quotes, backslashes,
    commas, braces and the word NULL are ids like any other."""
    odd = ['a"b', "c\\d", "e,f", "{g}", "NULL", "h i", "中文", "j'k"]
    api.call("POST", "/customers", json=[{"id": cid, "joined_on": "2020-01-01"} for cid in odd])
    state = api.app.extensions["tend"]
    with state.engine.connect() as conn:
        found = conn.scalars(sa.select(customers.c.id).where(
            one_of(conn, customers.c.id, [*odd, "absent", 'a"', "c"]))).all()
        none = conn.scalars(sa.select(customers.c.id).where(
            one_of(conn, customers.c.id, []))).all()
    assert sorted(found) == sorted(odd) and none == []


def test_the_rehearsal_sample_is_judged_on_the_event_that_matched(api: Api) -> None:
    api.call("POST", "/customers", json=[SILVER, STANDARD])
    api.call("POST", "/events", "adapter:sms", json=[
        silent("r1", "c1", 8, ago=dt.timedelta(days=2)), silent("r2", "c1", 3),
        silent("r3", "c2", 9, ago=dt.timedelta(days=1))])
    st: State = api.app.extensions["tend"]
    with st.engine.begin() as conn:
        opened = plan_standing(conn, st.config, st.library, NOW)
    rehearsal = next(t for t in opened if t["playbook"] == "zero_usage_alert")["rehearsal"]
    assert rehearsal["matched"] == 1
    [shown] = rehearsal["sample"]
    assert shown["customer_id"] == "c1" and shown["group"] in ("treatment", "control")
    assert shown["event"]["id"] == "r1"  # the earliest match, not the later 3-day gap
    days = next(p for p in shown["audience"]["parts"]
                if p["condition"] == "event.data.days gte 7")
    assert (days["held"], days["actual"]) == (True, 8.0) and shown["audience"]["held"]


def test_one_batch_arbitrates_two_alerts_as_two_requests_do(api: Api) -> None:
    """zero_usage_alert (priority 90) and competitor_call_alert (95) want one customer within
    the arbitration window: one call, the other suppressed, however the events arrive."""
    gold = {"joined_on": "2020-01-01", "arpu": 200.0, "manager": "m01", "phone": "13800000003"}
    api.call("POST", "/customers", json=[{"id": cid, **gold} for cid in ("g1", "g2")])
    st: State = api.app.extensions["tend"]
    with st.engine.begin() as conn:
        opened = plan_standing(conn, st.config, st.library, NOW)
    for ticket in opened:
        approved = api.call("POST", f"/tickets/{ticket['id']}/approve", "campaign_lead",
                            json={})
        assert approved.json["state"] == "executing", approved.json

    def called(event_id: str, customer: str) -> dict[str, Any]:
        return {"id": event_id, "customer_id": customer, "type": "competitor_call",
                "at": NOW.isoformat(), "data": {"number": "10086", "minutes": 5}}

    def made(customer: str) -> list[tuple[str, str, str | None]]:
        with st.engine.connect() as conn:
            rows = conn.execute(sa.select(tasks.c.ticket_id, tasks.c.state, tasks.c.detail)
                                .where(tasks.c.customer_id == customer)).all()
        playbook = {t["id"]: t["playbook"] for t in opened}
        return sorted((playbook[r.ticket_id], r.state, (r.detail or {}).get("reason"))
                      for r in rows)

    batch = api.call("POST", "/events", "adapter:sms", json=[silent("b1", "g1", 9),
                                                             called("b2", "g1")])
    assert batch.status_code == 200, batch.json
    for event in (silent("s1", "g2", 9), called("s2", "g2")):
        assert api.call("POST", "/events", "adapter:sms", json=[event]).status_code == 200
    assert made("g1") == made("g2")  # quiet hours may hold the call: the clock is real
    call, alert = made("g1")
    assert call[:2] == ("competitor_call_alert", "pending")
    assert alert == ("zero_usage_alert", "suppressed", "arbitration")
