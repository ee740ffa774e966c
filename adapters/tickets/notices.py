"""Telling approvers that a ticket awaits their level, and that it is overdue.

The scheduler's leader calls `notify` every tick. It works in two steps:

1. *Decide*, in one transaction: each planned ticket whose next level has no `awaiting`
   notice gets one; each planned ticket past its deadline with no `overdue` notice for that
   level gets one and escalates (an `escalate` self-transition, so one audit row). The unique
   (ticket_id, level, kind) row is the decision: a second scheduler, or the next tick, cannot
   decide the same notice again.
2. *Send* each undelivered notice of a still-planned ticket, outside any transaction (a slow
   mail server must not hold SQLite's write lock), then stamp `sent_at`, or count the failed
   attempt and keep the error. A failure is logged and retried on the next tick; it never
   stops the tick. Delivery is at least once: a crash between sending and stamping repeats a
   notice, so webhooks carry an `Idempotency-Key`.

An overdue ticket stores no event: events belong to customers. The audit row and the notice
are the record of the escalation.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import smtplib
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.channels.base import signature
from adapters.db.engines import begin_writes
from adapters.db.schema import approvals, notices, tickets
from adapters.tickets.store import approvals_of, domain_ticket, record_change, warnings_of
from engine.config import Notifier as NotifierConfig
from engine.errors import ValidationError
from engine.tickets import approval_card
from engine.tickets import ticket as tk

AWAITING = "awaiting"
OVERDUE = "overdue"
log = logging.getLogger("tend.notify")


@dataclass(frozen=True)
class Notice:
    id: int
    kind: str  # awaiting | overdue
    ticket_id: int
    playbook: str
    version: int
    level: int
    role: str
    deadline: dt.datetime | None
    url: str
    warnings: tuple[str, ...] = ()  # what the approver must weigh (store.warnings_of)
    card: Mapping[str, Any] | None = None  # the approval card (adapters/tickets/card.py)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "ticket_id": self.ticket_id,
                "playbook": self.playbook, "version": self.version, "level": self.level,
                "role": self.role,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "url": self.url, "warnings": list(self.warnings),
                "summary": self.summary, "card": dict(self.card) if self.card else None}

    @property
    def summary(self) -> str | None:
        """The card in one line: who, what, how long, what it costs, overlap."""
        return approval_card.summary(self.card) if self.card else None

    @property
    def subject(self) -> str:
        what = "awaits your approval" if self.kind == AWAITING else "is overdue for approval"
        return (f"Ticket {self.ticket_id} ({self.playbook} v{self.version}) {what} "
                f"at level {self.level}")


SendNotice = Callable[[Notice], None]  # raises on failure; the notice is retried next tick
# The approval card of a ticket, read in the sender's connection (adapters.tickets.card.card
# with the config and library bound); without one a notice carries no card.
CardOf = Callable[[Connection, int], Mapping[str, Any] | None]


def log_sender(notice: Notice) -> None:
    log.info("notice %s", json.dumps(notice.as_json(), sort_keys=True))


def smtp_sender(config: NotifierConfig) -> SendNotice:
    """A plain-text mail per notice, to the role's address (`to_by_role`) or to `to`."""

    def send(notice: Notice) -> None:
        to = config.to_by_role.get(notice.role, config.to)
        if to is None:
            raise ValidationError(f"no address for role {notice.role!r}", field="notifier")
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = config.sender, to, notice.subject
        deadline = notice.deadline.isoformat() if notice.deadline else "none"
        warned = "".join(f"Warning: {w}\n" for w in notice.warnings)
        said = f"Card: {notice.summary}\n" if notice.summary else ""
        mail.set_content(f"{notice.subject}.\n\nRole: {notice.role}\nDeadline: {deadline}\n"
                         f"{said}{warned}Open the ticket: {notice.url}\n")
        with smtplib.SMTP(config.host or "", config.port, timeout=config.timeout) as smtp:
            smtp.send_message(mail)

    return send


def webhook_sender(config: NotifierConfig, clock: Callable[[], float]) -> SendNotice:
    """A signed JSON POST per notice; any 2xx is delivery. The secret is read from the
    environment variable the config names, when the notifier is made."""
    secret = os.environ.get(config.secret_env or "")
    if not secret:
        raise ValidationError(f"the environment variable {config.secret_env!r} holding the "
                              "webhook secret is not set",
                              field="notifier.secret_env")

    def send(notice: Notice) -> None:
        body = json.dumps(notice.as_json(), sort_keys=True).encode()
        request = urllib.request.Request(config.url or "", data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": f"notice:{notice.id}",
            "Tend-Signature": signature(secret, body, int(clock()))})
        with urllib.request.urlopen(request, timeout=config.timeout) as response:
            response.read()  # urlopen raises HTTPError for statuses of 400 and up

    return send


