"""The offers one customer may be given now on one channel, and where each comes from.

A customer is offered what the playbooks of their executing tickets name, and only where they
are in the treatment group: the control group measures what happens without the campaign, so
an offer named by a ticket that holds the customer as control is withheld on every channel,
even when another ticket names it too (DESIGN §10). Load (memberships, the customer, the
planned playbooks) → engine.playbooks.offer_ranking → plain dicts the view, the contacts endpoint
and `GET /customers/<id>/offers` render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import load_customer
from adapters.db.reads import Read
from adapters.db.schema import entries, tickets
from adapters.tickets.store import planned_playbook
from engine.config import Config
from engine.errors import NotFound, ValidationError
from engine.language.customer import facts
from engine.playbooks.library import Library
from engine.playbooks.offer import LANGUAGES, offer_channels
from engine.playbooks.offer_ranking import OfferCandidate, rank_offers, render_script, text_in
from engine.playbooks.playbook import Step
from engine.playbooks.variant import offers_named, resolved

OfferList = dict[str, list[dict[str, Any]]]
EXECUTING = "executing"  # engine/tickets/ticket.py: the state whose members are being contacted
_HELD = sa.select(entries.c.ticket_id, entries.c.grp).distinct().where(
    entries.c.customer_id == sa.bindparam("cid"),
    entries.c.grp.in_(("treatment", "control"))).subquery()
_MEMBERSHIPS = (sa.select(tickets.c.id, tickets.c.playbook, tickets.c.version,  # built once:
                          tickets.c.playbook_hash, _HELD.c.grp)  # every view asks it
                .join(_HELD, _HELD.c.ticket_id == tickets.c.id)
                .where(tickets.c.state == EXECUTING).order_by(tickets.c.id, _HELD.c.grp))


def offers_for(conn: Connection, config: Config, library: Library, customer_id: str,
               channel: str, now: dt.datetime, handled: Mapping[str, int] | None = None,
               lang: str = "zh", record: Mapping[str, Any] | None = None,
               held: Sequence[Any] | None = None) -> OfferList:
    """`{"offers": [...], "control": [...]}` for the customer on `channel` at `now`.

    Each offer: `{"offer", "version", "title", "script", "rank", "source": {"ticket_id",
    "playbook", "step"}}`, title and script in `lang` (zh or en), best first: tickets by
    playbook priority (higher first, then older ticket), steps in order, each step's offers
    in its order; an offer named twice keeps its first place. `handled` counts each offer's
    `handled` contacts so far (for `limit`). `control`: `[{"ticket_id", "playbook"}]`, the
    executing tickets holding the customer as control. `record`: the customer's record, and
    `held` the rows of `memberships_read`, when the caller has read them already (the view
    batches its reads). Raises ValidationError naming `channel` or
    `lang`, NotFound for an unknown customer.
    """
    known = offer_channels(config)
    if channel not in known:
        raise ValidationError(f"unknown channel {channel!r} (expected one of: "
                              f"{', '.join(known)})", field="channel")
    if lang not in LANGUAGES:
        raise ValidationError(f"expected one of {', '.join(LANGUAGES)}, got {lang!r}", field="lang")
    if record is None:
        record = load_customer(conn, config, customer_id)
    if record is None:
        raise NotFound(f"no customer {customer_id!r}", code="customer.not_found",
                       params={"customer": customer_id})
    if held is None:
        read = memberships_read(customer_id)
        held = conn.execute(read.query, dict(read.params)).all()
    memberships = _memberships(held)
    plays = {row.id: planned_playbook(conn, config, library, row) for row, _ in memberships}
    control = [(row, plays[row.id]) for row, grp in memberships if grp == "control"]
    withheld = {name for _, pb in control for step in pb.steps for name in offers_named(step)}
    treated = sorted(((row, plays[row.id]) for row, grp in memberships if grp == "treatment"),
                     key=lambda rp: (-rp[1].priority, rp[0].id))
    candidates = [OfferCandidate(name, {"ticket_id": row.id, "playbook": pb.id, "step": step.id})
                  for row, pb in treated for step in _steps(pb.id, pb.steps, customer_id)
                  for name in step.offers if name not in withheld]
    today = config.today(now)
    fact = facts(record, today, config.tiers, config.lifecycle)
    ranked = rank_offers(candidates, library.offers, fact, today, channel, handled or {})
    return {
        "offers": [{"offer": r.offer.id, "version": r.offer.version,
                    "title": text_in(r.offer.title, lang),
                    "script": render_script(r.offer, fact, lang), "rank": r.rank,
                    "source": dict(r.source)} for r in ranked],
        "control": [{"ticket_id": row.id, "playbook": pb.id}
                    for row, pb in sorted(control, key=lambda rp: rp[0].id)],
    }


def _steps(playbook_id: str, steps: Sequence[Step], customer_id: str) -> list[Step]:
    """A treatment customer is offered what their variant of each step names."""
    return [resolved(playbook_id, step, customer_id)[0] for step in steps]


def memberships_read(customer_id: str) -> Read:
    """The customer's entries into executing tickets as treatment or control, with the
    ticket (rows for `offers_for`'s `held`): a read, to batch with others
    (adapters.db.reads)."""
    return Read(_MEMBERSHIPS, {"cid": customer_id})


def _memberships(rows: Sequence[Any]) -> list[tuple[Any, str]]:
    """(ticket row, group) of the executing tickets holding the customer as treatment or
    control: their entries. A sweep's members all enter when it starts executing, a
    standing ticket's one event or contact at a time; the members of a standing ticket's
    rehearsal (the replay, or the sweep of a contact playbook) never entered, and are
    offered nothing by it."""
    found: dict[int, tuple[Any, str]] = {}
    for row in rows:  # a customer in both groups of one ticket cannot happen; control wins
        if row.id not in found or row.grp == "control":
            found[row.id] = (row, row.grp)
    return list(found.values())
