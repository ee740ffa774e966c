"""The unified customer view (统一政策视图, DESIGN 10): what a store clerk, a hotline agent
or an account manager sees of one customer on their channel, the same customer, offers and
trajectory on every channel.

One read: the customer with their computed fields (phone masked), the offers
(adapters/tickets/offers.py), the executing tickets that hold them in the control group
(never offered those tickets' offers), their open tasks on every channel, the trajectory
(contacts recorded on any channel and the results channels reported on their tasks, so
outbound calls appear beside store visits), and what the contact policy allows each channel
today. Each view opened by a person is logged (who, customer, channel, when); the log is its
only write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import iso, load_customer
from adapters.db.reads import Read, fetch
from adapters.db.schema import customer_views, customers, tasks
from adapters.tasks import attempts, contact_policy
from adapters.tickets import contact as contact_entry
from adapters.tickets.offers import OfferList, memberships_read, offers_for
from adapters.view import contacts as contact_store
from engine.config import Config
from engine.errors import NotFound
from engine.formats.values import before
from engine.language.customer import facts
from engine.playbooks.library import Library
from engine.playbooks.triggers import contact_outcomes
from engine.privacy import mask_phone
from engine.tasks import policy as pol
from engine.tasks import task as tk
from engine.tasks.contact import offer_stopped

TRAJECTORY = 20  # newest entries shown

# The statements every view runs, built once: building one cost about as much as running it
# (docs/ARCHITECTURE.md "Customer view speed").
_CID: sa.BindParameter[str] = sa.bindparam("cid")
_MANAGER = sa.select(customers.c.manager).where(customers.c.id == _CID)
_LOG = customer_views.insert().values(user_name=sa.bindparam("by"), customer_id=_CID,
                                      channel=sa.bindparam("channel"),
                                      viewed_at=sa.bindparam("at"))
_OPEN_TASKS = (sa.select(tasks.c.id, tasks.c.channel, tasks.c.step, tasks.c.state,
                         tasks.c.ticket_id)
               .where(tasks.c.customer_id == _CID, tasks.c.state.in_(tk.OPEN))
               .order_by(tasks.c.id))
_RESULTS = (  # tasks no person called: their one (furthest) result
    sa.select(tasks.c.result_at, tasks.c.channel, tasks.c.state, tasks.c.route,
              tasks.c.payload, tasks.c.detail)
    .where(tasks.c.customer_id == _CID, tasks.c.result_at.is_not(None),
           tasks.c.state.in_(tk.RESULTS), ~attempts.attempted())
    .order_by(tasks.c.result_at.desc(), tasks.c.id).limit(TRAJECTORY))


def manager_of(conn: Connection, customer_id: str) -> str | None:
    """The customer's manager id, or None (no manager, or no such customer): what a
    `manager:<id>` user is authorized by, before anything says whether the customer exists."""
    found: str | None = conn.scalar(_MANAGER, {"cid": customer_id})
    return found


def find(conn: Connection, text: str, managers: frozenset[str] | None) -> tuple[str | None, int]:
    """The customer a person searching for `text` means: its id, or its stored phone exactly.
    Returns (id, 1), (None, 0) for nobody, or (None, 2) when several customers share that
    phone: a search never lists customers, so a phone is no way to browse them. `managers`
    narrows the search to those managers' customers (a manager finds only their own; None:
    anyone), so a search tells a manager nothing about other customers."""
    text = text.strip()
    if not text:
        return None, 0
    query = sa.select(customers.c.id)
    if managers is not None:
        query = query.where(customers.c.manager.in_(sorted(managers)))
    by_id = conn.scalar(query.where(customers.c.id == text))
    if by_id is not None:
        return str(by_id), 1
    found = conn.scalars(query.where(customers.c.phone == text).limit(2)).all()
    return (str(found[0]), 1) if len(found) == 1 else (None, len(found))


def view(conn: Connection, config: Config, library: Library, customer_id: str, channel: str,
         by: str, now: dt.datetime, lang: str = "zh", contact: bool = False) -> dict[str, Any]:
    """The view of `customer_id` on `channel` at `now`, opened by the user `by`, in one
    transaction: `record_opening`, then `read`. NotFound for an unknown customer. The edges
    call the two in two transactions, so the write lock is held for the log alone."""
    customer = record_opening(conn, config, library, customer_id, channel, by, now, contact)
    return read(conn, config, library, customer, channel, now, lang)


def record_opening(conn: Connection, config: Config, library: Library, customer_id: str,
                   channel: str, by: str, now: dt.datetime, contact: bool,
                   customer: dict[str, Any] | None = None) -> dict[str, Any]:
    """What opening the view writes, and the customer it is of (NotFound for an unknown
    one): the log row (who, customer, channel, when), and, when the opening is the customer's
    contact on `channel` (an agent there, their manager: adapters/http/auth.py is_contact),
    their entries into the playbooks triggered by a contact there
    (adapters/tickets/contact.py), so the offers `read` then shows include those of the entry
    just made. Call in a write transaction, kept short: on SQLite views of every customer take
    turns for it (bench/view.py). `customer`: the record, when the caller has read it in
    this transaction already."""
    if customer is None:
        customer = load_customer(conn, config, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id!r}")
    if contact:
        contact_entry.enter(conn, config, library, customer, channel, now)
    conn.execute(_LOG, {"by": by, "cid": customer_id, "channel": channel, "at": now})
    return customer


def logs_alone(config: Config, library: Library, customer: dict[str, Any], channel: str,
               now: dt.datetime, contact: bool) -> bool:
    """Whether opening the view writes its log row and nothing else: it is no contact, or
    the customer is in the audience of no playbook triggered by a contact on `channel`. The
    edges then write the one row on its own, with no transaction around it (on PostgreSQL
    two round trips fewer), calling `record_opening` with `contact` False: entering would
    judge the customer as this did, and write nothing. Otherwise `record_opening` needs a
    write transaction."""
    if not contact or not contact_entry.triggered_on(library, channel):
        return True
    outcomes = contact_outcomes(library.playbooks.values(), customer, channel, config, now)
    return not any(outcome.matched for outcome in outcomes)


def read(conn: Connection, config: Config, library: Library, customer: dict[str, Any],
         channel: str,
         now: dt.datetime, lang: str = "zh") -> dict[str, Any]:
    """The view of `customer` (as `record_opening` returned it) on `channel` at `now`: reads
    only, so it needs no write lock. Its eight reads go together (adapters.db.reads: one
    round trip on PostgreSQL)."""
    customer_id = customer["id"]
    seen = facts(customer, config.today(now), config.tiers, config.lifecycle)
    tenure = seen["tenure_days"]
    reads = {**_offer_reads(config, library, customer_id, now), **_trajectory_reads(customer_id),
             **_policy_reads(config, customer_id, now),
             "open_tasks": Read(_OPEN_TASKS, {"cid": customer_id})}
    rows = fetch(conn, reads)
    presented = _offered(conn, config, library, customer_id, channel, now, lang, rows,
                         customer)
    return {
        "customer": {"id": customer_id, "name": customer.get("name"),
                     "phone": mask_phone(customer.get("phone")), "tier": seen["tier"],
                     "stage": seen["stage"], "manager": customer.get("manager"),
                     "tenure_days": int(tenure) if tenure is not None else None},
        "offers": presented["offers"],
        "control": presented["control"],
        "open_tasks": _open_tasks(rows["open_tasks"]),
        "trajectory": _trajectory(rows),
        "policy": _policy(config, customer_id, tuple(customer["opt_out"]), now, rows,
                          reads.get("capacity")),
    }


def talking_points(conn: Connection, config: Config, library: Library,
                   record: dict[str, Any], channel: str, now: dt.datetime,
                   lang: str) -> dict[str, list[dict[str, Any]]]:
    """What the manager's desk shows beside one customer's tasks, from one batch of reads:
    `offers` to present on `channel`, best first, each `{"offer", "version", "title",
    "script", "rank", "source"}` (treatment memberships only, never an offer of a ticket
    holding the customer in control; eligible, valid, under its limit of handled contacts;
    less those declined too often lately, the policy's `declines`), `control` (the executing
    tickets holding the customer as control) and the `trajectory`, as the view has them."""
    customer_id = record["id"]
    rows = fetch(conn, {**_offer_reads(config, library, customer_id, now),
                        **_trajectory_reads(customer_id)})
    presented = _offered(conn, config, library, customer_id, channel, now, lang, rows, record)
    return {"offers": presented["offers"], "control": presented["control"],
            "trajectory": _trajectory(rows)}


def _offer_reads(config: Config, library: Library, customer_id: str,
                 now: dt.datetime) -> dict[str, Read]:
    reads = {"memberships": memberships_read(customer_id)}
    if any(offer.limit is not None for offer in library.offers.values()):
        reads["handled"] = contact_store.handled_read()
    limit = config.policy.declines
    if limit is not None:
        reads["declines"] = contact_store.declines_read(customer_id, before(now, limit.within))
    return reads


def _offered(conn: Connection, config: Config, library: Library, customer_id: str,
             channel: str, now: dt.datetime, lang: str, rows: dict[str, list[Any]],
             record: dict[str, Any]) -> OfferList:
    """The offers to present and, from the same memberships, `control`, from the rows of
    `_offer_reads`: the offers service's, less those declined too often lately."""
    found = offers_for(conn, config, library, customer_id, channel, now,
                       contact_store.handled_of(rows.get("handled", ())), lang=lang,
                       record=record, held=rows["memberships"])
    limit = config.policy.declines
    if limit is None:
        return found
    declined = contact_store.declines_of(rows["declines"])
    return {**found, "offers": [o for o in found["offers"]
                                if not offer_stopped(limit, o["offer"], declined, now)]}