def make_sender(config: NotifierConfig, clock: Callable[[], float]) -> SendNotice:
    if config.kind == "smtp":
        return smtp_sender(config)
    if config.kind == "webhook":
        return webhook_sender(config, clock)
    return log_sender


def notify(engine: Engine, config: NotifierConfig, send: SendNotice, now: dt.datetime,
           card_of: CardOf | None = None) -> int:
    """Decide the notices due at `now`, then send every undelivered one; returns how many
    went out."""
    with engine.begin() as conn:
        decide(conn, now)
    sent = 0
    for notice in pending(engine, config, card_of):
        try:
            send(notice)
        except Exception as exc:  # any failure of the channel: keep it, retry next tick
            log.warning("notice %s for ticket %s not sent: %s", notice.id, notice.ticket_id,
                        exc)
            with engine.begin() as conn:
                conn.execute(notices.update().where(notices.c.id == notice.id).values(
                    attempts=notices.c.attempts + 1, last_error=str(exc)[:2000]))
            continue
        with engine.begin() as conn:
            conn.execute(notices.update().where(notices.c.id == notice.id).values(
                attempts=notices.c.attempts + 1, sent_at=now, last_error=None))
        sent += 1
    return sent


def decide(conn: Connection, now: dt.datetime) -> None:
    """Record the awaiting and overdue notices due for planned tickets, escalating overdue
    ones. Both scheduler processes could run this during a lease handover; the unique row
    lets only one decide each notice."""
    begin_writes(conn)
    rows = conn.execute(sa.select(tickets).where(tickets.c.state == "planned")
                        .order_by(tickets.c.id)).all()
    decided = approvals_of(conn, [row.id for row in rows])
    for row in rows:
        ticket = domain_ticket(row, decided[row.id], None)
        level = tk.next_level(ticket)
        if level is None:
            continue
        _record(conn, row.id, level, AWAITING, now)
        if row.deadline is not None and row.deadline < now \
                and _record(conn, row.id, level, OVERDUE, now):
            moved, record = tk.transition(ticket, "escalate", tk.SYSTEM, tk.SYSTEM, now,
                                          f"level {level.level} ({level.role}) overdue since "
                                          f"{row.deadline.isoformat()}")
            record_change(conn, moved, record)


def _record(conn: Connection, ticket_id: int, level: tk.Level, kind: str,
            now: dt.datetime) -> bool:
    """Insert the notice unless it exists; True when this call decided it."""
    exists = conn.execute(sa.select(notices.c.id).where(
        notices.c.ticket_id == ticket_id, notices.c.level == level.level,
        notices.c.kind == kind)).first()
    if exists is not None:
        return False
    try:
        with conn.begin_nested():
            conn.execute(notices.insert().values(
                ticket_id=ticket_id, level=level.level, kind=kind, role=level.role,
                created_at=now, attempts=0))
    except sa.exc.IntegrityError:  # decided meanwhile by the other scheduler
        return False
    return True


def pending(engine: Engine, config: NotifierConfig,
            card_of: CardOf | None = None) -> list[Notice]:
    """Undelivered notices of levels still waiting: once a level is decided (or the ticket
    has moved on), telling its approvers it waits would be wrong, so those are never sent."""
    decided = sa.exists().where(approvals.c.ticket_id == notices.c.ticket_id,
                                approvals.c.level == notices.c.level)
    query = (sa.select(notices, tickets.c.playbook, tickets.c.version, tickets.c.deadline,
                       tickets.c.rehearsal)
             .join(tickets, tickets.c.id == notices.c.ticket_id)
             .where(notices.c.sent_at.is_(None), tickets.c.state == "planned", ~decided)
             .order_by(notices.c.id))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        cards = {r.ticket_id: card_of(conn, r.ticket_id) for r in rows} if card_of else {}
    return [Notice(r.id, r.kind, r.ticket_id, r.playbook, r.version, r.level, r.role,
                   r.deadline, config.ticket_url(r.ticket_id),
                   tuple(w["message"] for w in warnings_of(r.rehearsal or {})),
                   cards.get(r.ticket_id)) for r in rows]
