"""The unified customer view and the contacts every channel shares (DESIGN 10), over HTTP
on both databases: idempotent contacts, `handled` and `referred` acting on tasks, declines
counted, who may see and record whom, the view's shape, the views log, and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from support.http_api import Api

from adapters.access.users import add_user
from adapters.db.schema import (
    contacts,
    customer_views,
    customers,
    offer_handled,
    tasks,
    ticket_members,
)
from adapters.http.state import State
from adapters.tickets import service as tickets
from adapters.view.contacts import declines
from engine.clock import FixedClock
from engine.tasks.contact import offer_stopped
from engine.tickets.users import User

# 11:00 in Shanghai: outside every channel's quiet hours, whatever the hour the suite runs at.
NOW = dt.datetime(2026, 12, 31, 3, 0, tzinfo=dt.UTC)
STARTED = NOW - dt.timedelta(days=4)
MANAGERS = {"d00": "m01", "d01": "m01", "d02": "m02"}
PEOPLE = ("agent:store", "agent:outbound_call", "manager:m02")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def desk(api: Api) -> Api:
    """Winback ticket 1 executing since four days ago (d00-d02 in treatment with a call and
    an sms each, c_ctl in its control group), a task of another ticket for d00, and agents."""
    st = _state(api)
    with st.engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": f"张{cid}", "phone": "+8613812345678", "manager": manager,
             "joined_on": dt.date(2019, 1, 1), "arpu": 350.0,
             "churned_on": STARTED.date() - dt.timedelta(days=10), "updated_at": STARTED}
            for cid, manager in MANAGERS.items()])
        conn.execute(customers.insert().values(
            id="c_ctl", name="李四", phone="13900001111", joined_on=dt.date(2020, 1, 1),
            arpu=20.0, opt_out=";sms;", updated_at=STARTED))
        planned = tickets.plan(conn, st.config, st.library, st.library.playbooks["winback"],
                               STARTED, "manual", "designer")
        assert planned is not None and planned["id"] == 1
        conn.execute(ticket_members.update().where(ticket_members.c.ticket_id == 1)
                     .values(grp="treatment"))
        conn.execute(ticket_members.insert().values(ticket_id=1, customer_id="c_ctl",
                                                    grp="control"))
        tickets.approve(conn, st.config, st.library, 1,
                        User("lead", frozenset({"campaign_lead"})), "ok", STARTED)
        conn.execute(tasks.insert().values(
            ticket_id=99, entry_id=99, customer_id="d00", step="other", channel="sms",
            route="pool", state="pending", idempotency_key="99:other", due_at=NOW,
            payload={}, created_at=STARTED, updated_at=STARTED))
        for role in PEOPLE:
            api.tokens[role] = add_user(conn, role.replace(":", "_"), [role], STARTED)
    return api


def _state(api: Api) -> State:
    st: State = api.app.extensions["tend"]
    return st


def _rows(api: Api, table: sa.Table, **where: Any) -> list[Any]:
    with _state(api).engine.connect() as conn:
        query = sa.select(table).where(*(table.c[k] == v for k, v in where.items()))
        return list(conn.execute(query))


def _states(api: Api, customer_id: str) -> dict[tuple[int, str], str]:
    return {(row.ticket_id, row.channel): row.state
            for row in _rows(api, tasks, customer_id=customer_id)}


def test_a_repeated_contact_id_answers_the_same_and_writes_nothing(desk: Api) -> None:
    body = {"id": "k-1", "channel": "store", "outcome": "interested", "offer": "WB50",
            "note": "想了解预存活动"}
    first = desk.call("POST", "/customers/d00/contacts", "agent:store", json=body)
    again = desk.call("POST", "/customers/d00/contacts", "agent:store", json=body)
    assert first.status_code == 201, first.json
    assert again.status_code == 200 and again.json == first.json
    assert first.json["by"] == "agent_store" and first.json["at"] == NOW.isoformat()
    assert len(_rows(desk, contacts)) == 1
    elsewhere = desk.call("POST", "/customers/d01/contacts", "agent:store", json=body)
    assert elsewhere.status_code == 409  # one id, one contact: not silently another's
    assert len(_rows(desk, contacts)) == 1


def test_handled_closes_the_customers_open_tasks_of_that_ticket_on_every_channel(
        desk: Api) -> None:
    before = _states(desk, "d00")
    assert before[(1, "outbound_call")] == before[(1, "sms")] == "pending"
    made = desk.call("POST", "/customers/d00/contacts", "agent:store",
                     json={"channel": "store", "outcome": "handled", "ticket_id": 1})
    assert made.status_code == 201, made.json
    after = _states(desk, "d00")
    assert after[(1, "outbound_call")] == after[(1, "sms")] == "cancelled"
    assert after[(99, "sms")] == "pending"  # another ticket's task is not this answer's
    assert set(_states(desk, "d01").values()) == {"pending"}  # nor another customer's


def test_referred_makes_a_task_with_the_note_in_the_target_channel(desk: Api) -> None:
    made = desk.call("POST", "/customers/d01/contacts", "agent:outbound_call", json={
        "channel": "outbound_call", "outcome": "referred", "ticket_id": 1, "offer": "WB50",
        "note": "客户想到营业厅办理", "refer_to": {"channel": "store"}})
    assert made.status_code == 201, made.json
    listed = desk.call("GET", "/tasks?state=pending&channel=store")
    assert listed.status_code == 200
    [task] = listed.json["items"]
    assert task["id"] == made.json["task_id"]
    assert (task["ticket_id"], task["customer_id"], task["route"]) == (1, "d01", "pool")
    assert task["payload"]["referral"]["note"] == "客户想到营业厅办理"
    assert task["payload"]["referral"]["channel"] == "outbound_call"


def test_a_referral_to_the_manager_reaches_their_desk(desk: Api) -> None:
    made = desk.call("POST", "/customers/d01/contacts", "agent:store", json={
        "channel": "store", "outcome": "referred", "ticket_id": 1, "note": "回电",
        "refer_to": {"channel": "account_manager", "route": "manager"}})
    assert made.status_code == 201, made.json
    desk_tasks = desk.call("GET", "/managers/m01/tasks?state=pending", "manager:m01").json
    assert made.json["task_id"] in [t["id"] for t in desk_tasks["items"]
                                    if t["channel"] == "account_manager"]


def test_declines_are_counted_toward_the_limit(desk: Api) -> None:
    st = _state(desk)
    limit = st.config.policy.declines
    assert limit is not None and limit.max == 2
    for i in range(2):
        answer = desk.call("POST", "/customers/d00/contacts", "agent:store", json={
            "id": f"no-{i}", "channel": "store", "outcome": "declined", "offer": "WB50",
            "at": (NOW - dt.timedelta(days=i)).isoformat()})
        assert answer.status_code == 201, answer.json
    with st.engine.connect() as conn:
        found = declines(conn, "d00", NOW - limit.within)
    assert offer_stopped(limit, "WB50", found, NOW)
    assert not offer_stopped(limit, "WB50", found[:1], NOW)
    assert not offer_stopped(limit, "other", found, NOW)


@pytest.mark.parametrize(("role", "path", "status"), [
    ("agent:store", "/customers/d00/view?channel=store", 200),
    ("agent:store", "/customers/d00/view?channel=sms", 403),        # not its channel
    ("agent:outbound_call", "/customers/d00/view?channel=store", 403),
    ("manager:m01", "/customers/d00/view?channel=outbound_call", 200),
    ("manager:m02", "/customers/d00/view?channel=outbound_call", 403),  # not their customer
    ("manager:m02", "/customers/nobody/view?channel=sms", 403),      # 403 before 404
    ("agent:store", "/customers/nobody/view?channel=store", 404),
    ("admin", "/customers/nobody/view?channel=store", 404),
    ("viewer", "/customers/d02/view?channel=sms", 200),
    ("adapter:sms", "/customers/d00/view?channel=sms", 403),
])
def test_who_may_open_a_view(desk: Api, role: str, path: str, status: int) -> None:
    assert desk.call("GET", path, role).status_code == status


@pytest.mark.parametrize(("role", "customer", "channel", "status"), [
    ("agent:store", "d00", "store", 201),
    ("manager:m01", "d00", "outbound_call", 201),
    ("viewer", "d00", "store", 403),
    ("admin", "d00", "store", 403),
    ("agent:store", "d00", "sms", 403),
    ("manager:m02", "d00", "outbound_call", 403),
    ("agent:store", "nobody", "store", 404),
])
def test_who_may_record_a_contact(desk: Api, role: str, customer: str, channel: str,
                                  status: int) -> None:
    answer = desk.call("POST", f"/customers/{customer}/contacts", role,
                       json={"channel": channel, "outcome": "presented"})
    assert answer.status_code == status, answer.json
    assert len(_rows(desk, contacts)) == (1 if status == 201 else 0)


def test_the_view_shows_one_customer_as_every_channel_sees_them(desk: Api) -> None:
    desk.call("POST", "/customers/d00/contacts", "manager:m01", json={
        "channel": "outbound_call", "outcome": "interested", "offer": "WB50", "note": "考虑中",
        "at": (NOW - dt.timedelta(hours=2)).isoformat()})
    desk.call("POST", "/customers/d00/contacts", "agent:store", json={
        "channel": "store", "outcome": "presented", "offer": "WB50",
        "at": (NOW - dt.timedelta(hours=1)).isoformat()})
    [call] = [r for r in _rows(desk, tasks, customer_id="d00") if r.channel == "outbound_call"]
    desk.call("POST", f"/tasks/{call.id}/result", "manager:m01",
              json={"status": "connected", "at": (NOW - dt.timedelta(hours=3)).isoformat(),
                    "detail": "回拨"})
    seen = desk.call("GET", "/customers/d00/view?channel=store", "agent:store")
    assert seen.status_code == 200, seen.json
    body = seen.json
    assert body["customer"] == {"id": "d00", "name": "张d00", "phone": "138****5678",
                                "tier": "diamond", "stage": "churned",
                                "tenure_days": (NOW.date() - dt.date(2019, 1, 1)).days,
                                "manager": "m01"}
    assert [(o["offer"], o["source"]["ticket_id"], o["source"]["step"])
            for o in body["offers"]] == [("winback_credit", 1, "call")]  # winback treatment
    assert body["offers"][0]["script"].startswith("张d00您好")
    assert body["control"] == []
    assert [(t["ticket_id"], t["channel"], t["state"]) for t in body["open_tasks"]] == [
        (1, "sms", "pending"), (99, "sms", "pending")]
    assert [(t["channel"], t["outcome"], t["by"]) for t in body["trajectory"]] == [
        ("store", "presented", "agent_store"), ("outbound_call", "interested", "manager_m01"),
        ("outbound_call", "connected", "m01")]
    assert body["trajectory"][2]["note"] == "回拨"
    assert body["policy"]["sms"] == {"allowed": True, "reason": None, "until": None}
    config = _state(desk).config
    assert set(body["policy"]) == {*config.channels, *config.contact_channels}
    assert body["policy"]["hotline"] == {"allowed": True, "reason": None, "until": None}


def test_the_view_shows_control_memberships_and_opt_outs(desk: Api) -> None:
    body = desk.call("GET", "/customers/c_ctl/view?channel=sms", "viewer").json
    assert body["control"] == [{"ticket_id": 1, "playbook": "winback"}]
    assert body["customer"]["phone"] == "139****1111"
    assert body["policy"]["sms"] == {"allowed": False, "reason": "opted_out", "until": None}
    assert body["policy"]["store"]["allowed"] is True
    assert body["policy"]["online"]["allowed"] is True  # opted out of sms alone


def test_quiet_hours_are_shown_with_when_they_end(desk: Api) -> None:
    _state(desk).clock = FixedClock(NOW.replace(hour=14))  # 22:00 in Shanghai
    body = desk.call("GET", "/customers/d00/view?channel=store", "agent:store").json
    assert body["policy"]["sms"] == {"allowed": False, "reason": "quiet_hours",
                                     "until": "2027-01-01T00:00:00+00:00"}


def test_every_view_a_person_opens_is_logged(desk: Api) -> None:
    desk.call("GET", "/customers/d00/view?channel=store", "agent:store")
    desk.call("GET", "/customers/d00/view?channel=sms", "viewer")
    desk.call("GET", "/customers/d00/view?channel=sms", "agent:store")  # refused: not logged
    logged = [(r.user_name, r.customer_id, r.channel, r.viewed_at)
              for r in _rows(desk, customer_views)]
    assert logged == [("agent_store", "d00", "store", NOW), ("viewer", "d00", "sms", NOW)]
    assert len(_rows(desk, contacts)) == 0  # a read records no contact


def test_handled_counts_equal_the_contacts_after_a_mix_of_writes(desk: Api) -> None:
    """An offer's `limit` reads the counts kept as contacts are recorded (offer_handled):
    after new, repeated, refused and other contacts they equal a count of the contacts."""
    posts: list[tuple[str, dict[str, Any], int]] = [
        ("d00", {"id": "h1", "channel": "store", "outcome": "handled", "offer": "o_a",
                 "ticket_id": 1}, 201),
        ("d00", {"id": "h1", "channel": "store", "outcome": "handled", "offer": "o_a",
                 "ticket_id": 1}, 200),  # a repeat counts once
        ("d01", {"channel": "store", "outcome": "handled", "offer": "o_a"}, 201),
        ("d01", {"channel": "store", "outcome": "handled", "offer": "o_b"}, 201),
        ("d02", {"channel": "store", "outcome": "handled"}, 201),  # no offer: nothing to count
        ("d02", {"channel": "store", "outcome": "presented", "offer": "o_b"}, 201),
        ("d02", {"channel": "store", "outcome": "declined", "offer": "o_a"}, 201),
        ("d02", {"channel": "store", "outcome": "handled", "offer": "o_a",
                 "ticket_id": 7}, 400),  # refused: writes nothing, counts nothing
        ("nobody", {"channel": "store", "outcome": "handled", "offer": "o_b"}, 404),
        ("d00", {"channel": "store", "outcome": "handled", "offer": "o_b"}, 201),
    ]
    for customer, body, status in posts:
        answer = desk.call("POST", f"/customers/{customer}/contacts", "agent:store", json=body)
        assert answer.status_code == status, (body, answer.json)
    with _state(desk).engine.connect() as conn:
        kept = dict(conn.execute(sa.select(offer_handled.c.offer, offer_handled.c.handled)).all())
        counted = dict(conn.execute(
            sa.select(contacts.c.offer, sa.func.count())
            .where(contacts.c.outcome == "handled", contacts.c.offer.is_not(None))
            .group_by(contacts.c.offer)).all())
    assert kept == counted == {"o_a": 2, "o_b": 2}


def test_a_view_takes_one_connection_and_gives_it_back(desk: Api) -> None:
    """The token's read, the log's write and the view's reads share one checkout (on
    PostgreSQL each checkout pings the server), and the pool has it back after the answer."""
    engine = _state(desk).engine
    engine.pool.dispose()
    checkouts: list[object] = []

    def counted(*_: object) -> None:
        checkouts.append(1)

    sa.event.listen(engine.pool, "checkout", counted)
    try:
        answer = desk.call("GET", "/customers/d00/view?channel=store", "agent:store")
    finally:
        sa.event.remove(engine.pool, "checkout", counted)
    assert answer.status_code == 200
    assert answer.json["customer"]["id"] == "d00"
    assert len(checkouts) == 1
    assert engine.pool.checkedout() == 0
    assert [r.customer_id for r in _rows(desk, customer_views)] == ["d00"]  # committed


@pytest.mark.parametrize(("body", "field"), [
    ({"channel": "shop", "outcome": "presented"}, "channel"),
    ({"channel": "store", "outcome": "maybe"}, "outcome"),
    ({"channel": "store", "outcome": "handled", "ticket_id": 7}, "ticket_id"),
    ({"channel": "store", "outcome": "referred", "ticket_id": 1}, "refer_to"),
    ({"channel": "store", "outcome": "referred", "ticket_id": 1,
      "refer_to": {"channel": "fax"}}, "refer_to"),
    ({"channel": "store", "outcome": "referred", "refer_to": {"channel": "sms"}}, "ticket_id"),
    ({"channel": "store", "outcome": "presented", "refer_to": {"channel": "sms"}}, "refer_to"),
    ({"channel": "store", "outcome": "presented", "at": "yesterday-ish"}, "at"),
    ({"channel": "store", "outcome": "presented", "colour": "red"}, "colour"),
])
def test_bad_contacts_are_refused_naming_the_field_and_write_nothing(
        desk: Api, body: dict[str, Any], field: str) -> None:
    before = _states(desk, "d00")
    answer = desk.call("POST", "/customers/d00/contacts", "agent:store", json=body)
    assert answer.status_code == 400, answer.json
    assert field in answer.json["errors"], answer.json
    assert _rows(desk, contacts) == [] and _states(desk, "d00") == before


def test_a_view_on_an_unknown_channel_is_refused_naming_it(desk: Api) -> None:
    answer = desk.call("GET", "/customers/d00/view?channel=fax", "admin")
    assert answer.status_code == 400 and "channel" in answer.json["errors"]
    assert desk.call("GET", "/customers/d00/view", "admin").status_code == 400
    assert _rows(desk, customer_views) == []
