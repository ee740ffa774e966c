"""Contacts: what a store clerk, a hotline agent or an account manager records after talking
to a customer, and what every channel's view then shows (the trajectory, DESIGN 10).

A contact is written once per id: a client that repeats a request (a retry after a timeout)
gets the first answer back and nothing is written twice. Every check runs before the first
write, so a refused contact leaves no trace. Two outcomes act on tasks, through the task
service so a contact moves tasks exactly as a channel's result does: `handled` closes the
customer's open tasks of the ticket on every channel (as an accepted result), and `referred`
makes a task on the same ticket in the referred channel, carrying the note.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapters.db.engines import begin_writes, iso, load_customer
from adapters.db.reads import Read
from adapters.db.schema import contacts, entries, offer_handled, tasks
from adapters.tasks import service as task_service
from engine.config import Config
from engine.errors import Conflict, Invalid, NotFound
from engine.formats.values import given_instant
from engine.playbooks.offer import Offer, offer_channels
from engine.tasks import contact as ct

ROUTES = ("pool", "manager")  # as a step's `route`


def record(conn: Connection, config: Config, customer_id: str, body: dict[str, Any], by: str,
           now: dt.datetime) -> tuple[dict[str, Any], bool]:
    """Record the contact `body` (POST /customers/<id>/contacts) by user `by`: the contact,
    and whether it is new (False: its id was recorded before, and that contact is returned).
    Invalid naming the field, NotFound for an unknown customer, both before anything is
    written. Call in a write transaction."""
    begin_writes(conn)
    contact_id = body.get("id") or uuid.uuid4().hex
    known = _recorded(conn, contact_id, customer_id)
    if known is not None:
        return known, False
    customer = load_customer(conn, config, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id!r}")
    _check_channel(offer_channels(config), body["channel"], "channel")
    at = given_instant(body.get("at"), config.timezone, "at", now)
    outcome, ticket_id, refer_to = body["outcome"], body.get("ticket_id"), body.get("refer_to")
    entry = _entry(conn, customer_id, ticket_id) if ticket_id is not None else None
    if refer_to is not None and outcome != ct.REFERRED:
        raise Invalid("refer_to: only a referred contact refers", {
            "refer_to": [f"given with outcome {outcome}; only with {ct.REFERRED}"]})
    route = _referral_route(config, customer, body, entry) if outcome == ct.REFERRED else None
    try:
        with conn.begin_nested():  # the same id posted at once twice: the first one acts
            conn.execute(contacts.insert().values(
                id=contact_id, customer_id=customer_id, channel=body["channel"],
                offer=body.get("offer"), ticket_id=ticket_id, outcome=outcome,
                note=body.get("note"), by=by, at=at, refer_to=refer_to, recorded_at=now))
            if outcome == ct.HANDLED and body.get("offer") is not None:
                conn.execute(_COUNT_HANDLED, {"offer": body["offer"]})
    except sa.exc.IntegrityError:
        again = _recorded(conn, contact_id, customer_id)
        if again is None:
            raise
        return again, False
    if route is not None and entry is not None:
        task_id = _refer(conn, customer, contact_id, body, entry, route, by, now)
        conn.execute(contacts.update().where(contacts.c.id == contact_id)
                     .values(task_id=task_id))
    elif outcome == ct.HANDLED and entry is not None:
        task_service.close_open(conn, entry.ticket_id, customer_id,
                                f"handled on {body['channel']} (contact {contact_id})", now)
    return shape(conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).one()), True


def _recorded(conn: Connection, contact_id: str, customer_id: str) -> dict[str, Any] | None:
    """The contact recorded under this id before, if any; Conflict when it was another
    customer's (an id is the client's, and a client reusing one is a mistake to surface)."""
    known = conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).first()
    if known is not None and known.customer_id != customer_id:
        raise Conflict(f"contact {contact_id!r} was recorded for another customer")
    return None if known is None else shape(known)


def shape(row: Row[Any]) -> dict[str, Any]:
    return {"id": row.id, "customer_id": row.customer_id, "channel": row.channel,
            "offer": row.offer, "ticket_id": row.ticket_id, "outcome": row.outcome,
            "note": row.note, "by": row.by, "at": iso(row.at), "refer_to": row.refer_to,
            "task_id": row.task_id, "recorded_at": iso(row.recorded_at)}


_RECENT = (sa.select(contacts.c.at, contacts.c.channel, contacts.c.offer, contacts.c.outcome,
                     contacts.c.by, contacts.c.note)
           .where(contacts.c.customer_id == sa.bindparam("cid"))
           .order_by(contacts.c.at.desc(), contacts.c.id).limit(sa.bindparam("n")))
_HANDLED = sa.select(offer_handled.c.offer, offer_handled.c.handled)
# One more `handled` contact of an offer: the first makes its row (ON CONFLICT, which both
# databases read alike), the rest add one in place.
_COUNT_HANDLED = sa.text(
    "INSERT INTO offer_handled (offer, handled) VALUES (:offer, 1) "
    "ON CONFLICT (offer) DO UPDATE SET handled = offer_handled.handled + 1")
_DECLINES = sa.select(contacts.c.offer, contacts.c.at).where(
    contacts.c.customer_id == sa.bindparam("cid"), contacts.c.outcome == ct.DECLINED,
    contacts.c.at > sa.bindparam("since"))


def recent_read(customer_id: str, limit: int) -> Read:
    """The customer's newest contacts, newest first (what the trajectory shows of each): a
    read, to batch with others (adapters.db.reads)."""
    return Read(_RECENT, {"cid": customer_id, "n": limit})


def handled(conn: Connection, offers: Mapping[str, Offer]) -> Mapping[str, int]:
    """How many times each offer of `offers` was `handled`, on every channel: what an
    offer's `limit` counts (engine/playbooks/offer_ranking.py). Read from the counts `record` keeps
    (offer_handled), all in one statement on first use: counting the contacts themselves
    grew with them (16,000 index entries per offer at 1,000,000 customers, bench/view.py)."""
    return HandledCounts(conn, offers)


def handled_read() -> Read:
    """The read of `handled`, to batch with others (adapters.db.reads); `handled_of` its
    rows."""
    return Read(_HANDLED)


def handled_of(rows: Iterable[Any]) -> dict[str, int]:
    """`handled` from the rows of its read: the offers handled at least once."""
    return {offer: int(count) for offer, count in rows}


class HandledCounts(Mapping[str, int]):
    """`handled` counts of the offers, read once, when the first is asked for (an offer
    nobody is eligible for costs no read)."""

    def __init__(self, conn: Connection, offers: Mapping[str, Offer]) -> None:
        self.conn, self.offers = conn, offers
        self.known: dict[str, int] | None = None

    def __getitem__(self, offer_id: str) -> int:
        if offer_id not in self.offers:
            raise KeyError(offer_id)
        if self.known is None:
            self.known = {offer: int(count) for offer, count in self.conn.execute(_HANDLED)}
        return self.known.get(offer_id, 0)

    def __iter__(self) -> Iterator[str]:
        return iter(self.offers)

    def __len__(self) -> int:
        return len(self.offers)


def declines(conn: Connection, customer_id: str, since: dt.datetime) -> list[ct.Decline]:
    """The customer's `declined` contacts after `since`: what engine.tasks.contact.offer_stopped
    judges an offer by (the offers service asks, with the policy's `declines.within`)."""
    read = declines_read(customer_id, since)
    return declines_of(conn.execute(read.query, dict(read.params)))


def declines_read(customer_id: str, since: dt.datetime) -> Read:
    """The read of `declines`, to batch with others (adapters.db.reads)."""
    return Read(_DECLINES, {"cid": customer_id, "since": since})


def declines_of(rows: Iterable[Any]) -> list[ct.Decline]:
    """`declines` from the rows of its read."""
    return [ct.Decline(offer, at) for offer, at in rows]


def _check_channel(known: tuple[str, ...], channel: str, name: str) -> None:
    """A contact happens on a channel or a contact channel (store, hotline, online); a
    referral makes a task, so it names a channel tasks go out on."""
    if channel not in known:
        field, _, inner = name.partition(".")
        problem = [f"no channel {channel!r}; expected one of {', '.join(sorted(known))}"]
        raise Invalid(f"{name}: no channel {channel!r}",
                      {field: {inner: problem} if inner else problem})


def _entry(conn: Connection, customer_id: str, ticket_id: int) -> Row[Any]:
    """The customer's latest entry into the ticket (a standing ticket may hold several, one
    per cooldown): a contact names only a ticket the customer entered."""
    entry = conn.execute(sa.select(entries).where(entries.c.ticket_id == ticket_id,
                                                  entries.c.customer_id == customer_id)
                         .order_by(entries.c.id.desc()).limit(1)).first()
    if entry is None:
        raise Invalid(f"ticket_id: customer {customer_id!r} is not in ticket {ticket_id}",
                      {"ticket_id": [f"customer {customer_id!r} did not enter ticket {ticket_id}"]})
    return entry


def _referral_route(config: Config, customer: dict[str, Any], body: dict[str, Any],
                    entry: Row[Any] | None) -> str:
    """The route of the task a referral makes (the pool, or the customer's manager), once
    the referral is found complete: where to, on which ticket, for a treated customer."""
    refer_to = body.get("refer_to")
    if refer_to is None:
        raise Invalid("refer_to: a referred contact says where to", {
            "refer_to": ["required with outcome referred: {\"channel\", \"route\"?}"]})
    _check_channel(tuple(config.channels), refer_to["channel"], "refer_to.channel")
    if entry is None:
        raise Invalid("ticket_id: a referral continues a ticket", {
            "ticket_id": ["required with outcome referred"]})
    if entry.grp != "treatment":
        raise Invalid(f"ticket_id: customer is in the {entry.grp} group of ticket "
                      f"{entry.ticket_id}", {"ticket_id": [
                          f"the customer is in the {entry.grp} group: never contacted"]})
    if refer_to.get("route", "pool") == "pool":
        return "pool"
    if not customer.get("manager"):
        raise Invalid("refer_to.route: the customer has no manager", {
            "refer_to": {"route": ["the customer has no manager"]}})
    return f"manager:{customer['manager']}"


def _refer(conn: Connection, customer: dict[str, Any], contact_id: str, body: dict[str, Any],
           entry: Row[Any], route: str, by: str, now: dt.datetime) -> int:
    """The task a referral makes: on the contact's ticket, in `refer_to.channel`, its payload
    the customer's last task's on that ticket (the template and offer they were planned
    with) plus the referral and its note."""
    channel = body["refer_to"]["channel"]
    last = conn.execute(sa.select(tasks.c.payload).where(
        tasks.c.ticket_id == entry.ticket_id, tasks.c.customer_id == entry.customer_id)
        .order_by(tasks.c.id.desc()).limit(1)).scalar()
    base = last or {"template": None, "params": {}, "customer": {
        key: customer.get(key) for key in ("id", "name", "phone", "email", "manager")}}
    payload = {**base, "referral": {"contact_id": contact_id, "channel": body["channel"],
                                    "offer": body.get("offer"), "by": by,
                                    "note": body.get("note")}}
    made = task_service.follow_up(
        conn, {"ticket_id": entry.ticket_id, "entry_id": entry.id,
               "customer_id": entry.customer_id, "route": route},
        f"referral>{channel}", channel, f"contact:{contact_id}>{channel}", payload, now)
    task_id: int = made["id"]
    return task_id
