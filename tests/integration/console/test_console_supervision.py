"""The console's supervision page on both databases, in Chinese and English: a supervisor's
managers with open, overdue and this week's rates, a warning row, a manager's waiting tasks,
and the reassignment form (audited, all or nothing); another team's manager is refused."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.access.users import add_user
from adapters.db.schema import task_audit, tasks
from adapters.http.app import create_app
from adapters.http.state import State
from engine.clock import Clock, FixedClock
from engine.config import Config

NOW = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)


@dataclass
class Site:
    client: FlaskClient
    state: State

    def sign_in(self, roles: list[str], lang: str = "zh-CN") -> None:
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        self.client.get("/console/signin")
        with self.client.session_transaction() as session:
            csrf = session["csrf_token"]
        with self.state.engine.begin() as conn:
            token = add_user(conn, f"u-{uuid.uuid4().hex[:6]}", roles, NOW)
        assert self.client.post("/console/signin",
                                data={"token": token, "csrf_token": csrf}).status_code == 303

    def post(self, path: str, form: dict[str, Any]) -> TestResponse:
        with self.client.session_transaction() as session:
            csrf = session["csrf_token"]
        return self.client.post(path, data={**form, "csrf_token": csrf})

    def routes(self) -> dict[int, str]:
        with self.state.engine.connect() as conn:
            return dict(conn.execute(sa.select(tasks.c.id, tasks.c.route)).all())


@pytest.fixture
def clock() -> Clock:
    return FixedClock(NOW)


def _task(n: int, manager: str, days_late: int, state: str = "pending") -> dict[str, Any]:
    due = NOW - dt.timedelta(days=days_late)
    return {"id": n, "ticket_id": 1, "entry_id": n, "customer_id": f"c{n:03d}",
            "step": "care_call", "channel": "account_manager", "route": f"manager:{manager}",
            "state": state,
            "idempotency_key": f"{n}:care_call", "due_at": due, "payload": {"template": "t"},
            "created_at": due, "updated_at": due,
            "result_at": NOW - dt.timedelta(hours=2) if state != "pending" else None}


@pytest.fixture
def site(db_url: str, config: Config, clock: Clock) -> Iterator[Site]:
    """m01 (north): 12 tasks three days late (warning at 10), 2 results this week; m02
    (north): one task on time; m03 (south): one task."""
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True,
                      "CLOCK": clock})
    state: State = app.extensions["tend"]
    rows = [_task(n, "m01", 3) for n in range(1, 13)]
    rows += [_task(20, "m01", 1, "connected"), _task(21, "m01", 1, "no_answer")]
    rows += [_task(30, "m02", 0), _task(40, "m03", 0)]
    with state.engine.begin() as conn:
        conn.execute(tasks.insert(), rows)
    yield Site(app.test_client(), state)
    state.dispose()


@pytest.mark.parametrize("lang, words", [
    ("zh-CN", ("督办", "接通率", "成功率", "超时过多", "50.0%")),
    ("en", ("Supervision", "Connect rate", "Success rate", "too many overdue", "50.0%")),
])
def test_the_board_in_both_languages(site: Site, lang: str, words: tuple[str, ...]) -> None:
    site.sign_in(["supervisor:north"], lang)
    home = site.client.get("/console/home")
    assert home.status_code in (302, 303) and "/console/supervision" in home.headers["Location"]
    page = site.client.get("/console/supervision").get_data(as_text=True)
    for word in words:
        assert word in page, word
    assert 'data-manager="m01"' in page and 'data-manager="m02"' in page
    assert "m03" not in page  # south's manager
    assert '<tr class="overdue" data-manager="m01">' in page


def test_a_supervisor_reassigns_from_the_form_and_it_is_audited(site: Site) -> None:
    site.sign_in(["supervisor:north"], "en")
    queue = site.client.get("/console/supervision?manager=m01").get_data(as_text=True)
    assert queue.count('name="task"') == 12
    assert 'value="manager:m02"' in queue and 'value="channel:store"' in queue
    reply = site.post("/console/supervision/reassign", {
        "task": [str(n) for n in range(1, 6)], "target": "manager:m02", "back": "m01",
        "reason": "m01 ill"})
    assert reply.status_code == 303, reply.get_data(as_text=True)
    after = site.client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "5 tasks reassigned to Manager m02." in after
    routes = site.routes()
    assert {routes[n] for n in range(1, 6)} == {"manager:m02"}
    with site.state.engine.connect() as conn:
        audited = conn.execute(sa.select(task_audit.c.task_id, task_audit.c.reason)).all()
    assert sorted(audited) == [(n, "m01 ill") for n in range(1, 6)]


def test_another_team_is_refused_and_nothing_moves(site: Site) -> None:
    site.sign_in(["supervisor:north"], "zh-CN")
    refused = site.client.get("/console/supervision?manager=m03")
    assert refused.status_code == 403
    assert "m03" in refused.get_data(as_text=True)
    mixed = site.post("/console/supervision/reassign",
                      {"task": ["1", "40"], "target": "manager:m02"})
    assert mixed.status_code == 403
    wrong = site.post("/console/supervision/reassign", {"task": ["1"], "target": "manager:m03"})
    assert wrong.status_code == 400 and "target" in wrong.get_data(as_text=True)
    empty = site.post("/console/supervision/reassign", {"target": "manager:m02"})
    assert empty.status_code == 400 and "task" in empty.get_data(as_text=True)
    routes = site.routes()
    assert (routes[1], routes[40]) == ("manager:m01", "manager:m03")


def test_a_manager_has_no_supervision_page(site: Site) -> None:
    site.sign_in(["manager:m01"], "en")
    assert site.client.get("/console/supervision").status_code == 403
