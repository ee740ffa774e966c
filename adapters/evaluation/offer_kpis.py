"""Results per offer (`tend kpis --by offer`, `GET /kpis?by=offer`, a ticket's report): the
contacts that named an offer, read here; counted by engine/measurement/offer_kpi.py.

The period of `--by offer` is one of contact dates, not entry dates: a contact is what
happened on a day, whichever ticket (or none) it followed, and a store clerk's contact names
no ticket at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import contacts
from adapters.evaluation.columns import left, right
from adapters.evaluation.kpis import Period
from engine.measurement.offer_kpi import OfferContact, offer_results
from engine.playbooks.offer import Offer

BY = "offer"
CHUNK = 1_000  # ticket ids per IN list: a playbook run daily for years has thousands


def costs(offers: Mapping[str, Offer]) -> dict[str, float | None]:
    """Each offer's cost of one `handled`, as the library has it now: a contact does not
    record the offer's version, so a cost changed under a new version applies to all."""
    return {name: offer.cost for name, offer in offers.items()}


def kpis(conn: Connection, span: Period, prices: Mapping[str, float | None]) -> dict[str, Any]:
    """The contacts dated in the period's days (configured timezone), per offer and channel."""
    found = _read(conn, contacts.c.at >= span.start, contacts.c.at < span.end)
    return {"by": BY, "from": span.first.isoformat(), "to": span.last.isoformat(),
            **offer_results(found, prices)}


def of_ticket(conn: Connection, ticket_id: int,
              prices: Mapping[str, float | None]) -> dict[str, Any]:
    """The contacts that named the ticket, whenever they were recorded."""
    return offer_results(_read(conn, contacts.c.ticket_id == ticket_id), prices)


def of_tickets(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, list[OfferContact]]:
    """The contacts naming each of `ticket_ids` that name an offer, by ticket (to pool them,
    as a playbook's history pools a version's tickets)."""
    found: dict[int, list[OfferContact]] = defaultdict(list)
    wanted = sorted(set(ticket_ids))
    for start in range(0, len(wanted), CHUNK):
        for ticket_id, *fields in conn.execute(
                sa.select(contacts.c.ticket_id, contacts.c.offer, contacts.c.channel,
                          contacts.c.customer_id, contacts.c.outcome)
                .where(contacts.c.offer.is_not(None),
                       contacts.c.ticket_id.in_(wanted[start:start + CHUNK]))):
            found[ticket_id].append(OfferContact(*fields))
    return found


def _read(conn: Connection, *where: Any) -> list[OfferContact]:
    return [OfferContact(*row) for row in conn.execute(
        sa.select(contacts.c.offer, contacts.c.channel, contacts.c.customer_id,
                  contacts.c.outcome).where(contacts.c.offer.is_not(None), *where))]


def render(found: Mapping[str, Any]) -> str:
    """The table `tend kpis --by offer` prints: an offer's row, then its channels indented."""
    lines = [f"Results per offer, contacts from {found['from']} to {found['to']}",
             *table(found["rows"], found["total"])]
    return "\n".join(lines)


def table(rows: list[Mapping[str, Any]], total: Mapping[str, Any],
          say: Callable[[str], str] = str) -> list[str]:
    """Customers per outcome with their rates over presented, contacts, and cost; shared
    with the ticket report's text, which words the heads and the note with `say` (the
    report's language: adapters/tickets/report_words.py OFFER_TABLE)."""
    head = " ".join([left(say("offer / channel"), 24), right(say("presented"), 9),
                     *(right(say(h), 14) for h in ("interest", "declined", "handled",
                                                   "referred")),
                     right(say("contacts"), 8), right(say("cost"), 10)])
    lines = [head]
    for row in [*rows, total]:
        name = row["offer"] if row["channel"] == "all" else f"  {row['channel']}"
        c, r = row["customers"], row["rates"]
        lines.append(
            f"{name[:24]:<24} {c['presented']:>9,} "
            + " ".join(f"{_share(c[o], r[o]):>14}"
                       for o in ("interested", "declined", "handled", "referred"))
            + f" {row['contacts']['all']:>8,} {_num(row['cost']):>10}")
    lines.append(say("customers per outcome (share of presented); contacts: every one recorded"))
    return lines


def _share(n: int, part: float | None) -> str:
    return f"{n:,} ({'-' if part is None else f'{part:.1%}'})"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
