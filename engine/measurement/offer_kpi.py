"""Results per offer: how the contacts that named an offer went, per offer and channel, with
the rates and the cost they imply (docs/EVALUATION.md, "Results per offer", defines each).

One definition for `tend kpis --by offer`, `GET /kpis?by=offer` and a ticket's report, so a
figure reads the same wherever it is shown. Rates count customers, not contacts: a clerk who
records `presented` three times for one customer has still reached one customer, and a rate
over contacts would reward recording often. The raw contact counts are given beside them,
because the contacts are what happened and what the cost follows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.measurement.kpi import rate
from engine.tasks.contact import OUTCOMES, PRESENTED

ALL = "all"
ANSWERS = tuple(o for o in OUTCOMES if o != PRESENTED)  # the rates, each over presented


@dataclass(frozen=True)
class OfferContact:
    """One recorded contact that named an offer (contacts without one are not counted)."""

    offer: str
    channel: str
    customer_id: str
    outcome: str


@dataclass
class Tally:
    """The contacts of one row, and the customers behind each outcome."""

    contacts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    customers: dict[str, set[str]] = field(
        default_factory=lambda: {o: set() for o in OUTCOMES})
    reached: set[str] = field(default_factory=set)

    def add(self, contact: OfferContact) -> None:
        self.contacts[contact.outcome] += 1
        self.customers[contact.outcome].add(contact.customer_id)
        self.reached.add(contact.customer_id)

    def summary(self, unit_cost: float | None) -> dict[str, Any]:
        """`presented` customers are those any contact of the row reached (any outcome means
        the offer was put to them); each other outcome's customers recorded it at least
        once, so one customer may count under several (declined, then handled later)."""
        customers = {PRESENTED: len(self.reached),
                     **{o: len(self.customers[o]) for o in ANSWERS}}
        handled = self.contacts["handled"]
        return {
            "contacts": {**self.contacts, ALL: sum(self.contacts.values())},
            "customers": customers,
            "rates": {o: rate(customers[o], customers[PRESENTED]) for o in ANSWERS},
            "unit_cost": unit_cost,
            "cost": None if unit_cost is None else unit_cost * handled,
        }


def offer_results(found: Iterable[OfferContact],
                  costs: Mapping[str, float | None]) -> dict[str, Any]:
    """Rows per offer (channel `all`: every customer once across channels) followed by that
    offer's rows per channel, and a total adding up the offer rows (a customer presented two
    offers counts under each). `costs`: each offer's cost of one `handled` (None or absent:
    not priced, so no cost is shown rather than 0)."""
    per_offer: dict[str, Tally] = defaultdict(Tally)
    per_channel: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for contact in found:
        per_offer[contact.offer].add(contact)
        per_channel[(contact.offer, contact.channel)].add(contact)
    rows = []
    for offer in sorted(per_offer):
        unit = costs.get(offer)
        rows.append({"offer": offer, "channel": ALL, **per_offer[offer].summary(unit)})
        rows.extend({"offer": offer, "channel": channel, **per_channel[(offer, channel)]
                     .summary(unit)} for o, channel in sorted(per_channel) if o == offer)
    return {"rows": rows, "total": _total([r for r in rows if r["channel"] == ALL])}


def _total(offers: list[dict[str, Any]]) -> dict[str, Any]:
    contacts = {key: sum(r["contacts"][key] for r in offers) for key in (*OUTCOMES, ALL)}
    customers = {key: sum(r["customers"][key] for r in offers) for key in OUTCOMES}
    priced = [r["cost"] for r in offers if r["cost"] is not None]
    return {"offer": ALL, "channel": ALL, "contacts": contacts, "customers": customers,
            "rates": {o: rate(customers[o], customers[PRESENTED]) for o in ANSWERS},
            "unit_cost": None, "cost": sum(priced) if priced else None}
