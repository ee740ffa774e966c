"""The contact policy on both databases: when tasks are made (execution) and when they are
claimed (the adapter pull; the push worker claims the same way)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.folders import with_rules
from support.http_api import Api

from adapters.db.engines import make_engine
from adapters.db.schema import channel_sends, customers, tasks
from adapters.http.state import State
from adapters.tasks import contact_policy, pushes, sends
from adapters.tasks import service as task_pull
from adapters.tickets import designer, service
from adapters.tickets.scheduler import plan_standing
from engine.config import Config
from engine.playbooks.library import Library, load_library
from engine.tasks import policy as pol
from engine.tickets.users import User

ROOT = Path(__file__).resolve().parents[3]
SHANGHAI = ZoneInfo("Asia/Shanghai")
LEAD = User("lead", frozenset({"campaign_lead"}))
PEOPLE = ["c1", "c2", "c3"]
LEASE = dt.timedelta(days=7)  # no lease runs out unless a test says so


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _playbook(name: str, priority: int, steps: str, kind: str = "sales") -> str:
    return (f"playbook: {name}\ntitle: {name}\nversion: 1\npriority: {priority}\n"
            f"class: {kind}\n"
            f"trigger: {{schedule: '0 9 * * *'}}\naudience: {{churned_on: {{exists: true}}}}\n"
            f"workflow: standard\nsteps:\n{steps}")


SMS = "  - {id: sms, channel: sms, template: t}\n"


@pytest.fixture
def library(tmp_path: Path, config: Config) -> Library:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, priority, steps in (
            ("alpha", 50, SMS), ("beta", 40, SMS), ("gamma", 50, SMS),
            ("twice", 10, SMS + "  - {id: again, channel: sms, template: t, delay: 23h}\n"
                                "  - {id: later, channel: sms, template: t, delay: 1d}\n")):
        (rules / f"{name}.yaml").write_text(_playbook(name, priority, steps), encoding="utf-8")
    for name, kind in (("greet", "care"), ("vip", "care"), ("notice", "service")):
        (rules / f"{name}.yaml").write_text(_playbook(name, 10, SMS, kind), encoding="utf-8")
    return load_library(with_rules(config, rules))


def policy(config: Config, **changes: Any) -> Config:
    base = pol.Policy(SHANGHAI, caps=(pol.Cap(1, dt.timedelta(days=1), "sms"),),
                      channels={"sms": pol.ChannelRules(pol.QuietHours(dt.time(21),
                                                                       dt.time(9)), None)},
                      arbitration=dt.timedelta(days=1))
    return dataclasses.replace(config, policy=dataclasses.replace(base, **changes))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": cid, "phone": "+8613800000000", "joined_on": dt.date(2019, 1, 1),
             "arpu": 200.0, "churned_on": dt.date(2026, 10, 1), "updated_at": local(1, 9)}
            for cid in PEOPLE])
    yield engine
    engine.dispose()


def run(engine: Engine, config: Config, library: Library, name: str,
        at: dt.datetime) -> int:
    """Plan and approve `name` at `at`: its tasks are made then."""
    with engine.begin() as conn:
        planned = service.plan(conn, config, library, library.playbooks[name], at, "manual",
                               "designer")
        assert planned is not None
        service.approve(conn, config, library, planned["id"], LEAD, None, at)
    return int(planned["id"])


def states(engine: Engine, ticket: int) -> dict[str, tuple[str, Any]]:
    """`customer/step` → (state, detail) of the ticket's tasks."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tasks).where(tasks.c.ticket_id == ticket)).all()
    return {f"{r.customer_id}/{r.step}": (r.state, r.detail) for r in rows}


def pull(engine: Engine, config: Config, at: dt.datetime, limit: int = 10,
         lease: dt.timedelta = LEASE) -> list[str]:
    with engine.begin() as conn:
        items = task_pull.pull(conn, "sms", limit, lease, at, config.policy)
    return [f"{t['customer_id']}/{t['step']}" for t in items]


# --- contact classes: care and service are never crowded out by marketing ---

def test_a_birthday_greeting_and_an_upsell_on_the_same_day_both_go_out(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config)
    greet = run(engine, rules, library, "greet", local(20, 9))
    alpha = run(engine, rules, library, "alpha", local(20, 10))
    assert {s for s, _ in states(engine, greet).values()} == {"pending"}
    assert {s for s, _ in states(engine, alpha).values()} == {"pending"}
    assert sorted(pull(engine, rules, local(20, 11))) == sorted(
        [f"{c}/sms" for c in PEOPLE] * 2)


