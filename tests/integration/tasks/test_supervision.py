"""Supervision on both databases: a supervisor's board of their team's managers (open,
overdue by the channel's SLA, this week's connect and success rates, the warning), and
reassignment (转派) all or nothing, audited per task, never across teams."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from support.http_api import Api

from adapters.access.users import add_user
from adapters.db.schema import task_audit, tasks
from adapters.http.state import State
from engine.clock import Clock, FixedClock

# Thursday 31 Dec 2026, 23:30 in Shanghai: the week began Monday 28 Dec 00:00 there.
NOW = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)
WEEK_START = dt.datetime(2026, 12, 27, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Clock:
    return FixedClock(NOW)


def _task(n: int, manager: str, state: str = "pending", due: dt.datetime = NOW,
          result_at: dt.datetime | None = None, channel: str = "account_manager") -> dict[str, Any]:
    return {"ticket_id": 1, "entry_id": n, "customer_id": f"c{n:05d}", "step": "care_call",
            "channel": channel, "route": f"manager:{manager}", "state": state,
            "idempotency_key": f"{n}:care_call", "due_at": due, "payload": {"template": "t"},
            "created_at": due, "updated_at": due, "result_at": result_at}


@pytest.fixture
def teams(api: Api) -> Api:
    """m01 (north) has 50 tasks three days overdue (the account manager SLA is 2d), one
    waiting a day (within it), four results this week and one last week; m03 (south) has two
    waiting tasks. Users: a north supervisor, a south supervisor."""
    st: State = api.app.extensions["tend"]
    rows = [_task(n, "m01", due=NOW - dt.timedelta(days=3)) for n in range(1, 51)]
    rows.append(_task(51, "m01", due=NOW - dt.timedelta(days=1)))
    this_week = NOW - dt.timedelta(days=1)
    rows += [_task(60 + i, "m01", state=s, result_at=this_week)
             for i, s in enumerate(["connected", "accepted", "no_answer", "converted"])]
    rows.append(_task(70, "m01", state="declined", result_at=WEEK_START - dt.timedelta(hours=1)))
    rows += [_task(80 + i, "m03") for i in range(2)]
    with st.engine.begin() as conn:
        conn.execute(tasks.insert(), rows)
        for role in ("supervisor:north", "supervisor:south"):
            api.tokens[role] = add_user(conn, role.replace(":", "_"), [role], NOW)
    return api


def _ids(api: Api, route: str) -> list[int]:
    st: State = api.app.extensions["tend"]
    with st.engine.connect() as conn:
        return list(conn.scalars(sa.select(tasks.c.id).where(tasks.c.route == route,
                                                             tasks.c.state == "pending")
                                 .order_by(tasks.c.id)))


def test_board_shows_own_team_with_overdue_rates_and_warning(teams: Api) -> None:
    reply = teams.call("GET", "/supervision", "supervisor:north")
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert body["teams"] == ["north"]
    assert body["week_start"] == "2026-12-27T16:00:00+00:00"
    by_manager = {line["manager"]: line for line in body["managers"]}
    assert set(by_manager) == {"m01", "m02"}  # not south's m03
    m01 = by_manager["m01"]
    assert (m01["open"], m01["overdue"], m01["warning"]) == (51, 50, True)
    assert (m01["results"], m01["connected"], m01["succeeded"]) == (4, 3, 2)
    assert (m01["connect_rate"], m01["success_rate"]) == (0.75, 0.5)
    m02 = by_manager["m02"]
    assert (m02["open"], m02["warning"], m02["connect_rate"]) == (0, False, None)


def test_supervisor_cannot_see_another_team(teams: Api) -> None:
    reply = teams.call("GET", "/supervision?team=south", "supervisor:north")
    assert reply.status_code == 403
    assert "south" in reply.json["message"]
    assert teams.call("GET", "/supervision", "manager:m01").status_code == 403
    admin = teams.call("GET", "/supervision", "admin").json
    assert {line["manager"] for line in admin["managers"]} == {"m01", "m02", "m03", "m04"}


def test_supervisor_reassigns_fifty_tasks_and_each_is_audited(teams: Api) -> None:
    ids = _ids(teams, "manager:m01")[:50]
    reply = teams.call("POST", "/tasks/reassign", "supervisor:north",
                       json={"ids": ids, "target": {"manager": "m02"}, "reason": "m01 on leave"})
    assert reply.status_code == 200, reply.json
    assert len(reply.json["moved"]) == 50
    assert _ids(teams, "manager:m02") == ids
    st: State = teams.app.extensions["tend"]
    with st.engine.connect() as conn:
        audited = conn.execute(sa.select(task_audit.c.task_id, task_audit.c.actor,
                                         task_audit.c.from_route, task_audit.c.to_route)
                               .order_by(task_audit.c.task_id)).all()
        customers = set(conn.scalars(sa.select(tasks.c.customer_id)
                                     .where(tasks.c.id.in_(ids))))
    assert [row.task_id for row in audited] == ids
    assert {(r.actor, r.from_route, r.to_route) for r in audited} == {
        ("supervisor_north", "manager:m01", "manager:m02")}
    assert customers == {f"c{n:05d}" for n in range(1, 51)}  # same tasks, same customers
    history = teams.call("GET", f"/tasks/{ids[0]}/audit", "supervisor:north").json["items"]
    assert [(h["actor"], h["reason"]) for h in history] == [("supervisor_north", "m01 on leave")]
    assert teams.call("GET", f"/tasks/{ids[0]}/audit", "supervisor:south").status_code == 403
    board = teams.call("GET", "/supervision", "supervisor:north").json
    assert {m["manager"]: m["open"] for m in board["managers"]} == {"m01": 1, "m02": 50}


def test_reassigning_another_teams_task_moves_nothing(teams: Api) -> None:
    north, south = _ids(teams, "manager:m01")[:3], _ids(teams, "manager:m03")
    reply = teams.call("POST", "/tasks/reassign", "supervisor:north",
                       json={"ids": [*north, *south], "target": {"manager": "m02"}})
    assert reply.status_code == 403
    assert str(south[0]) in reply.json["message"]
    assert _ids(teams, "manager:m02") == []
    reply = teams.call("POST", "/tasks/reassign", "supervisor:south",
                       json={"ids": south, "target": {"manager": "m01"}})
    assert reply.status_code == 400
    assert "manager" in reply.json["errors"]["target"]


def test_a_task_no_longer_waiting_stops_the_whole_reassignment(teams: Api) -> None:
    st: State = teams.app.extensions["tend"]
    with st.engine.connect() as conn:
        answered = conn.scalar(sa.select(tasks.c.id).where(tasks.c.state == "connected"))
    waiting = _ids(teams, "manager:m01")[:2]
    reply = teams.call("POST", "/tasks/reassign", "supervisor:north",
                       json={"ids": [*waiting, answered], "target": {"manager": "m02"}})
    assert reply.status_code == 409
    assert str(answered) in reply.json["message"]
    assert _ids(teams, "manager:m02") == []
    with st.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(task_audit)) == 0


@pytest.mark.parametrize("body, field", [
    ({"target": {"manager": "m02"}}, "ids"),
    ({"ids": [], "target": {"manager": "m02"}}, "ids"),
    ({"ids": ["x"], "target": {"manager": "m02"}}, "ids"),
    ({"ids": [1]}, "target"),
    ({"ids": [1], "target": {}}, "target"),
    ({"ids": [1], "target": {"channel": "carrier_pigeon"}}, "target"),
])
def test_bad_input_names_the_field(teams: Api, body: dict[str, Any], field: str) -> None:
    reply = teams.call("POST", "/tasks/reassign", "supervisor:north", json=body)
    assert 400 <= reply.status_code < 500 and reply.status_code not in (403, 404, 409)
    assert field in str(reply.json), reply.json


def test_reassign_to_a_store_moves_channel_and_route(teams: Api) -> None:
    ids = _ids(teams, "manager:m01")[:2]
    reply = teams.call("POST", "/tasks/reassign", "supervisor:north",
                       json={"ids": ids, "target": {"channel": "store"}})
    assert reply.status_code == 200, reply.json
    assert {(m["to_channel"], m["to_route"]) for m in reply.json["moved"]} == {("store", "pool")}
    st: State = teams.app.extensions["tend"]
    with st.engine.connect() as conn:
        moved = conn.execute(sa.select(tasks.c.channel, tasks.c.route)
                             .where(tasks.c.id.in_(ids))).all()
    assert set(moved) == {("store", "pool")}
