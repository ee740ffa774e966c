"""The unified customer view (统一政策视图, DESIGN 10): what a store clerk, a hotline agent
or an account manager sees of one customer on their channel, the same customer, offers and
trajectory on every channel.

One read: the customer with their computed fields (phone masked), the offers (a seam, see
`offers`), the executing tickets that hold them in the control group (never offered those
tickets' offers), their open tasks on every channel, the trajectory (contacts recorded on
any channel and the results channels reported on their tasks, so outbound calls appear
beside store visits), and what the contact policy allows each channel today. Each view
opened by a person is logged (who, customer, channel, when); the log is its only write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import iso, load_customer
from adapters.db.schema import customer_views, customers, entries, tasks, tickets
from adapters.tasks import attempts, contact_policy
from adapters.tickets import contact as contact_entry
from adapters.tickets.offers import OfferList, offers_for
from adapters.view import contacts as contact_store
from engine.config import Config
from engine.errors import NotFound
from engine.formats.values import before
from engine.language.customer import facts
from engine.playbooks.library import Library
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


def read(conn: Connection, config: Config, library: Library, customer: dict[str, Any],
         channel: str,
         now: dt.datetime, lang: str = "zh") -> dict[str, Any]:
    """The view of `customer` (as `record_opening` returned it) on `channel` at `now`: reads
    only, so it needs no write lock."""
    customer_id = customer["id"]
    seen = facts(customer, config.today(now), config.tiers, config.lifecycle)
    tenure = seen["tenure_days"]
    presented = offered(conn, config, library, customer_id, channel, now, lang, customer)
    return {
        "customer": {"id": customer_id, "name": customer.get("name"),
                     "phone": mask_phone(customer.get("phone")), "tier": seen["tier"],
                     "stage": seen["stage"], "manager": customer.get("manager"),
                     "tenure_days": int(tenure) if tenure is not None else None},
        "offers": presented["offers"],
        "control": presented["control"],
        "open_tasks": open_tasks(conn, customer_id),
        "trajectory": trajectory(conn, customer_id),
        "policy": policy(conn, config, customer_id, tuple(customer["opt_out"]), now),
    }


def offers(conn: Connection, config: Config, library: Library, customer_id: str, channel: str,
           now: dt.datetime, lang: str) -> list[dict[str, Any]]:
    """The offers to present on `channel`, best first, each `{"offer", "version", "title",
    "script", "rank", "source"}`: the offers service's (treatment memberships only, never an
    offer of a ticket holding the customer in control; eligible, valid, under its limit of
    handled contacts), less those the customer declined too often lately (the policy's
    `declines`)."""
    found: list[dict[str, Any]] = offered(conn, config, library, customer_id, channel, now,
                                          lang)["offers"]
    return found


def offered(conn: Connection, config: Config, library: Library, customer_id: str, channel: str,
            now: dt.datetime, lang: str, record: dict[str, Any] | None = None) -> OfferList:
    """`offers` and, from the same read of the memberships, `control` (as `control` reads
    it): the view's two lists for one read. `record`: the customer, when read already."""
    found = offers_for(conn, config, library, customer_id, channel, now,
                       contact_store.handled(conn, library.offers), lang=lang, record=record)
    limit = config.policy.declines
    if limit is None:
        return found
    declined = contact_store.declines(conn, customer_id, before(now, limit.within))
    return {**found, "offers": [o for o in found["offers"]
                                if not offer_stopped(limit, o["offer"], declined, now)]}


def control(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    """The executing tickets that hold the customer in their control group: their entries
    (a sweep's members enter when it starts, a standing ticket's one event or contact at a
    time; a standing ticket's rehearsal members are no members)."""
    rows = conn.execute(
        sa.select(tickets.c.id, tickets.c.playbook).distinct()
        .join(entries, entries.c.ticket_id == tickets.c.id)
        .where(entries.c.customer_id == customer_id, entries.c.grp == "control",
               tickets.c.state == "executing").order_by(tickets.c.id))
    return [{"ticket_id": row.id, "playbook": row.playbook} for row in rows]


def open_tasks(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    """The customer's tasks waiting for or held by a channel, every channel
    (engine.tasks.task.OPEN)."""
    rows = conn.execute(_OPEN_TASKS, {"cid": customer_id})
    return [{"id": r.id, "channel": r.channel, "step": r.step, "state": r.state,
             "ticket_id": r.ticket_id} for r in rows]


def trajectory(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    """The newest contacts, call attempts and task results together, newest first: what
    every channel knows the customer was told and answered. A task a person called shows
    each call (adapters.tasks.attempts), not only the furthest result it keeps."""
    found = [(row.at, {"at": iso(row.at), "channel": row.channel, "offer": row.offer,
                       "outcome": row.outcome, "by": row.by, "note": row.note})
             for row in contact_store.recent(conn, customer_id, TRAJECTORY)]
    for call in attempts.recent(conn, customer_id, TRAJECTORY):
        found.append((call.at, {
            "at": iso(call.at), "channel": call.channel, "offer": _offer(call.payload),
            "outcome": call.status, "by": call.by, "note": call.note}))
    for row in conn.execute(_RESULTS, {"cid": customer_id}):
        found.append((row.result_at, {
            "at": iso(row.result_at), "channel": row.channel,
            "offer": _offer(row.payload),
            "outcome": row.state, "by": row.route.partition(":")[2] or row.route,
            "note": _note(row.detail)}))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in found[:TRAJECTORY]]


def policy(conn: Connection, config: Config, customer_id: str, opt_out: tuple[str, ...],
           now: dt.datetime) -> dict[str, dict[str, Any]]:
    """What the contact policy lets each channel do for the customer now: opt-outs, quiet
    hours, the channel's capacity today, the frequency caps over what they were sent
    (engine.tasks.policy.at_send, as a claim judges a first send); on the contact channels where
    no task goes out (hotline, online), the opt-out alone. Arbitration is left out: it
    ranks playbooks against each other, and a person's contact belongs to none."""
    rules = dataclasses.replace(config.policy, arbitration=None)
    sent = contact_policy.contacts(conn, [customer_id], now - rules.lookback, now, False)
    used = contact_policy.sent_today(conn, rules, config.channels, now)
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