def test_the_marketing_cap_ignores_a_greeting_already_sent(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, arbitration=None)
    run(engine, rules, library, "greet", local(20, 9))
    assert len(pull(engine, rules, local(20, 9, 30))) == len(PEOPLE)
    beta = run(engine, rules, library, "beta", local(20, 10))
    assert {s for s, _ in states(engine, beta).values()} == {"pending"}
    assert len(pull(engine, rules, local(20, 11))) == len(PEOPLE)


def test_care_has_caps_of_its_own_and_opt_outs_stop_every_class(
        engine: Engine, config: Config, library: Library) -> None:
    care_cap = pol.Cap(1, dt.timedelta(days=1), "sms", frozenset({pol.CARE}))
    rules = policy(config, caps=(pol.Cap(1, dt.timedelta(days=1), "sms"), care_cap),
                   arbitration=None)
    with engine.begin() as conn:
        conn.execute(customers.update().where(customers.c.id == "c3").values(opt_out=";sms;"))
    run(engine, rules, library, "greet", local(20, 9))
    vip = states(engine, run(engine, rules, library, "vip", local(20, 9, 5)))
    assert vip["c1/sms"][0] == "suppressed" and vip["c1/sms"][1]["reason"] == "frequency_cap"
    assert "(care)" in vip["c1/sms"][1]["note"]
    assert "c3/sms" not in vip  # opted out of sms: care makes no task for them either
    notice = states(engine, run(engine, rules, library, "notice", local(20, 9, 10)))
    assert notice["c1/sms"][0] == "pending"  # service is neither care nor marketing


def test_the_rehearsal_says_what_a_class_is_spared(
        engine: Engine, config: Config, library: Library) -> None:
    with engine.begin() as conn:
        planned = service.plan(conn, policy(config), library, library.playbooks["greet"],
                               local(20, 9), "manual", "designer")
    assert planned is not None
    rehearsal = planned["rehearsal"]
    assert rehearsal["contact_class"] == "care"
    assert rehearsal["exempt"] == "care: never arbitrated against marketing, outside marketing caps"


# --- arbitration when tasks are made ---

def test_a_higher_priority_playbook_planned_later_suppresses_the_pending_tasks_it_beats(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config)
    beta = run(engine, rules, library, "beta", local(20, 10))
    alpha = run(engine, rules, library, "alpha", local(20, 11))
    assert {s for s, _ in states(engine, alpha).values()} == {"pending"}
    lost = states(engine, beta)
    assert {s for s, _ in lost.values()} == {"suppressed"}
    detail = lost["c1/sms"][1]
    assert detail["reason"] == "arbitration" and detail["note"].startswith("alpha (priority 50)")


def test_a_lower_priority_playbook_within_the_window_is_suppressed_when_made(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config)
    run(engine, rules, library, "alpha", local(20, 10))
    beta = run(engine, rules, library, "beta", local(21, 9, 59))
    assert {(s, d["reason"]) for s, d in states(engine, beta).values()} == {
        ("suppressed", "arbitration")}


def test_a_lower_priority_playbook_one_window_later_goes_ahead(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, caps=())
    run(engine, rules, library, "alpha", local(20, 10))
    beta = run(engine, rules, library, "beta", local(21, 10))
    assert {s for s, _ in states(engine, beta).values()} == {"pending"}


def test_equal_priorities_the_smaller_playbook_id_wins(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, caps=())
    gamma = run(engine, rules, library, "gamma", local(20, 10))
    alpha = run(engine, rules, library, "alpha", local(20, 11))
    assert {s for s, _ in states(engine, alpha).values()} == {"pending"}
    assert {s for s, _ in states(engine, gamma).values()} == {"suppressed"}


def test_a_task_already_handed_out_is_not_taken_back(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, caps=())
    beta = run(engine, rules, library, "beta", local(20, 10))
    assert len(pull(engine, rules, local(20, 10))) == 3
    run(engine, rules, library, "alpha", local(20, 11))
    assert {s for s, _ in states(engine, beta).values()} == {"leased"}


# --- frequency caps and quiet hours when tasks are made ---

def test_a_step_inside_the_channel_cap_is_suppressed_and_one_window_later_is_made(
        engine: Engine, config: Config, library: Library) -> None:
    made = states(engine, run(engine, policy(config), library, "twice", local(20, 10)))
    assert made["c1/sms"][0] == "pending" and made["c1/later"][0] == "pending"
    assert made["c1/again"][0] == "suppressed"
    assert made["c1/again"][1]["reason"] == "frequency_cap"
    assert made["c1/again"][1]["note"] == "sms: at most 1 per 1d"


