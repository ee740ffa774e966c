"""A channel the operator named: WeChat, from examples/config.wechat.yaml, end to end on both
databases. A playbook step on `wechat` makes tasks that go out through the webhook adapter (a
real receiver on loopback) or, bound to `pull`, are fetched by the gateway; the gateway's
results are recorded, an acceptance closes the customer's other task of the ticket, and the
ticket closes with the channel in its funnel. The console shows the channel's label."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from support.webhook import Receiver, receiving, signed

from adapters.access.users import add_user
from adapters.channels.registry import pushers
from adapters.db.schema import customers, events, tasks
from adapters.http.app import create_app
from adapters.http.state import State
from adapters.tasks.worker import run_once
from adapters.tickets import service as tickets
from engine.clock import FixedClock
from engine.config import Config
from engine.config_loader import load_config
from engine.folders import Folders
from engine.tickets.users import User

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
NOW = dt.datetime(2026, 12, 31, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai: no quiet hours
STARTED = NOW - dt.timedelta(days=1)  # the wechat step is due, the sms a week on is not
CUSTOMERS = [f"d{i:02d}" for i in range(10)]
SECRET = "wechat-gateway-secret"
HOLD = dt.timedelta(minutes=5)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def config() -> Config:
    return load_config(EXAMPLES / "config.wechat.yaml")


@dataclass
class Gateway:
    """The app with the example config, WeChat bound one way, and a token for the gateway."""

    state: State
    client: FlaskClient
    token: str
    receiver: Receiver
    ticket_id: int

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.open(path, method=method, **kwargs,
                                headers={"Authorization": f"Bearer {self.token}"})

    def rows(self, channel: str) -> list[Any]:
        with self.state.engine.connect() as conn:
            return list(conn.execute(sa.select(tasks).where(tasks.c.channel == channel)
                                     .order_by(tasks.c.customer_id)))


def _bound(config: Config, adapter: str, url: str) -> Config:
    wechat = config.channels["wechat"]
    options = {**wechat.options, "url": url} if adapter == "webhook" else {}
    channels = {**config.channels,
                "wechat": dataclasses.replace(wechat, adapter=adapter, options=options)}
    return dataclasses.replace(config, channels=channels)


@pytest.fixture(params=["webhook", "pull"])
def gateway(request: pytest.FixtureRequest, db_url: str, config: Config, clock: FixedClock,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    """A wechat_winback ticket planned and approved a day ago: its wechat tasks are due."""
    monkeypatch.setenv(str(config.channels["wechat"].options["secret_env"]), SECRET)
    with receiving() as receiver:
        examples = dataclasses.replace(config, folders=Folders(EXAMPLES / "rules",
                                                               ROOT / "workflows"))
        app = create_app({"TEND_CONFIG": _bound(examples, request.param, receiver.url),
                          "DATABASE_URL": db_url, "TESTING": True, "CLOCK": clock})
        st: State = app.extensions["tend"]
        with st.engine.begin() as conn:
            conn.execute(customers.insert(), [
                {"id": cid, "name": cid, "phone": "+8613800000000",
                 "joined_on": dt.date(2019, 1, 1), "arpu": 350.0,
                 "churned_on": STARTED.date() - dt.timedelta(days=10), "updated_at": STARTED}
                for cid in CUSTOMERS])
            planned = tickets.plan(conn, st.config, st.library,
                                   st.library.playbooks["wechat_winback"], STARTED, "manual",
                                   "designer")
            assert planned is not None
            tickets.approve(conn, st.config, st.library, planned["id"],
                            User("lead", frozenset({"campaign_lead"})), "ok", STARTED)
            token = add_user(conn, "wechat_gateway", ["adapter:wechat"], NOW)
        yield Gateway(st, app.test_client(), token, receiver, planned["id"])
        st.dispose()


def _hand_out(gateway: Gateway) -> list[int]:
    """The wechat tasks, sent the way the channel is bound; their ids."""
    st = gateway.state
    made = gateway.rows("wechat")
    assert made and {r.state for r in made} == {"pending"}
    pushed = run_once(st.engine, pushers(st.config.channels, st.clock), 100, HOLD, NOW,
                      policy=st.config.policy)
    if st.config.channels["wechat"].adapter == "webhook":
        assert pushed["delivered"] == len(made)
        assert sorted(gateway.receiver.keys()) == sorted(r.idempotency_key for r in made)
        for key, signature, body in gateway.receiver.calls:
            message = json.loads(body)
            assert signed(signature, body, SECRET) and message["idempotency_key"] == key
            assert message["channel"] == "wechat" and message["step"] == "wechat"
        assert {r.state for r in gateway.rows("wechat")} == {"delivered"}
    else:
        assert pushed["delivered"] == 0 and gateway.receiver.calls == []  # nobody pushes
        pulled = gateway.call("GET", "/channels/wechat/tasks?limit=100")
        assert pulled.status_code == 200, pulled.json
        items = pulled.json["items"]
        assert sorted(t["id"] for t in items) == [r.id for r in sorted(made, key=lambda r: r.id)]
        assert {(t["channel"], t["state"]) for t in items} == {("wechat", "leased")}
        assert gateway.call("GET", "/channels/wechat/tasks").json["items"] == []
        assert gateway.call("GET", "/channels/sms/tasks").status_code == 403
    return [r.id for r in made]


def test_a_wechat_step_goes_out_its_results_count_and_the_ticket_closes(
        gateway: Gateway) -> None:
    sent = _hand_out(gateway)
    accepted, declined = gateway.rows("wechat")[:2]
    for row, status in ((accepted, "accepted"), (declined, "declined")):
        reply = gateway.call("POST", f"/tasks/{row.id}/result", json={"status": status})
        assert reply.status_code == 200 and reply.json["state"] == status, reply.json
    listed = gateway.call("GET", "/tasks?state=accepted&channel=wechat")
    assert [t["id"] for t in listed.json["items"]] == [accepted.id]

    sms = {r.customer_id: r for r in gateway.rows("sms")}
    assert sms[accepted.customer_id].state == "cancelled"  # the answer closed the other task
    assert sms[accepted.customer_id].detail["reason"] == "answered"
    assert sms[declined.customer_id].state == "pending"
    with gateway.state.engine.connect() as conn:
        results = conn.execute(sa.select(events.c.customer_id, events.c.data)
                               .where(events.c.type == "task_result")).all()
    reported = {(e.customer_id, e.data["status"]) for e in results}
    assert {(accepted.customer_id, "accepted"), (declined.customer_id, "declined")} <= reported

    st = gateway.state
    with st.engine.begin() as conn:
        closed = tickets.advance(conn, st.config, st.library, NOW + dt.timedelta(days=60))
        shown = tickets.show(conn, gateway.ticket_id)
    assert closed == [gateway.ticket_id] and shown["state"] == "closed"
    (step,) = [f for f in shown["results"]["funnel"] if f["step"] == "wechat"]
    assert step["channel"] == "wechat" and step["states"]["accepted"] == 1
    assert step["states"]["declined"] == 1 and sum(step["states"].values()) == len(sent)


def _page(gateway: Gateway, path: str, language: str) -> str:
    """`path` read by an admin whose browser asks for `language`."""
    client: FlaskClient = gateway.client.application.test_client()
    page = client.get("/console/signin").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    with gateway.state.engine.begin() as conn:
        token = add_user(conn, f"root_{language}", ["admin"], NOW)
    reply = client.post("/console/signin", data={"token": token, "csrf_token": found.group(1)})
    assert reply.status_code == 303
    page = client.get(path, headers={"Accept-Language": language})
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.mark.parametrize("gateway", ["pull"], indirect=True)
def test_the_console_shows_a_channel_by_its_label_else_by_its_name(gateway: Gateway) -> None:
    path = f"/console/tickets/{gateway.ticket_id}"
    chinese, english = _page(gateway, path, "zh"), _page(gateway, path, "en")
    assert "微信" in chinese and "WeChat" not in chinese
    assert "WeChat" in english and "微信" not in english
    assert "<td>sms</td>" in english and "<td>sms</td>" in chinese  # no label: the name
