"""A console on a migrated database for the page tests (the desk, the customer's page): a test
client that signs people in with their roles, reads pages and posts forms with the session's
CSRF token, and tickets of shipped playbooks executing for the customers a test inserts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.access.users import add_user
from adapters.db.schema import customers
from adapters.http.app import create_app
from adapters.http.state import State
from adapters.tickets import service
from engine.clock import Clock
from engine.config import Config
from engine.tickets.users import User

LEAD = User("bob", frozenset({"campaign_lead"}))


def customer_row(cid: str, number: int, at: dt.datetime) -> dict[str, Any]:
    """A customer of manager m01 on the 96-yuan plan, churn score 0.8, contract ending
    2027-01-20, phone +86138 and `number` in eight digits."""
    return {"id": cid, "name": f"客户{cid}", "phone": f"+86138{number:08d}", "email": None,
            "joined_on": dt.date(2019, 1, 1), "arpu": 100.0, "churn_score": 0.8,
            "contract_end": dt.date(2027, 1, 20), "manager": "m01", "tags": None,
            "opt_out": None, "attrs": {"plan_fee": 96.0}, "updated_at": at}


@dataclass
class ConsoleSite:
    client: FlaskClient
    state: State
    users: Mapping[str, Sequence[str]]  # who may sign in, with their roles
    now: dt.datetime  # when their tokens are made
    tickets: list[int] = field(default_factory=list, init=False)  # made by `executing`
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)

    def sign_in(self, name: str, lang: str = "zh-CN") -> None:
        """Sign in as `name-lang` (the name records carry) with `name`'s roles, the pages
        in `lang`."""
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        self.client.get("/console/signin")
        with self.client.session_transaction() as session:
            csrf = session["csrf_token"]
        if (name, lang) not in self._tokens:
            with self.state.engine.begin() as conn:
                self._tokens[name, lang] = add_user(conn, f"{name}-{lang}", self.users[name],
                                                    self.now)
        reply = self.client.post("/console/signin",
                                 data={"token": self._tokens[name, lang], "csrf_token": csrf})
        assert reply.status_code == 303

    def page(self, path: str) -> str:
        reply = self.client.get(path)
        assert reply.status_code == 200, (path, reply.status_code, reply.get_data(as_text=True))
        return reply.get_data(as_text=True)

    def post(self, path: str, form: dict[str, str]) -> TestResponse:
        with self.client.session_transaction() as session:
            csrf = session["csrf_token"]
        return self.client.post(path, data={**form, "csrf_token": csrf})

    def rows(self, table: sa.Table, **where: Any) -> list[Any]:
        with self.state.engine.connect() as conn:
            return list(conn.execute(sa.select(table).where(
                *(table.c[k] == v for k, v in where.items())).order_by(*table.primary_key)))

    def executing(self, playbooks: Sequence[str], people: Sequence[Mapping[str, Any]],
                  at: dt.datetime) -> list[int]:
        """Insert `people` and plan and approve a ticket of each playbook at `at`: their
        ids, in order, also kept in `tickets`."""
        config, library = self.state.config, self.state.library
        made = []
        with self.state.engine.begin() as conn:
            conn.execute(customers.insert(), list(people))
            for name in playbooks:
                ticket = service.plan(conn, config, library, library.playbooks[name], at,
                                      "manual", "pat")
                assert ticket is not None
                service.approve(conn, config, library, ticket["id"], LEAD, "ok", at)
                made.append(ticket["id"])
        self.tickets.extend(made)
        return made


Site = TypeVar("Site", bound=ConsoleSite)
ConsoleOf = Callable[[type[Site], Config, Mapping[str, Sequence[str]], dt.datetime], Site]


@pytest.fixture
def console_site(db_url: str, clock: Clock) -> Iterator[ConsoleOf[Any]]:
    """Make a console (a ConsoleSite or a test's subclass) with a config, its users and the
    instant their tokens are made; every one made is disposed of after the test."""
    made: list[State] = []

    def make(kind: type[Site], config: Config, users: Mapping[str, Sequence[str]],
             now: dt.datetime) -> Site:
        app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True,
                          "CLOCK": clock})
        state: State = app.extensions["tend"]
        made.append(state)
        return kind(app.test_client(), state, users, now)

    yield make
    for state in made:
        state.dispose()