def test_a_task_due_in_quiet_hours_is_made_due_when_they_end(
        engine: Engine, config: Config, library: Library) -> None:
    ticket = run(engine, policy(config), library, "alpha", local(20, 22))
    with engine.connect() as conn:
        row = conn.execute(sa.select(tasks).where(tasks.c.ticket_id == ticket)).first()
    assert row is not None and row.state == "pending" and row.due_at == local(21, 9)
    assert row.detail["reason"] == "quiet_hours" and row.detail["policy"] == "hold"


def test_without_a_policy_nothing_is_held_or_suppressed(
        engine: Engine, config: Config, library: Library) -> None:
    free = dataclasses.replace(config, policy=pol.Policy())
    made = states(engine, run(engine, free, library, "twice", local(20, 22)))
    assert {s for s, _ in made.values()} == {"pending"}
    assert pull(engine, free, local(20, 22), limit=2) == ["c1/sms", "c2/sms"]


# --- when tasks are claimed ---

def test_one_minute_before_quiet_hours_end_nothing_goes_and_at_their_end_it_does(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config)
    ticket = run(engine, dataclasses.replace(rules, policy=pol.Policy()), library, "alpha",
                 local(20, 8))
    assert pull(engine, rules, local(20, 8, 59)) == []
    held = states(engine, ticket)
    assert {(s, d["reason"]) for s, d in held.values()} == {("pending", "quiet_hours")}
    assert pull(engine, rules, local(20, 9)) == ["c1/sms", "c2/sms", "c3/sms"]


def test_capacity_n_goes_and_the_rest_waits_for_the_next_day_in_priority_order(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, caps=(), arbitration=None,
                   channels={"sms": pol.ChannelRules(None, 4)})
    beta = run(engine, rules, library, "beta", local(20, 10))
    alpha = run(engine, rules, library, "alpha", local(20, 10))
    sent = pull(engine, rules, local(20, 12))
    assert len(sent) == 4
    assert {s for s, _ in states(engine, alpha).values()} == {"leased"}
    waiting = [(s, d) for s, d in states(engine, beta).values() if s == "pending"]
    assert len(waiting) == 2 and waiting[0][1]["reason"] == "capacity"
    assert waiting[0][1]["until"] == local(21, 0).isoformat()
    assert pull(engine, rules, local(20, 23, 59)) == []
    assert len(pull(engine, rules, local(21, 0))) == 2


def test_capacity_counts_each_task_once_across_lease_renewals(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, caps=(), arbitration=None,
                   channels={"sms": pol.ChannelRules(None, 3)})
    run(engine, rules, library, "alpha", local(20, 10))
    assert len(pull(engine, rules, local(20, 10), lease=dt.timedelta(minutes=5))) == 3
    assert len(pull(engine, rules, local(20, 10, 6))) == 3  # leases ran out: handed out again


def test_the_send_counts_capacity_reads_equal_the_stamped_tasks_after_a_mix_of_claims(
        engine: Engine, config: Config, library: Library) -> None:
    """A channel's capacity reads counts kept as tasks are first sent (channel_sends): after
    pulls, pushes, held and suppressed tasks, re-sends after a lease ran out and a day
    boundary, they equal the tasks' own `sent_at`, quarter hour by quarter hour."""
    rules = policy(config, arbitration=None, channels={"sms": pol.ChannelRules(
        pol.QuietHours(dt.time(21), dt.time(9)), 4)})
    free = dataclasses.replace(rules, policy=pol.Policy())
    run(engine, free, library, "alpha", local(20, 8))
    run(engine, free, library, "twice", local(20, 8))
    assert pull(engine, rules, local(20, 8, 30)) == []  # quiet hours: held, nothing sent
    pull(engine, rules, local(20, 9), limit=2, lease=dt.timedelta(minutes=5))
    pushes.claim(engine, ["sms"], 10, dt.timedelta(minutes=5), local(20, 9, 20), rules.policy)
    pull(engine, rules, local(20, 9, 40))  # re-sends of those whose leases ran out
    run(engine, free, library, "gamma", local(20, 10))
    pull(engine, rules, local(20, 10, 5))  # the cap suppresses, the capacity holds
    pull(engine, rules, local(21, 9, 10))  # a new day
    pull(engine, rules, local(22, 9, 10))
    with engine.connect() as conn:
        kept = {(c, s): n for c, s, n in conn.execute(sa.select(channel_sends))}
        stamped = [(r.channel, r.sent_at) for r in conn.execute(
            sa.select(tasks.c.channel, tasks.c.sent_at).where(tasks.c.sent_at.is_not(None)))]
        used = contact_policy.sent_today(conn, rules.policy, ["sms"], local(20, 23))
    counted: dict[tuple[str, int], int] = {}
    for channel, at in stamped:
        counted[(channel, sends.slot(at))] = counted.get((channel, sends.slot(at)), 0) + 1
    assert kept == counted and len(kept) >= 3
    assert used == {"sms": sum(1 for _, at in stamped if at < local(21, 0))} == {"sms": 3}


