"""Tickets against real databases: sweep → plan → approve → execute → evaluate → close."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.access.users import add_user, token_holder, user_for_token
from adapters.db.engines import make_engine
from adapters.db.schema import customers, entries, events, tasks, ticket_members, tokens
from adapters.tickets import designer, notices, service
from engine.config import Config, Notifier
from engine.errors import Conflict, Forbidden, NotFound
from engine.playbooks.library import Library
from engine.playbooks.selection import in_global_control
from engine.tickets.users import User

AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
LEAD = User("bob", frozenset({"campaign_lead"}))
DIRECTOR = User("dora", frozenset({"director"}))
GOLDS = [f"w{i:02d}" for i in range(40)]


def _customer(cid: str, **fields: Any) -> dict[str, Any]:
    base = {"id": cid, "name": f"name {cid}", "phone": "+8613800000000", "email": None,
            "joined_on": dt.date(2019, 1, 1), "arpu": 200.0, "churned_on": None,
            "manager": None, "tags": None, "opt_out": None, "updated_at": AT}
    return {**base, **fields}


CHURNED = dt.date(2026, 10, 1)
CUSTOMERS = [
    *(_customer(cid, churned_on=CHURNED) for cid in GOLDS),
    _customer("d1", arpu=350.0, churned_on=CHURNED, manager="m7"),
    _customer("no_sms", churned_on=CHURNED, opt_out=";sms;"),
    _customer("opted_out", churned_on=CHURNED, opt_out=";all;"),
    _customer("hv_diamond", joined_on=dt.date(2015, 1, 1), arpu=350.0),
    _customer("hv_gold", joined_on=dt.date(2015, 1, 1), arpu=200.0),
]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(customers.insert(), CUSTOMERS)
    yield engine
    engine.dispose()


def _sweep(engine: Engine, config: Config, library: Library, at: dt.datetime,
           playbook: str = "winback") -> dict[str, Any] | None:
    with engine.begin() as conn:
        opened = service.sweep_all(conn, config, library, at)
    found = [t for t in opened if t["playbook"] == playbook]
    return found[0] if found else None


def _approve(engine: Engine, config: Config, library: Library, ticket_id: int, user: User,
             now: dt.datetime) -> dict[str, Any]:
    with engine.begin() as conn:
        return service.approve(conn, config, library, ticket_id, user, "ok", now)


def test_sweep_plans_a_ticket_with_snapshot_and_rehearsal(engine: Engine, config: Config,
                                                          library: Library) -> None:
    ticket = _sweep(engine, config, library, AT)
    assert ticket is not None and ticket["state"] == "planned"
    assert ticket["trigger"] == "schedule" and ticket["version"] == 3
    audience = ticket["audience"]
    assert audience["suppressed"] == {"opted_out": 1}
    assert audience["treatment"] + audience["control"] == len(GOLDS) + 2
    assert audience["control"] > 0  # a 10% holdout of 42
    assert ticket["levels"] == [{"level": 1, "role": "campaign_lead"}]
    assert ticket["next_level"] == 1
    assert ticket["deadline"] == (AT + dt.timedelta(days=1)).isoformat()
    rehearsal = ticket["rehearsal"]
    assert rehearsal["steps"]["sms"] == audience["treatment"]
    assert rehearsal["channels"]["outbound_call"] == rehearsal["steps"]["call"]
    assert len(rehearsal["sample"]) == 20
    assert all(s["audience"]["held"] for s in rehearsal["sample"])
    assert [a["action"] for a in ticket["audit"]] == ["plan"]
    assert ticket["audit"][0]["from"] is None and ticket["audit"][0]["to"] == "planned"


def test_an_approver_is_warned_that_a_small_control_group_can_tell_nothing(
        engine: Engine, config: Config, library: Library) -> None:
    ticket = _sweep(engine, config, library, AT)
    assert ticket is not None
    power = ticket["power"]
    assert power["treatment"] == ticket["audience"]["treatment"]
    assert power["control"] == ticket["audience"]["control"]
    assert power["base_rate_source"] == "default" and power["base_rate"] == 0.05
    assert power["minimum_detectable_effect"] is None and power["under_powered"]
    assert [w["code"] for w in ticket["warnings"]] == ["under_powered"]
    assert "can never tell an effect apart" in ticket["warnings"][0]["message"]
    assert ticket["rehearsal"]["power"] == power
    with engine.begin() as conn:
        notices.decide(conn, AT)
    told = [n for n in notices.pending(engine, Notifier(base_url="https://tend.example"))
            if n.ticket_id == ticket["id"]]
    assert [n.as_json()["warnings"] for n in told] == [[ticket["warnings"][0]["message"]]]


def test_a_window_is_swept_once_and_a_newer_sweep_supersedes(engine: Engine, config: Config,
                                                            library: Library) -> None:
    first = _sweep(engine, config, library, AT)
    assert first is not None
    assert _sweep(engine, config, library, AT) is None
    assert _sweep(engine, config, library, AT + dt.timedelta(hours=1)) is None  # same window
    second = _sweep(engine, config, library, AT + dt.timedelta(days=1))
    assert second is not None and second["id"] != first["id"]
    with engine.begin() as conn:
        old = service.show(conn, first["id"])
        planned, _ = service.listing(conn, state="planned", playbook="winback", now=AT,
                                     cursor=None, limit=10)
    assert old["state"] == "cancelled" and old["cancel_reason"] == "superseded"
    assert [a["action"] for a in old["audit"]] == ["plan", "supersede"]
    assert [t["id"] for t in planned] == [second["id"]]


def test_planner_owner_viewer_and_admin_cannot_approve(engine: Engine, config: Config,
                                                       library: Library) -> None:
    with engine.begin() as conn:
        ticket = service.plan(conn, config, library, library.playbooks["winback"], AT,
                              "manual", "alice")
    assert ticket is not None
    for user in (User("alice", frozenset({"campaign_lead"})),
                 User("retention-team", frozenset({"campaign_lead"})),
                 User("rita", frozenset({"campaign_lead"})),  # of retention-team, the owner
                 User("vic", frozenset({"viewer"})), User("ada", frozenset({"admin"})),
                 DIRECTOR):
        with pytest.raises(Forbidden), engine.begin() as conn:
            service.approve(conn, config, library, ticket["id"], user, None, AT)
    member = User("ruben", frozenset({"campaign_lead"}))
    with pytest.raises(Forbidden, match="member of retention-team, which owns"), \
            engine.begin() as conn:
        service.approve(conn, config, library, ticket["id"], member, None, AT)
    with engine.begin() as conn:
        assert service.show(conn, ticket["id"])["approvals"] == []


def test_a_repeated_approval_answers_the_ticket_and_writes_nothing(
        engine: Engine, config: Config, library: Library) -> None:
    ticket = _sweep(engine, config, library, AT)
    assert ticket is not None
    done = _approve(engine, config, library, ticket["id"], LEAD, AT)
    assert done["state"] == "executing" and done["repeat"] is False
    with engine.begin() as conn:
        tasks_before = len(service.tasks(conn, ticket["id"]))
        again = service.approve(conn, config, library, ticket["id"], LEAD, None,
                                AT + dt.timedelta(seconds=1), 1)
        assert len(service.tasks(conn, ticket["id"])) == tasks_before
    assert again["repeat"] is True and again["state"] == "executing"
    assert again["audit"] == done["audit"] and again["approvals"] == done["approvals"]


def test_the_global_control_is_never_contacted_and_is_recorded_as_such(
        engine: Engine, config: Config, library: Library) -> None:
    program = dataclasses.replace(config, global_control=0.3)
    held = sorted(c["id"] for c in CUSTOMERS if in_global_control(c["id"], 0.3)
                  and c["churned_on"] is not None and c["id"] != "opted_out")
    assert held  # 30% of 42 churned customers
    ticket = _sweep(engine, program, library, AT)
    assert ticket is not None
    assert ticket["audience"]["suppressed"]["global_control"] == len(held)
    _approve(engine, program, library, ticket["id"], LEAD, AT)
    with engine.connect() as conn:
        members = {row.customer_id: f"{row.grp}:{row.reason}" for row in conn.execute(
            sa.select(ticket_members).where(ticket_members.c.ticket_id == ticket["id"]))}
        contacted = set(conn.execute(sa.select(tasks.c.customer_id)).scalars())
        cid = held[0]
        said = designer.explain(conn, cid, [library.playbooks["winback"]], program, AT)
    assert {members[c] for c in held} == {"suppressed:global_control"}
    assert ticket["rehearsal"]["suppressed"]["global_control"] == len(held)
    assert contacted and contacted.isdisjoint(held)
    assert said["playbooks"][0]["group"] == "suppressed: global_control"


def test_approval_executes_with_entries_and_tasks(engine: Engine, config: Config,
                                                  library: Library) -> None:
    ticket = _sweep(engine, config, library, AT)
    assert ticket is not None
    start = AT + dt.timedelta(hours=2)
    done = _approve(engine, config, library, ticket["id"], LEAD, start)
    assert done["state"] == "executing" and done["next_level"] is None
    assert [a["action"] for a in done["audit"]] == ["plan", "approve", "start"]
    assert done["approvals"][0]["by"] == "bob" and done["approvals"][0]["decision"] == "approved"
    assert done["evaluate_after"] == (start + dt.timedelta(days=30)).isoformat()
    with engine.begin() as conn:
        found = service.tasks(conn, ticket["id"])
        entered = dict(conn.execute(sa.select(entries.c.customer_id, entries.c.id)
                                    .where(entries.c.ticket_id == ticket["id"])).all())
        groups = dict(conn.execute(sa.select(entries.c.customer_id, entries.c.grp)).all())
    assert len(entered) == ticket["audience"]["treatment"] + ticket["audience"]["control"]
    treated = {cid for cid, grp in groups.items() if grp == "treatment"}
    by_key = {t["idempotency_key"]: t for t in found}
    for task in found:
        assert task["customer_id"] in treated and task["state"] == "pending"
        assert task["idempotency_key"] == f"{entered[task['customer_id']]}:{task['step']}"
    sms = {t["customer_id"] for t in found if t["step"] == "sms"}
    assert sms == treated - {"no_sms"}
    assert all(t["due_at"] == (start + dt.timedelta(days=3)).isoformat()
               for t in found if t["step"] == "sms")
    if "d1" in treated:
        call = by_key[f"{entered['d1']}:call"]
        assert call["route"] == "manager:m7" and call["due_at"] == start.isoformat()
        assert call["payload"]["template"] == "winback_call"
        assert call["payload"]["params"] == {"offer": "WB50"}
        assert call["payload"]["customer"]["phone"] == "+8613800000000"
    with pytest.raises(Conflict), engine.begin() as conn:
        service.approve(conn, config, library, ticket["id"], User("carl", LEAD.roles), None,
                        start)
    with pytest.raises(Forbidden), engine.begin() as conn:  # 403 before 409
        service.approve(conn, config, library, ticket["id"], DIRECTOR, None, start)


def test_cooldown_from_entries_suppresses_the_next_sweep(engine: Engine, config: Config,
                                                         library: Library) -> None:
    ticket = _sweep(engine, config, library, AT)
    assert ticket is not None
    _approve(engine, config, library, ticket["id"], LEAD, AT)
    later = _sweep(engine, config, library, AT + dt.timedelta(days=2))
    assert later is not None
    selected = ticket["audience"]["treatment"] + ticket["audience"]["control"]
    assert later["audience"] == {"treatment": 0, "control": 0,
                                 "suppressed": {"cooldown": selected, "opted_out": 1}}


def test_two_levels_when_diamonds_are_in_the_audience(engine: Engine, config: Config,
                                                      library: Library) -> None:
    ticket = _sweep(engine, config, library, AT, "high_value_upsell")
    assert ticket is not None
    assert [lv["role"] for lv in ticket["levels"]] == ["campaign_lead", "director"]
    with pytest.raises(Forbidden), engine.begin() as conn:  # level 1 first
        service.approve(conn, config, library, ticket["id"], DIRECTOR, None, AT)
    first = _approve(engine, config, library, ticket["id"], LEAD, AT)
    assert first["state"] == "planned" and first["next_level"] == 2
    assert first["deadline"] == (AT + dt.timedelta(days=2)).isoformat()
    both = User("bob", frozenset({"campaign_lead", "director"}))
    with pytest.raises(Forbidden), engine.begin() as conn:  # one person, one level
        service.approve(conn, config, library, ticket["id"], both, None, AT, 2)
    with engine.begin() as conn:  # without a level: the repeat of level 1, nothing changes
        assert service.approve(conn, config, library, ticket["id"], both, None, AT)["repeat"]
    second = _approve(engine, config, library, ticket["id"], DIRECTOR, AT)
    assert second["state"] == "executing"
    assert [a["action"] for a in second["audit"]] == ["plan", "approve_level", "approve",
                                                      "start"]


def test_rejection_and_cancel(engine: Engine, config: Config, library: Library) -> None:
    ticket = _sweep(engine, config, library, AT)
    assert ticket is not None
    with engine.begin() as conn:
        rejected = service.reject(conn, config, library, ticket["id"], LEAD, "too broad", AT)
    assert rejected["state"] == "rejected"
    assert rejected["approvals"][0]["decision"] == "rejected"
    with pytest.raises(Conflict), engine.begin() as conn:
        service.cancel(conn, config, library, ticket["id"], User("ada", frozenset({"admin"})),
                       "late", AT)
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar() == 0
    with pytest.raises(NotFound), engine.begin() as conn:
        service.show(conn, 999)


def test_advance_evaluates_and_closes_with_conversions(engine: Engine, config: Config,
                                                       library: Library) -> None:
    ticket = _sweep(engine, config, library, AT)
    assert ticket is not None
    _approve(engine, config, library, ticket["id"], LEAD, AT)
    with engine.begin() as conn:
        groups = dict(conn.execute(sa.select(entries.c.customer_id, entries.c.grp)).all())
    treated = sorted(c for c, g in groups.items() if g == "treatment")
    control = sorted(c for c, g in groups.items() if g == "control")
    goal_events = [(treated[0], 1), (treated[1], 29), (treated[2], 31), (control[0], 2),
                   ("opted_out", 3)]
    with engine.begin() as conn:
        conn.execute(events.insert(), [
            {"id": f"e{i}", "customer_id": cid, "type": "plan_reactivated",
             "at": AT + dt.timedelta(days=day), "data": None, "known_customer": True,
             "received_at": AT} for i, (cid, day) in enumerate(goal_events)])
        assert service.advance(conn, config, library, AT + dt.timedelta(days=29)) == []
        overdue, _ = service.listing(conn, overdue=True, now=AT + dt.timedelta(days=29),
                                     cursor=None, limit=10)
        assert ticket["id"] in [t["id"] for t in overdue]  # sms tasks due + 3d execute SLA
        assert service.advance(conn, config, library,
                               AT + dt.timedelta(days=31)) == [ticket["id"]]
        closed = service.show(conn, ticket["id"])
    assert closed["state"] == "closed"
    assert [a["action"] for a in closed["audit"]] == ["plan", "approve", "start", "evaluate",
                                                      "close"]
    goal = closed["results"]["goal"]
    assert goal["treatment"]["conversions"] == 2 and goal["control"]["conversions"] == 1
    assert goal["treatment"]["members"] == len(treated)
    assert goal["control"]["rate"] == 1 / len(control)
    sms = next(f for f in closed["results"]["funnel"] if f["step"] == "sms")
    assert sms["states"] == {"pending": len(treated) - 1} and sms["sent"] == 0
    later = _sweep(engine, config, library, AT + dt.timedelta(days=40))
    assert later is not None
    assert later["power"]["base_rate_source"] == "history"
    assert later["power"]["base_rate"] == 1 / len(control)


def test_audit_rows_are_one_per_change_and_never_edited(engine: Engine, config: Config,
                                                        library: Library) -> None:
    ticket = _sweep(engine, config, library, AT)
    assert ticket is not None
    before = ticket["audit"]
    done = _approve(engine, config, library, ticket["id"], LEAD, AT)
    assert done["audit"][:1] == before and len(done["audit"]) == 3
    for statement in ("UPDATE audit SET reason = 'edited'", "DELETE FROM audit"):
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.execute(sa.text(statement))


def test_tokens_name_their_user(engine: Engine) -> None:
    with engine.begin() as conn:
        now = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)
        token = add_user(conn, "bob", ["campaign_lead", "viewer"], now)
        assert user_for_token(conn, token, now) == User("bob", frozenset({"campaign_lead",
                                                                           "viewer"}))
        assert user_for_token(conn, token + "x", now) is None
        with pytest.raises(Conflict):
            add_user(conn, "bob", ["viewer"], now)


def test_a_token_is_stamped_on_use_at_most_once_a_minute(engine: Engine) -> None:
    """Operators see when a token was last used; the stamp is a write, so it is rare. The
    instants are the caller's clock, never the database's or the wall's."""
    made = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)
    with engine.begin() as conn:
        token = add_user(conn, "bob", ["viewer"], made)
        holder = token_holder(conn, token, made)
        assert holder is not None and holder[1]  # never used: due a stamp
        user_for_token(conn, token, made + dt.timedelta(seconds=5))
        stamped = conn.scalar(sa.select(tokens.c.last_used_at))
        assert stamped is not None
        assert stamped.replace(tzinfo=dt.UTC) == made + dt.timedelta(seconds=5)
        holder = token_holder(conn, token, made + dt.timedelta(seconds=60))
        assert holder is not None and not holder[1]
        holder = token_holder(conn, token, made + dt.timedelta(minutes=2))
        assert holder is not None and holder[1]
