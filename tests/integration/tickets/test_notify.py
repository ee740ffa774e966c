"""Approvers hear about waiting and overdue tickets once, through the configured notifier.

The scheduler's ticks plan the standing tickets of the seven event playbooks (the alarm pack)
and the contact playbook (workflow `alerts`: one level, campaign_lead, 1 day to approve), so
every test starts from eight planned tickets (STANDING).
The receivers are real servers on 127.0.0.1: an HTTP endpoint that checks the signature and a
small SMTP server that keeps the mails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import http.server
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from support.webhook import signed

from adapters.db.engines import make_engine
from adapters.db.schema import audit, notices
from adapters.tickets.scheduler import Scheduler
from engine.config import Config, Notifier

# 13:00 in Shanghai: no scheduled playbook fired within the misfire grace, so the scheduler's
# first tick sweeps nothing and the standing tickets are the only ones
START = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1, seconds=1)
SECRET = "webhook-secret-for-tests"
BASE = "https://tend.example"
# zero_usage_alert, competitor_call_alert, arrears_alert, low_balance_alert,
# call_forwarding_alert, pre_disconnect_alert, number_kept_alert (events), retention_inbound
STANDING = 8


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def scheduler(engine: sa.Engine, config: Config, clock: Clock, **notifier: Any) -> Scheduler:
    chosen = dataclasses.replace(config, notifier=Notifier(base_url=BASE, **notifier))
    return Scheduler(engine, chosen, "a", dt.timedelta(seconds=30), clock)


def notice_rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(notices).order_by(notices.c.id)).mappings().all()
    return [dict(r) for r in rows]


def escalations(engine: sa.Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.ticket_id, audit.c.from_state, audit.c.to_state)
                            .where(audit.c.action == "escalate").order_by(audit.c.id)).all()
    return [tuple(r) for r in rows]


def test_one_notice_per_ticket_level_and_kind_and_one_escalation(
        engine: sa.Engine, config: Config, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    leader = scheduler(engine, config, clock)
    with caplog.at_level("INFO", logger="tend.notify"):
        for _ in range(3):
            leader.tick()
            clock.now += dt.timedelta(seconds=5)
        awaiting = notice_rows(engine)
        assert [(r["level"], r["kind"], r["role"]) for r in awaiting] == \
            [(1, "awaiting", "campaign_lead")] * STANDING
        assert all(r["sent_at"] is not None and r["attempts"] == 1 for r in awaiting)
        assert escalations(engine) == []
        clock.now += DAY
        for _ in range(3):
            leader.tick()
            clock.now += dt.timedelta(seconds=5)
    rows = notice_rows(engine)
    assert sorted((r["ticket_id"], r["kind"]) for r in rows) == sorted(
        (r["ticket_id"], kind) for r in awaiting for kind in ("awaiting", "overdue"))
    assert sorted(escalations(engine)) == sorted((r["ticket_id"], "planned", "planned")
                                                 for r in awaiting)
    lines = [json.loads(r.getMessage().removeprefix("notice ")) for r in caplog.records]
    assert sorted((line["ticket_id"], line["kind"]) for line in lines) == \
        sorted((r["ticket_id"], r["kind"]) for r in rows)
    assert all(line["url"] == f"{BASE}/tickets/{line['ticket_id']}" for line in lines)


class Hook(http.server.BaseHTTPRequestHandler):
    """Checks DESIGN §7's signature the way a receiver would, and answers 503 while `down`."""

    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        verified = signed(self.headers["Tend-Signature"], body, SECRET)
        if self.server.down or not verified:
            self.send_response(503 if verified else 401)
        else:
            self.server.received.append((self.headers["Idempotency-Key"], json.loads(body)))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads what was received, not the access log."""


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), Hook)
        self.down = False
        self.received: list[tuple[str, dict[str, Any]]] = []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def stop(server: socketserver.BaseServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_webhook_receiver_verifies_the_signature_and_failures_are_retried(
        engine: sa.Engine, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEND_NOTIFY_SECRET", SECRET)
    port = free_port()
    clock = Clock()
    leader = scheduler(engine, config, clock, kind="webhook",
                       url=f"http://127.0.0.1:{port}/hook", secret_env="TEND_NOTIFY_SECRET",
                       timeout=2.0)
    leader.tick()  # nothing listens: the tick goes on, the notices wait
    rows = notice_rows(engine)
    assert len(rows) == STANDING
    assert all(r["sent_at"] is None and r["attempts"] == 1 and r["last_error"] for r in rows)
    receiver = Receiver(port)
    receiver.down = True
    thread = serve(receiver)
    try:
        clock.now += dt.timedelta(seconds=5)
        leader.tick()  # the receiver answers 503: still pending
        assert [r["attempts"] for r in notice_rows(engine)] == [2] * STANDING
        receiver.down = False
        for _ in range(2):
            clock.now += dt.timedelta(seconds=5)
            leader.tick()
    finally:
        stop(receiver, thread)
    rows = notice_rows(engine)
    assert all(r["sent_at"] is not None and r["last_error"] is None for r in rows)
    assert sorted(key for key, _ in receiver.received) == sorted(
        f"notice:{r['id']}" for r in rows)
    body = receiver.received[0][1]
    assert body["kind"] == "awaiting" and body["role"] == "campaign_lead"
    assert body["url"] == f"{BASE}/tickets/{body['ticket_id']}"


class Mailbox(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SMTPSession)
        self.mails: list[tuple[list[str], str]] = []


class SMTPSession(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, accept every command, keep each DATA."""

    server: Mailbox

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 fake SMTP")
        recipients: list[str] = []
        while line := self.rfile.readline().decode().strip():
            verb = line[:4].upper()
            if verb == "DATA":
                self.reply("354 end with .")
                data = []
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(part.decode())
                self.server.mails.append((recipients, "".join(data)))
                recipients = []
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip(" <>"))
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            self.reply("250 ok")


def test_mail_goes_to_the_role_with_the_ticket_link(engine: sa.Engine, config: Config) -> None:
    mailbox = Mailbox()
    thread = serve(mailbox)
    clock = Clock()
    try:
        leader = scheduler(engine, config, clock, kind="smtp", host="127.0.0.1",
                           port=mailbox.server_address[1], sender="tend@example.cn",
                           to="ops@example.cn",
                           to_by_role={"campaign_lead": "leads@example.cn"})
        leader.tick()
        leader.tick()
    finally:
        stop(mailbox, thread)
    ids = sorted(r["ticket_id"] for r in notice_rows(engine))
    assert len(mailbox.mails) == STANDING
    links = []
    for recipients, raw in mailbox.mails:
        mail = email.message_from_string(raw, policy=email.policy.default)
        assert recipients == ["leads@example.cn"] and mail["To"] == "leads@example.cn"
        assert "awaits your approval" in mail["Subject"]
        text = mail.get_body().get_content()  # type: ignore[union-attr]
        # the approval card in a line: these are standing tickets, so what approving starts
        assert "Card: standing: approving starts an ongoing stream of same-day" in text
        links += [w for w in text.split() if w.startswith(f"{BASE}/tickets/")]
    assert sorted(links) == [f"{BASE}/tickets/{i}" for i in ids]
