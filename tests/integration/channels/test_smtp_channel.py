"""The smtp channel against a real SMTP server (aiosmtpd on 127.0.0.1), on both databases:
a task is a mail to the customer; 4xx and refused connections retry, 5xx dead-letters."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.engine import Engine
from support.server import free_port

from adapters.channels.registry import pushers
from adapters.db.engines import make_engine
from adapters.db.schema import customers, tasks
from adapters.tasks.worker import run_once
from adapters.tickets import service as tickets
from engine.config import Config
from engine.errors import ValidationError
from engine.playbooks.library import load_library
from engine.tasks.channel import Channel
from engine.tickets.users import User

NOW = dt.datetime.now(dt.UTC)
STARTED = NOW - dt.timedelta(days=4)
EMAILS = {"d00": "ada@example.com", "d01": "grey@example.com", "d02": "nobody@example.com",
          "d03": None}
HOLD = dt.timedelta(minutes=5)
TEMPLATES = {"winback_sms": {"subject": "We miss you, $name",
                             "body": "Come back with offer $offer ($customer_id)."}}


@dataclass
class Mailbox:
    """What the server took, and its answers: `grey*` is greylisted (450), `nobody*` does
    not exist (550)."""

    port: int
    mails: list[email.message.EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if address.startswith("grey"):
            return "450 4.2.0 greylisted, try again later"
        if address.startswith("nobody"):
            return f"550 5.1.1 <{address}> no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(email.message_from_bytes(envelope.content,
                                                   policy=email.policy.default))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"mail-pass"
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port,
                            authenticator=box.authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def engine(db_url: str, config: Config) -> Iterator[Engine]:
    """A winback ticket approved four days ago for four diamonds: a call and an sms each."""
    engine = make_engine(db_url)
    library = load_library(config)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": f"Name {cid}", "email": address, "phone": "+8613800000000",
             "joined_on": dt.date(2019, 1, 1), "arpu": 350.0,
             "churned_on": STARTED.date() - dt.timedelta(days=10), "updated_at": STARTED}
            for cid, address in EMAILS.items()])
        planned = tickets.plan(conn, config, library, library.playbooks["winback"], STARTED,
                               "manual", "designer")
        assert planned is not None
        tickets.approve(conn, config, library, planned["id"],
                        User("lead", frozenset({"campaign_lead"})), "ok", STARTED)
    yield engine
    engine.dispose()


def _mailing(config: Config, port: int, **options: Any) -> Config:
    bound = {"host": "127.0.0.1", "port": port, "from": "offers@tend.example",
             "templates": TEMPLATES, "timeout": 5, **options}
    return dataclasses.replace(config, channels={
        name: Channel(name, "smtp", bound) for name in config.channels})


def _states(engine: Engine) -> dict[tuple[str, str], Any]:
    with engine.connect() as conn:
        return {(r.customer_id, r.step): r for r in conn.execute(sa.select(tasks))}


def test_each_task_is_one_mail_to_its_customer_and_failures_go_by_smtp_class(
        engine: Engine, config: Config) -> None:
    with smtp_server() as box:
        counts = run_once(engine, pushers(_mailing(config, box.port).channels), 100, HOLD, NOW)
    rows = _states(engine)
    assert counts == {"delivered": 2, "retry": 2, "dead": 4, "changed": 0, "cancels": 0}
    sms = next(m for m in box.mails if m["Subject"].startswith("We miss"))
    assert (sms["To"], sms["From"], sms["Subject"]) == (
        "ada@example.com", "offers@tend.example", "We miss you, Name d00")
    assert sms.get_content().strip() == "Come back with offer WB50 (d00)."
    assert sms["Tend-Idempotency-Key"] == rows[("d00", "sms")].idempotency_key
    call = next(m for m in box.mails if m is not sms)  # no template listed: id and params
    assert (call["Subject"], call.get_content().strip()) == ("winback_call", "offer: WB50")
    assert {rows[("d00", step)].state for step in ("call", "sms")} == {"delivered"}

    greylisted = rows[("d01", "sms")]
    assert greylisted.state == "pending" and greylisted.due_at > NOW
    assert greylisted.detail["error"].startswith("SMTP 450")
    assert "grey@example.com" not in str(greylisted.detail)  # masked: g***@example.com
    unknown = rows[("d02", "sms")]
    assert unknown.state == "dead" and unknown.detail["reason"].startswith("SMTP 550")
    assert "nobody@example.com" not in unknown.detail["reason"]
    assert rows[("d03", "sms")].detail["reason"] == "customer d03 has no email address"


def test_a_closed_port_is_retried_and_a_login_uses_the_password_from_the_environment(
        engine: Engine, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = run_once(engine, pushers(_mailing(config, free_port()).channels), 100, HOLD, NOW)
    assert counts["retry"] == 6 and counts["dead"] == 2  # d03 has no address to try
    assert "ConnectionRefusedError" in _states(engine)[("d00", "sms")].detail["error"]
    monkeypatch.setenv("TEND_TEST_SMTP_PASSWORD", "mail-pass")
    with smtp_server() as box:
        channels = pushers(_mailing(config, box.port, user="tend",
                                    password_env="TEND_TEST_SMTP_PASSWORD").channels)
        later = run_once(engine, channels, 100, HOLD, NOW + dt.timedelta(hours=1))
    assert later["delivered"] == 2 and box.logins == ["tend"] * 6  # a session per mail


@pytest.mark.parametrize(("options", "named"), [
    ({"port": 25, "from": "a@b.c"}, "options.host"),
    ({"host": "h", "port": 25}, "options.from"),
    ({"host": "h", "from": "a@b.c", "port": "25"}, "options.port"),
    ({"host": "h", "from": "a@b.c", "starttls": "yes"}, "options.starttls"),
    ({"host": "h", "from": "a@b.c", "user": "u", "password_env": "TEND_UNSET_VARIABLE"},
     "options.password_env"),
    ({"host": "h", "from": "a@b.c", "templates": {"t": {"subjekt": "x"}}},
     "options.templates.t"),
])
def test_bad_smtp_options_name_the_channel_and_option(options: dict[str, Any],
                                                      named: str) -> None:
    with pytest.raises(ValidationError, match=rf"channels\.email\.{named}"):
        pushers({"email": Channel("email", "smtp", options)})