def test_a_cap_reached_since_the_task_was_made_suppresses_it_when_claimed(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, arbitration=None)
    run(engine, rules, library, "alpha", local(20, 10))
    assert len(pull(engine, rules, local(20, 10))) == 3
    gamma = run(engine, dataclasses.replace(rules, policy=pol.Policy()), library, "gamma",
                local(20, 12))
    assert pull(engine, rules, local(21, 9, 59)) == []
    assert {(s, d["reason"]) for s, d in states(engine, gamma).values()} == {
        ("suppressed", "frequency_cap")}


def test_exactly_one_window_after_the_last_contact_the_next_goes(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, arbitration=None)
    run(engine, rules, library, "alpha", local(20, 10))
    assert len(pull(engine, rules, local(20, 10))) == 3
    run(engine, dataclasses.replace(rules, policy=pol.Policy()), library, "gamma",
        local(20, 12))
    assert len(pull(engine, rules, local(21, 10))) == 3


def test_an_opt_out_since_the_task_was_made_suppresses_it_when_claimed(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config)
    ticket = run(engine, rules, library, "alpha", local(20, 10))
    with engine.begin() as conn:
        conn.execute(customers.update().where(customers.c.id == "c2").values(opt_out=";sms;"))
        conn.execute(customers.update().where(customers.c.id == "c3").values(opt_out=";all;"))
    assert pull(engine, rules, local(20, 10)) == ["c1/sms"]
    found = states(engine, ticket)
    assert found["c2/sms"][0] == "suppressed" and found["c2/sms"][1]["reason"] == "opted_out"
    assert found["c3/sms"][1]["note"] == "opted out of everything"


# --- the rehearsal shows what the policy would do, before anyone approves ---

def test_the_rehearsal_counts_tasks_the_policy_would_suppress_hold_or_beat(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, channels={"sms": pol.ChannelRules(
        pol.QuietHours(dt.time(21), dt.time(9)), 2)})
    run(engine, rules, library, "beta", local(20, 10))
    with engine.begin() as conn:
        twice = service.plan(conn, rules, library, library.playbooks["twice"], local(20, 22),
                             "manual", "designer")
        alpha = service.plan(conn, rules, library, library.playbooks["alpha"], local(20, 11),
                             "manual", "designer")
    assert twice is not None and alpha is not None
    # twice at 22:00: its sms waits for 09:00, within a day of beta's (priority 40 > 10);
    # `again` waits for 09:00 the day after; `later` then lands on it, over the sms cap
    assert twice["rehearsal"]["contact_policy"] == {
        "tasks": 9, "suppressed": {"arbitration": 3, "frequency_cap": 3},
        "held": {"quiet_hours": 3}, "beats": 0,
        "capacity": {"sms": {"tasks": 3, "per_day": 2, "days": 2}},
        "going": {"sms": 3}, "suppressed_by_channel": {"sms": {"arbitration": 3,
                                                               "frequency_cap": 3}}}
    assert alpha["rehearsal"]["contact_policy"] == {
        "tasks": 3, "suppressed": {}, "held": {}, "beats": 3,
        "capacity": {"sms": {"tasks": 3, "per_day": 2, "days": 2}},
        "going": {"sms": 3}, "suppressed_by_channel": {}}
    with engine.begin() as conn:
        late = service.plan(conn, policy(config, arbitration=None), library,
                            library.playbooks["twice"], local(22, 22), "manual", "designer")
    assert late is not None
    assert late["rehearsal"]["contact_policy"]["suppressed"] == {"frequency_cap": 3}
    assert late["rehearsal"]["contact_policy"]["held"] == {"quiet_hours": 6}


# --- explain says what became of each task, and why ---

