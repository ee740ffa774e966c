"""Daily gathered tickets: an event playbook without a standing workflow gathers its matches,
and each ended day's matches become one planned ticket, approved like any other."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.cli import run
from support.folders import with_rules
from support.http_api import ROLES, Api

from adapters.access.users import add_user
from adapters.db.schema import entries, ticket_members
from adapters.db.schema import event_matches as match_table
from adapters.db.schema import tickets as ticket_table
from adapters.http.app import create_app
from adapters.http.state import State
from adapters.tickets import daily as event_matches
from adapters.tickets.scheduler import Scheduler
from engine.config import Config
from engine.playbooks.library import load_library

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = "zero_usage_digest"
NOW = dt.datetime.now(dt.UTC)
TOMORROW = NOW + dt.timedelta(days=1)


def customer(cid: str, arpu: float = 100.0, **more: Any) -> dict[str, Any]:
    return {"id": cid, "joined_on": "2020-01-01", "arpu": arpu, "manager": "m01",
            "phone": "13800000001", **more}


def silent(event_id: str, cid: str, days: int = 9) -> dict[str, Any]:
    return {"id": event_id, "customer_id": cid, "type": "zero_usage", "at": NOW.isoformat(),
            "data": {"days": days}}


@pytest.fixture(scope="session")
def config(config: Config) -> Config:
    """A library of one playbook: tests/fixtures/daily/zero_usage_digest.yaml."""
    return with_rules(config, ROOT / "tests" / "fixtures" / "daily")


@pytest.fixture
def api(db_url: str, config: Config) -> Iterator[Api]:
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True})
    state: State = app.extensions["tend"]
    with state.engine.begin() as conn:
        tokens = {role: add_user(conn, role.replace(":", "_"), [role], NOW) for role in ROLES}
    yield Api(app, app.test_client(), tokens)
    state.dispose()


def plan_days(api: Api, at: dt.datetime) -> list[dict[str, Any]]:
    state: State = api.app.extensions["tend"]
    with state.engine.begin() as conn:
        return event_matches.plan_days(conn, state.config, state.library, at)


def members(api: Api, ticket_id: int) -> dict[str, set[str]]:
    state: State = api.app.extensions["tend"]
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(ticket_members.c.grp, ticket_members.c.reason,
                                      ticket_members.c.customer_id)
                            .where(ticket_members.c.ticket_id == ticket_id)).all()
    groups: dict[str, set[str]] = {}
    for grp, reason, cid in rows:
        groups.setdefault(reason or grp, set()).add(cid)
    return groups


def test_the_matches_of_a_day_become_one_ticket_with_those_customers(api: Api,
                                                                     config: Config) -> None:
    api.call("POST", "/customers", json=[
        customer("c1"), customer("c2"), customer("c3", arpu=10.0), customer("c4")])
    reply = api.call("POST", "/events", "adapter:sms", json=[
        silent("e1", "c1"), silent("e2", "c2"), silent("e3", "c3"), silent("e4", "c1", 12),
        silent("e5", "c4")])
    assert reply.status_code == 200, reply.json
    today = config.today(NOW).isoformat()
    by_event = {t["event"]: t for t in reply.json["triggered"]}
    gathered = f"gathered for the daily ticket of {today}"
    assert [by_event[e]["reason"] for e in ("e1", "e2", "e4", "e5")] == [gathered] * 4
    assert by_event["e1"]["tasks"] == [] and "ticket" not in by_event["e1"]
    assert by_event["e3"]["reason"] == "conditions not met"

    assert plan_days(api, NOW) == []  # the day is not over: nothing to plan yet
    api.call("POST", "/customers", json=[customer("c4", tags=["do_not_call"])])
    opened = plan_days(api, TOMORROW)
    assert [(t["playbook"], t["window_key"], t["state"], t["trigger"]) for t in opened] == [
        (PLAYBOOK, f"day:{today}", "planned", "event")]
    ticket = opened[0]
    assert members(api, ticket["id"]) == {"treatment": {"c1", "c2"}}  # c4 now excluded
    assert (ticket["audience"]["treatment"], ticket["audience"]["control"]) == (2, 0)
    sample = ticket["rehearsal"]["sample"]  # judged on the events that matched, as the counts
    assert {s["customer_id"]: (s["group"], s["event"]["id"]) for s in sample} == {
        "c1": ("treatment", "e1"), "c2": ("treatment", "e2")}

    assert plan_days(api, TOMORROW) == []
    assert plan_days(api, TOMORROW + dt.timedelta(days=3)) == []  # one ticket per day

    approved = api.call("POST", f"/tickets/{ticket['id']}/approve", "campaign_lead",
                        json={"comment": "yesterday's silent lines"})
    assert approved.status_code == 200, approved.json
    assert approved.json["state"] == "executing"
    made = api.call("GET", f"/tickets/{ticket['id']}/tasks").json["items"]
    assert sorted((t["customer_id"], t["step"]) for t in made) == [("c1", "call"),
                                                                   ("c2", "call")]


def test_a_retried_event_is_gathered_once(api: Api, config: Config) -> None:
    api.call("POST", "/customers", json=[customer("c1")])
    first = api.call("POST", "/events", "adapter:sms", json=[silent("e1", "c1")])
    again = api.call("POST", "/events", "adapter:sms", json=[silent("e1", "c1")])
    assert first.json["triggered"][0]["reason"].startswith("gathered for the daily ticket")
    assert (again.json["stored"], again.json["ignored"], again.json["triggered"]) == (0, 1, [])
    state: State = api.app.extensions["tend"]
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(match_table.c.customer_id, match_table.c.playbook,
                                      match_table.c.version, match_table.c.day)).all()
    assert [tuple(r) for r in rows] == [("c1", PLAYBOOK, 1, config.today(NOW))]


def test_cooldown_suppresses_a_gathered_customer_visibly(api: Api) -> None:
    api.call("POST", "/customers", json=[customer("c1"), customer("c2")])
    state: State = api.app.extensions["tend"]
    with state.engine.begin() as conn:  # c1 entered the playbook ten days ago
        conn.execute(entries.insert().values(playbook=PLAYBOOK, customer_id="c1",
                                             ticket_id=999, grp="treatment",
                                             entered_at=NOW - dt.timedelta(days=10)))
    api.call("POST", "/events", "adapter:sms", json=[silent("e1", "c1"), silent("e2", "c2")])
    ticket = plan_days(api, TOMORROW)[0]
    assert members(api, ticket["id"]) == {"treatment": {"c2"}, "cooldown": {"c1"}}
    shown = api.call("GET", f"/tickets/{ticket['id']}").json
    assert shown["audience"]["suppressed"]["cooldown"] == 1
    assert shown["rehearsal"]["suppressed"]["cooldown"] == 1


def test_a_superseded_day_carries_its_customers_into_the_next_days_ticket(api: Api) -> None:
    api.call("POST", "/customers", json=[customer("c1"), customer("c2")])
    api.call("POST", "/events", "adapter:sms", json=[silent("e1", "c1")])
    state: State = api.app.extensions["tend"]
    with state.engine.begin() as conn:  # e1 was matched the day before
        conn.execute(match_table.update().values(day=match_table.c.day - dt.timedelta(days=1))
                     if state.engine.dialect.name == "postgresql" else
                     sa.text("UPDATE event_matches SET day = date(day, '-1 day')"))
    first = plan_days(api, NOW)  # yesterday is over, today is not
    assert [members(api, t["id"]) for t in first] == [{"treatment": {"c1"}}]
    api.call("POST", "/events", "adapter:sms", json=[silent("e2", "c2")])
    second = plan_days(api, TOMORROW)
    assert [members(api, t["id"]) for t in second] == [{"treatment": {"c1", "c2"}}]
    older = api.call("GET", f"/tickets/{first[0]['id']}").json
    assert (older["state"], older["cancel_reason"]) == ("cancelled", "superseded")


def test_the_scheduler_plans_the_day_after_it_ends_and_no_standing_ticket(
        api: Api, config: Config) -> None:
    api.call("POST", "/customers", json=[customer("c1")])
    api.call("POST", "/events", "adapter:sms", json=[silent("e1", "c1")])
    state: State = api.app.extensions["tend"]
    today = Scheduler(state.engine, config, "test", clock=lambda: NOW)
    today.tick()
    with state.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(ticket_table)) == 0
    Scheduler(state.engine, config, "test", clock=lambda: TOMORROW).tick()
    with state.engine.connect() as conn:
        keys = conn.scalars(sa.select(ticket_table.c.window_key)).all()
    assert keys == [f"day:{config.today(NOW).isoformat()}"]
    assert PLAYBOOK in load_library(config).playbooks


def test_tend_import_events_gathers_and_tend_sweep_plans_the_day_once(
        db_url: str, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner


    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_text("id,joined_on,arpu\nc1,2020-01-01,100\nc2,2020-01-01,10\n")
    (tmp_path / "e.jsonl").write_text("".join(
        json.dumps(silent(f"e{n}", cid)) + "\n" for n, cid in enumerate(["c1", "c2"])))
    runner = CliRunner()

    def tend(*args: str) -> str:
        result = run(runner, *args, folders=config.folders)
        assert result.exit_code == 0, result.output
        return result.stdout

    tend("import", "customers", "c.csv")
    day = config.today(NOW).isoformat()
    imported = tend("import", "events", "e.jsonl")
    assert f"1 x gathered for the daily ticket of {day}" in imported
    at = TOMORROW.isoformat()
    planned = [line for line in tend("sweep", "--at", at).splitlines() if "planned" in line]
    assert len(planned) == 1 and f"{PLAYBOOK} v1 planned, treatment 1" in planned[0]
    assert "planned" not in tend("sweep", "--at", at)
