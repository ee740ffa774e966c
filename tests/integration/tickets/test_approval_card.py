"""The approval card against real databases: who, what, when under capacity, cost, overlap
with an executing ticket, why the director's level applies, and a standing ticket's words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from adapters.db.engines import make_engine
from adapters.db.schema import customers
from adapters.tasks import listing
from adapters.tickets import card as approval
from adapters.tickets import service
from engine.config import Config
from engine.playbooks.library import Library
from engine.tickets import approval_card
from engine.tickets.users import User

AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
LEAD = User("bob", frozenset({"campaign_lead"}))
DIAMONDS = 2_300  # more calls than outbound_call's 2,000 a day


def _customer(i: int) -> dict[str, Any]:
    return {"id": f"c{i:05d}", "name": f"name {i}", "phone": "+8613800000000", "email": None,
            "joined_on": dt.date(2015, 1, 1), "arpu": 350.0, "churned_on": None,
            "manager": "m1", "tags": None, "opt_out": None, "updated_at": AT,
            "contract_end": dt.date(2026, 12, 20)}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [_customer(i) for i in range(DIAMONDS)])
    yield engine
    engine.dispose()


def _plan(engine: Engine, config: Config, library: Library, playbook: str) -> int:
    with engine.begin() as conn:
        shown = service.plan(conn, config, library, library.playbooks[playbook], AT,
                             "manual", "pat")
    assert shown is not None
    return int(shown["id"])


def test_the_card_says_who_what_when_cost_overlap_and_why(engine: Engine, config: Config,
                                                          library: Library) -> None:
    upsell = _plan(engine, config, library, "high_value_upsell")
    running = _plan(engine, config, library, "renewal")  # executing once approved: overlap
    with engine.begin() as conn:
        service.approve(conn, config, library, running, LEAD, "ok", AT)
    with engine.connect() as conn:
        card = approval.card(conn, config, library, upsell)
        rehearsal = service.show(conn, upsell)["rehearsal"]
    assert card is not None
    treated = rehearsal["treatment"]
    assert card["who"]["treatment"] == treated and card["who"]["tiers"] == {"diamond": treated}
    assert card["who"]["stages"] == {"maturity": treated}
    assert card["what"]["channels"] == ["outbound_call", "email"]
    assert [s["script"] for s in card["what"]["steps"]] == ["premium_plan_call",
                                                            "premium_plan_offer"]
    calls = next(c for c in card["when"]["channels"] if c["channel"] == "outbound_call")
    assert calls == {"channel": "outbound_call", "tasks": treated, "per_day": 2000,
                     "quiet_hours": "20:00-09:00", "days": 2}
    assert card["when"]["days"] == 2 + 3  # the slowest channel, after the email's 3-day delay
    assert card["cost"]["contacts"] == pytest.approx(treated * 2.5 + treated * 0.01)
    assert card["overlap"] == {"customers": treated, "tickets": [
        {"ticket_id": running, "playbook": "renewal", "customers": treated}]}
    director = card["levels"][1]
    assert director["role"] == "director" and "tiers contains" in director["rule"]
    assert director["met"] == ["tiers contains diamond"]  # not the audience size: 2,185 ≤ 5,000
    assert card["levels"][0] == {"level": 1, "role": "campaign_lead", "rule": None, "met": []}
    assert card["standing"] is None and card["last_result"] is None
    assert card["trigger"] == {"kind": "schedule", "cron": "0 9 1 * *", "words": {
        "zh": "每月1日 09:00", "en": "monthly on day 1 at 09:00"}}  # engine/cron_words
    line = approval_card.summary(card)
    assert f"{treated} customers" in line and "already in a running ticket" in line


def test_a_standing_ticket_says_what_approving_starts(engine: Engine, config: Config,
                                                      library: Library) -> None:
    with engine.begin() as conn:
        opened = service.plan(conn, config, library, library.playbooks["retention_inbound"],
                              AT, "contact", "system")
    assert opened is not None
    with engine.connect() as conn:
        card = approval.card(conn, config, library, opened["id"])
    assert card is not None and card["standing"] == {
        "event": None, "contact": ["hotline", "store", "online"],
        "channels": ["sms", "outbound_call"]}
    assert "ongoing stream of same-day sms, outbound_call" in approval_card.summary(card)


def test_the_api_ticket_carries_the_card(db_url: str, config: Config) -> None:
    from adapters.access.users import add_user
    from adapters.http.app import create_app

    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True})
    state = app.extensions["tend"]
    try:
        with state.engine.begin() as conn:
            conn.execute(customers.insert(), [_customer(i) for i in range(30)])
            pat = add_user(conn, "pat", ["designer"], AT)
        client = app.test_client()
        auth = {"Authorization": f"Bearer {pat}"}
        planned = client.post("/tickets", json={"playbook": "high_value_upsell"}, headers=auth)
        assert planned.status_code == 201, planned.json
        shown = client.get(f"/tickets/{planned.json['id']}", headers=auth).json
        card = shown["card"]
        assert card["who"]["treatment"] == shown["audience"]["treatment"]
        assert [lv["role"] for lv in card["levels"]] == ["campaign_lead", "director"]
        assert card["levels"][1]["met"] == ["tiers contains diamond"]
        assert {c["channel"] for c in card["when"]["channels"]} == {"outbound_call", "email"}
    finally:
        state.dispose()


def test_a_ticket_with_nobody_to_contact_is_closed_with_its_reason(
        engine: Engine, config: Config, library: Library) -> None:
    with engine.begin() as conn:  # winback wants churned customers: there are none
        shown = service.plan(conn, config, library, library.playbooks["winback"], AT,
                             "manual", "pat")
        standing = service.plan(conn, config, library, library.playbooks["retention_inbound"],
                                AT, "contact", "system")
    assert shown is not None and standing is not None
    assert shown["state"] == "cancelled" and shown["next_level"] is None
    assert shown["cancel_reason"] == "empty audience: nobody to contact (0 matched)"
    assert [(a["action"], a["actor"], a["to"]) for a in shown["audit"]] == [
        ("plan", "pat", "planned"), ("close_empty", "system", "cancelled")]
    assert standing["state"] == "planned"  # a standing ticket waits for its events


def test_a_stale_rehearsal_is_run_again_and_says_what_changed(
        engine: Engine, config: Config, library: Library) -> None:
    from adapters.tickets import recheck

    upsell = _plan(engine, config, library, "high_value_upsell")
    with engine.connect() as conn:
        assert recheck.recheck(conn, config, library, upsell, AT) is None  # fresh
    running = _plan(engine, config, library, "renewal")  # its tasks now claim the customers
    with engine.begin() as conn:
        service.approve(conn, config, library, running, LEAD, "ok", AT)
    later = AT + config.rehearsal_max_age + dt.timedelta(minutes=1)
    with engine.connect() as conn:
        since = recheck.recheck(conn, config, library, upsell, later)
        treated = service.show(conn, upsell)["rehearsal"]["treatment"]
    assert since is not None and since["why"] == "age" and since["changed"]
    calls = next(c for c in since["changes"] if c["channel"] == "outbound_call")
    assert calls["before"] == treated and calls["after"] < treated
    assert sum(calls["reasons"].values()) == treated - calls["after"]
    director = User("dora", frozenset({"director"}))
    with engine.begin() as conn:  # once it runs: its suppressed tasks by channel and reason
        service.approve(conn, config, library, upsell, LEAD, "ok", later)
        service.approve(conn, config, library, upsell, director, "ok", later)
    with engine.connect() as conn:
        shown = listing.suppressed_reasons(conn, upsell)
    assert sum(shown.get("outbound_call", {}).values()) == treated - calls["after"]


def test_the_re_rehearsal_sweeps_again_and_says_who_joined_left_or_is_suppressed(
        engine: Engine, config: Config, library: Library) -> None:
    """After planning, new diamonds arrive, three members' ARPU drops below gold and two
    opt out of everything: the plan's sweep at the decision's instant says so, against the
    ticket's members (which approving still runs as planned)."""
    import sqlalchemy as sa

    from adapters.db.schema import ticket_members
    from adapters.tickets import recheck

    upsell = _plan(engine, config, library, "high_value_upsell")
    with engine.connect() as conn:  # swept again at once: the same customers
        same = recheck.recheck(conn, config, library, upsell, AT, force=True)
    assert same is not None and not same["changed"]
    assert same["audience"]["joined"] == same["audience"]["left"] == 0
    assert same["audience"]["suppressed"] == {}
    changed = AT + dt.timedelta(hours=1)
    with engine.begin() as conn:
        members = sorted(conn.scalars(sa.select(ticket_members.c.customer_id).where(
            ticket_members.c.ticket_id == upsell, ticket_members.c.grp == "treatment")))
        poorer, leaving = members[:3], members[3:5]
        conn.execute(customers.insert(), [{**_customer(i), "id": f"n{i:05d}"}
                                          for i in range(40)])
        conn.execute(customers.update().where(customers.c.id.in_(poorer))
                     .values(arpu=10.0, updated_at=changed))
        conn.execute(customers.update().where(customers.c.id.in_(leaving))
                     .values(opt_out=";all;", updated_at=changed))
    with engine.connect() as conn:
        since = recheck.recheck(conn, config, library, upsell, changed + dt.timedelta(hours=1))
    assert since is not None and since["why"] == "data" and since["changed"]
    audience = since["audience"]
    assert audience["left"] == 3 and audience["sample"]["left"] == poorer
    assert audience["suppressed"] == {"opted_out": 2}
    assert audience["sample"]["suppressed"] == leaving
    assert 30 <= audience["joined"] <= 40  # the holdout keeps a few of the 40 as control
    assert all(cid.startswith("n") for cid in audience["sample"]["joined"])
    assert audience["treatment_before"] == len(members)
    assert audience["treatment_after"] == len(members) - 5 + audience["joined"]


def test_event_tickets_are_not_swept_again(engine: Engine, config: Config,
                                           library: Library) -> None:
    """A standing (contact) ticket gathers its members one contact at a time: no sweep."""
    from adapters.tickets import recheck

    with engine.begin() as conn:
        shown = service.plan(conn, config, library, library.playbooks["retention_inbound"],
                             AT, "contact", "system")
    assert shown is not None
    with engine.connect() as conn:
        since = recheck.recheck(conn, config, library, int(shown["id"]), AT, force=True)
    assert since is not None and since["audience"] is None