def test_explain_says_which_tasks_were_sent_held_suppressed_or_cancelled_and_why(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config)
    beta = run(engine, rules, library, "beta", local(20, 10))
    pull(engine, rules, local(20, 10))
    run(engine, rules, library, "alpha", local(20, 11))
    run(engine, policy(config, arbitration=None), library, "twice", local(22, 22))
    with engine.begin() as conn:
        service.cancel(conn, rules, library, beta, User("admin", frozenset({"admin"})),
                       "wrong offer", local(20, 12))
    chosen = sorted(library.playbooks.values(), key=lambda p: p.id)
    with engine.connect() as conn:
        doc = designer.explain(conn, "c1", chosen, rules, local(23, 0))
        text = designer.explanation_text(doc)
    told = {(t["playbook"], t["step"]): (t["outcome"], t["why"]) for t in doc["tasks"]}
    assert told[("beta", "sms")] == ("cancelled", "ticket cancelled")
    assert told[("alpha", "sms")] == (
        "suppressed", "frequency_cap — sms: at most 1 per 1d")
    assert told[("twice", "sms")][0] == "held"
    assert told[("twice", "sms")][1].startswith("quiet_hours — sms is quiet 21:00-09:00; due ")
    assert told[("twice", "later")][0] == "suppressed"
    assert "tasks:" in text and "suppressed beta" not in text
    assert "cancelled  beta ticket" in text


# --- event-triggered entries go through the same policy ---

def test_a_standing_entry_is_judged_by_the_policy_when_its_task_is_made(api: Api) -> None:
    st: State = api.app.extensions["tend"]
    st.config = dataclasses.replace(st.config, policy=pol.Policy(
        SHANGHAI, caps=(pol.Cap(0, dt.timedelta(days=1), "outbound_call"),)))
    api.call("POST", "/customers", json=[{"id": "s1", "joined_on": "2020-01-01",
                                          "arpu": 100.0, "manager": "m01"}])
    with st.engine.begin() as conn:  # the standing ticket, as the scheduler plans it
        opened = plan_standing(conn, st.config, st.library, dt.datetime.now(dt.UTC))
    planned = next(t for t in opened if t["playbook"] == "zero_usage_alert")
    assert planned["rehearsal"]["contact_policy"] is not None
    approved = api.call("POST", f"/tickets/{planned['id']}/approve", "campaign_lead",
                        json={})
    assert approved.json["state"] == "executing"
    reply = api.call("POST", "/events", "adapter:sms", json=[{
        "id": "z1", "customer_id": "s1", "type": "zero_usage",
        "at": dt.datetime.now(dt.UTC).isoformat(), "data": {"days": 9}}])
    made = reply.json["triggered"][0]["tasks"]
    assert [(t["step"], t["state"]) for t in made] == [("manager_call", "suppressed")]
    with st.engine.connect() as conn:
        detail = conn.execute(sa.select(tasks.c.detail)
                              .where(tasks.c.id == made[0]["id"])).scalar_one()
    assert detail["reason"] == "frequency_cap"
    assert detail["note"] == "outbound_call: at most 0 per 1d"


def test_two_claimers_at_once_never_both_spend_the_last_of_a_days_capacity(
        engine: Engine, config: Config, library: Library) -> None:
    rules = policy(config, caps=(), arbitration=None,
                   channels={"sms": pol.ChannelRules(None, 4)})
    for name in ("alpha", "beta", "gamma"):
        run(engine, rules, library, name, local(20, 10))
    got: list[int] = []
    with engine.connect() as first:
        first.begin()
        got += [len(task_pull.pull(first, "sms", 2, LEASE, local(20, 12), rules.policy))]
        second = threading.Thread(target=lambda: got.append(
            len(pull(engine, rules, local(20, 12)))))
        second.start()
        if engine.dialect.name == "postgresql":  # wait until it queues behind the first
            with engine.connect() as probe:
                for _ in range(200):
                    if probe.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE "
                                            "locktype = 'advisory' AND NOT granted")):
                        break
                    threading.Event().wait(0.05)
        first.commit()
    second.join(timeout=60)
    assert got == [2, 2]


def test_a_customer_being_sent_to_by_another_claimer_waits_for_a_later_claim(
        engine: Engine, config: Config, library: Library) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite claimers hold the write lock: one claims at a time")
    rules = policy(config, caps=(pol.Cap(1, dt.timedelta(days=1)),), arbitration=None,
                   channels={})
    free = dataclasses.replace(rules, policy=pol.Policy())
    beta = run(engine, free, library, "beta", local(20, 10))
    run(engine, free, library, "alpha", local(20, 10))
    with engine.connect() as first:
        first.begin()
        assert [t["customer_id"] for t in task_pull.pull(
            first, "sms", 1, LEASE, local(20, 12), rules.policy)] == ["c1"]  # alpha's
        # c1's beta task is not locked, but c1's send is not committed: it waits
        assert pull(engine, rules, local(20, 12)) == ["c2/sms", "c3/sms"]
        first.commit()
    assert pull(engine, rules, local(20, 12)) == []
    assert {c: s for c, (s, _) in states(engine, beta).items()} == {
        "c1/sms": "suppressed", "c2/sms": "suppressed", "c3/sms": "suppressed"}