def _open_tasks(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The customer's tasks waiting for or held by a channel, every channel
    (engine.tasks.task.OPEN)."""
    return [{"id": r.id, "channel": r.channel, "step": r.step, "state": r.state,
             "ticket_id": r.ticket_id} for r in rows]


def _trajectory_reads(customer_id: str) -> dict[str, Read]:
    return {"contacts": contact_store.recent_read(customer_id, TRAJECTORY),
            "attempts": attempts.recent_read(customer_id, TRAJECTORY),
            "results": Read(_RESULTS, {"cid": customer_id})}


def _trajectory(rows: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The newest contacts, call attempts and task results together, newest first: what
    every channel knows the customer was told and answered. A task a person called shows
    each call (adapters.tasks.attempts), not only the furthest result it keeps."""
    found = [(row.at, {"at": iso(row.at), "channel": row.channel, "offer": row.offer,
                       "outcome": row.outcome, "by": row.by, "note": row.note})
             for row in rows["contacts"]]
    for call in rows["attempts"]:
        found.append((call.at, {
            "at": iso(call.at), "channel": call.channel, "offer": _offer(call.payload),
            "outcome": call.status, "by": call.by, "note": call.note}))
    for row in rows["results"]:
        found.append((row.result_at, {
            "at": iso(row.result_at), "channel": row.channel,
            "offer": _offer(row.payload),
            "outcome": row.state, "by": row.route.partition(":")[2] or row.route,
            "note": _note(row.detail)}))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in found[:TRAJECTORY]]


