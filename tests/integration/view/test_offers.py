"""Offers for one customer: from the playbooks of their executing tickets, treatment only, a
control customer never offered that ticket's offers; and `GET /customers/<id>/offers`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.http_api import Api

from adapters.access.users import add_user
from adapters.db.engines import make_engine
from adapters.db.schema import customers, entries, offer_versions
from adapters.http.state import State
from adapters.tickets import service
from adapters.tickets.offers import offers_for
from engine.clock import Clock, FixedClock
from engine.config import Config
from engine.errors import NotFound, ValidationError
from engine.playbooks.library import Library
from engine.tickets.users import User

AT = dt.datetime(2026, 12, 10, 1, 0, tzinfo=dt.UTC)     # 09:00 in Shanghai
NOW = AT + dt.timedelta(hours=3)
LEAD = User("bob", frozenset({"campaign_lead"}))
IDS = [f"c{i:02d}" for i in range(40)]


def _customer(cid: str, **fields: Any) -> dict[str, Any]:
    base = {"id": cid, "name": f"客户{cid}", "phone": "+8613800000000", "email": None,
            "joined_on": dt.date(2019, 1, 1), "arpu": 100.0, "churn_score": 0.8,
            "contract_end": dt.date(2027, 1, 20), "manager": "m01", "tags": None,
            "opt_out": None, "attrs": {"plan_fee": 96.0}, "updated_at": AT}
    return {**base, **fields}


CUSTOMERS = [*(_customer(cid) for cid in IDS),
             _customer("plan128", attrs={"plan_fee": 128.0}),
             _customer("outsider", churn_score=None, manager="m02")]


@pytest.fixture
def clock() -> Clock:
    return FixedClock(NOW)


def _execute(engine: Engine, config: Config, library: Library) -> int:
    """churn_risk planned at AT and approved: it executes, and its members enter."""
    with engine.begin() as conn:
        conn.execute(customers.insert(), CUSTOMERS)
        ticket = service.plan(conn, config, library, library.playbooks["churn_risk"], AT,
                              "manual", "pat")
    assert ticket is not None
    with engine.begin() as conn:
        done = service.approve(conn, config, library, ticket["id"], LEAD, "ok", AT)
    assert done["state"] == "executing"
    return int(ticket["id"])


@pytest.fixture
def executed(db_url: str, config: Config, library: Library) -> Iterator[tuple[Engine, int]]:
    engine = make_engine(db_url)
    ticket_id = _execute(engine, config, library)
    yield engine, ticket_id
    engine.dispose()


def _groups(engine: Engine, ticket_id: int) -> dict[str, list[str]]:
    with engine.begin() as conn:
        rows = conn.execute(sa.select(entries.c.customer_id, entries.c.grp)
                            .where(entries.c.ticket_id == ticket_id)
                            .order_by(entries.c.customer_id)).all()
    found: dict[str, list[str]] = {"treatment": [], "control": []}
    for cid, grp in rows:
        found[grp].append(cid)
    return found


def _offers(engine: Engine, config: Config, library: Library, cid: str, channel: str = "store",
            **kwargs: Any) -> dict[str, list[dict[str, Any]]]:
    with engine.begin() as conn:
        return offers_for(conn, config, library, cid, channel, NOW, **kwargs)


def test_treatment_is_offered_the_steps_offers_in_order(
        executed: tuple[Engine, int], config: Config, library: Library) -> None:
    engine, ticket_id = executed
    treated = _groups(engine, ticket_id)["treatment"][0]
    found = _offers(engine, config, library, treated)
    assert [(o["offer"], o["rank"]) for o in found["offers"]] == [
        ("prepay_168", 1), ("renew_discount", 2)]
    first = found["offers"][0]
    assert first["source"] == {"ticket_id": ticket_id, "playbook": "churn_risk",
                               "step": "retention_call"}
    assert first["version"] == 1 and first["title"] == "预存168元得504元"
    assert first["script"].startswith(f"客户{treated}您好,您的96元套餐")
    assert found["control"] == []
    english = _offers(engine, config, library, treated, lang="en")["offers"][0]
    assert english["title"].startswith("Prepay 168 yuan")
    assert english["script"].startswith(f"Hello 客户{treated}, your 96-yuan plan")
    with engine.begin() as conn:  # the offers a ticket names are registered with its version
        assert conn.execute(sa.select(offer_versions.c.offer)
                            .order_by(offer_versions.c.offer)).scalars().all() == [
            "prepay_168", "renew_discount"]


def test_control_is_never_offered_the_tickets_offers(
        executed: tuple[Engine, int], config: Config, library: Library) -> None:
    engine, ticket_id = executed
    control = _groups(engine, ticket_id)["control"]
    assert control, "holdout 0.10 of 40 customers leaves some in control"
    for channel in ("store", "hotline", "online", "outbound_call", "sms"):
        found = _offers(engine, config, library, control[0], channel)
        assert found == {"offers": [], "control": [{"ticket_id": ticket_id,
                                                    "playbook": "churn_risk"}]}


def test_eligibility_channel_and_limit_filter(
        executed: tuple[Engine, int], config: Config, library: Library) -> None:
    engine, ticket_id = executed
    treated = _groups(engine, ticket_id)["treatment"][0]
    if "plan128" in _groups(engine, ticket_id)["treatment"]:
        assert [o["offer"] for o in _offers(engine, config, library, "plan128")["offers"]] == [
            "renew_discount"]
    assert [o["offer"] for o in _offers(engine, config, library, treated, "push")["offers"]] \
        == []
    limited = _offers(engine, config, library, treated, handled={"prepay_168": 5000})
    assert [o["offer"] for o in limited["offers"]] == ["renew_discount"]
    assert [o["rank"] for o in limited["offers"]] == [1]
    assert _offers(engine, config, library, "outsider") == {"offers": [], "control": []}


def test_bad_channel_and_unknown_customer(
        executed: tuple[Engine, int], config: Config, library: Library) -> None:
    engine, _ = executed
    with pytest.raises(ValidationError, match="channel: unknown channel 'fax'"):
        _offers(engine, config, library, "c00", "fax")
    with pytest.raises(NotFound, match="no customer 'nobody'"):
        _offers(engine, config, library, "nobody")


# --- HTTP ---

def _with_users(api: Api) -> State:
    state: State = api.app.extensions["tend"]
    with state.engine.begin() as conn:
        for role in ("agent:online", "agent:store", "manager:m02"):
            api.tokens[role] = add_user(conn, role.replace(":", "_"), [role], NOW)
    return state


def test_online_endpoint_returns_titles_only(api: Api, config: Config) -> None:
    state = _with_users(api)
    ticket_id = _execute(state.engine, config, state.library)
    treated = _groups(state.engine, ticket_id)["treatment"][0]
    control = _groups(state.engine, ticket_id)["control"][0]
    path = f"/customers/{treated}/offers?channel=online"
    for role in ("agent:online", "viewer", "admin"):
        response = api.call("GET", path, role=role)
        assert response.status_code == 200, response.json
        assert response.json == {"items": [
            {"offer": "prepay_168", "version": 1, "title": "预存168元得504元"},
            {"offer": "renew_discount", "version": 1, "title": "续约12个月月费8折"}],
            "next_cursor": None}
    english = api.call("GET", path + "&lang=en", role="agent:online").json
    assert english["items"][0]["title"].startswith("Prepay 168 yuan")
    assert api.call("GET", f"/customers/{control}/offers?channel=online",
                    role="agent:online").json["items"] == []


def test_online_endpoint_refuses_and_names_what_is_wrong(api: Api, config: Config) -> None:
    state = _with_users(api)
    _execute(state.engine, config, state.library)
    bad = api.call("GET", "/customers/c00/offers?channel=fax", role="admin")
    assert bad.status_code == 400 and "channel" in bad.json["message"]
    missing = api.call("GET", "/customers/c00/offers", role="admin")
    assert missing.status_code == 400 and "channel" in str(missing.json)
    lost = api.call("GET", "/customers/nobody/offers?channel=online", role="admin")
    assert lost.status_code == 404 and "nobody" in lost.json["message"]
    assert api.call("GET", "/customers/c00/offers?channel=online",
                    role="agent:store").status_code == 403
    assert api.call("GET", "/customers/c00/offers?channel=online",
                    role="adapter:sms").status_code == 403
    assert api.call("GET", "/customers/c00/offers?channel=store",
                    role="manager:m01").status_code == 200
    assert api.call("GET", "/customers/c00/offers?channel=store",
                    role="manager:m02").status_code == 403
    assert api.call("GET", "/customers/outsider/offers?channel=store",
                    role="manager:m02").status_code == 200


def test_the_view_presents_the_treatments_offers_until_declined_too_often(
        api: Api, config: Config) -> None:
    """The same offers and scripts on every channel's view; never to the control group; an
    offer the customer declined twice within 30 days is no longer shown."""
    state = _with_users(api)
    ticket_id = _execute(state.engine, config, state.library)
    treated = _groups(state.engine, ticket_id)["treatment"][0]
    control = _groups(state.engine, ticket_id)["control"][0]
    view = api.call("GET", f"/customers/{treated}/view?channel=store", role="agent:store")
    assert view.status_code == 200, view.json
    offers = view.json["offers"]
    assert [(o["offer"], o["rank"]) for o in offers] == [("prepay_168", 1),
                                                         ("renew_discount", 2)]
    assert offers[0]["script"].startswith(f"客户{treated}您好,您的96元套餐")
    assert offers[0]["source"] == {"ticket_id": ticket_id, "playbook": "churn_risk",
                                   "step": "retention_call"}
    english = api.call("GET", f"/customers/{treated}/view?channel=store&lang=en",
                       role="agent:store").json["offers"]
    assert english[0]["script"].startswith(f"Hello 客户{treated}")
    shut = api.call("GET", f"/customers/{control}/view?channel=store", role="agent:store")
    assert shut.json["offers"] == [] and shut.json["control"] == [
        {"ticket_id": ticket_id, "playbook": "churn_risk"}]
    for n in range(2):
        said = api.call("POST", f"/customers/{treated}/contacts", role="agent:store", json={
            "id": f"no-{n}", "channel": "store", "offer": "prepay_168",
            "ticket_id": ticket_id, "outcome": "declined"})
        assert said.status_code == 201, said.json
    after = api.call("GET", f"/customers/{treated}/view?channel=store", role="agent:store")
    assert [o["offer"] for o in after.json["offers"]] == ["renew_discount"]
    assert [o["rank"] for o in after.json["offers"]] == [2]