def _policy_reads(config: Config, customer_id: str, now: dt.datetime) -> dict[str, Read]:
    reads = {"sent": contact_policy.contacts_read([customer_id], now - config.policy.lookback,
                                                  now, False)}
    capacity = contact_policy.sent_today_read(config.policy, config.channels, now)
    if capacity is not None:
        reads["capacity"] = capacity
    return reads


def _policy(config: Config, customer_id: str, opt_out: tuple[str, ...], now: dt.datetime,
            rows: dict[str, list[Any]], capacity: Read | None) -> dict[str, dict[str, Any]]:
    """What the contact policy lets each channel do for the customer now: opt-outs, quiet
    hours, the channel's capacity today, the frequency caps over what they were sent
    (engine.tasks.policy.at_send, as a claim judges a first send); on the contact channels where
    no task goes out (hotline, online), the opt-out alone. Arbitration is left out: it
    ranks playbooks against each other, and a person's contact belongs to none."""
    rules = dataclasses.replace(config.policy, arbitration=None)
    sent: dict[str, list[pol.Contact]] = {customer_id: []}
    contact_policy.add_contacts(sent, rows["sent"])
    used = {} if capacity is None else contact_policy.sent_today_of(capacity, rows["capacity"])
    out = {}
    for channel in sorted(config.channels):
        decision = pol.at_send(rules, pol.Intent(now, channel, "", 0, opt_out),
                               sent[customer_id], used.get(channel))
        out[channel] = {"allowed": decision.verdict == pol.SEND, "reason": decision.reason,
                        "until": iso(decision.until)}
    for channel in sorted(set(config.contact_channels) - set(config.channels)):
        # The customer reached us there: no caps, quiet hours or capacity apply, only
        # their opt-out from presenting offers (all, or this channel by name).
        opted = "all" in opt_out or channel in opt_out
        out[channel] = {"allowed": not opted, "reason": pol.OPTED_OUT if opted else None,
                        "until": None}
    return out


def _offer(payload: Any) -> Any:
    return ((payload or {}).get("params") or {}).get("offer")


def _note(detail: Any) -> str | None:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict) and isinstance(detail.get("note"), str):
        note: str = detail["note"]
        return note
    return None
