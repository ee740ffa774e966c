"""`GET /customers/<id>/offers?channel=online`: what a web page or an agent may show.

Only each offer's id, version and title (in `lang`), best first: the scripts and the tickets
behind them stay inside (DESIGN §10). The ranking is adapters/tickets/offers.py's.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from adapters.db.engines import load_customer
from adapters.http.auth import allow, check_customer, is_contact
from adapters.http.contract import Blueprint
from adapters.http.schemas import Out
from adapters.http.state import state
from adapters.tickets import contact
from adapters.tickets.offers import offers_for
from adapters.view import contacts
from adapters.view import service as view_service
from engine.errors import NotFound
from engine.playbooks.offer import LANGUAGES

blp = Blueprint("offers", __name__, url_prefix="/customers",
                description="Offers (维系政策) a customer may be given now on a channel")


class OffersQuery(Schema):
    channel = fields.String(required=True, metadata={
        "description": "a channel or contact channel of config.yaml (store, hotline, online…)"})
    lang = fields.String(load_default="zh", validate=validate.OneOf(LANGUAGES),
                         metadata={"description": "language of the titles (zh or en)"})


class OfferTitleOut(Out):
    offer = fields.String(metadata={"description": "the offer id"})
    version = fields.Integer()
    title = fields.String()


class OfferTitleList(Out):
    items = fields.List(fields.Nested(OfferTitleOut), metadata={"description": "best first"})
    next_cursor = fields.String(allow_none=True, metadata={"description": "always null"})


@blp.route("/<customer_id>/offers", methods=["GET"])
@blp.arguments(OffersQuery, location="query")
@blp.alt_response(200, schema=OfferTitleList, success=True)
@allow("view")
def customer_offers(args: dict[str, Any], customer_id: str) -> Any:
    """The offers of the customer's executing tickets (treatment only) that are eligible,
    valid today, presentable on `channel` and under their limit. Who may ask is who may open
    the customer's view there (auth.check_customer): agents on their own channels, managers
    for their own customers, admin and viewer; an unknown channel is a 400, a customer a 404.
    An agent's (the web shop's `agent:online`) or the manager's request is the customer's
    contact there: it first enters them into the playbooks triggered by a contact on the
    channel, as opening their view does."""
    st, channel = state(), args["channel"]
    now = st.now()
    # Only a request that may be the customer's contact writes (an entry); others only read.
    may_enter = contact.triggered_on(st.library, channel) and (
        is_contact(g.user, channel, None) or bool(g.user.managed()))
    with st.transaction(write=may_enter) as conn:
        manager = view_service.manager_of(conn, customer_id)
        check_customer(g.user, channel, manager, False)
        if may_enter and is_contact(g.user, channel, manager):
            record = load_customer(conn, st.config, customer_id)
            if record is None:
                raise NotFound(f"no customer {customer_id!r}", code="customer.not_found",
                               params={"customer": customer_id})
            contact.enter(conn, st.config, st.library, record, channel, now)
        found = offers_for(conn, st.config, st.library, customer_id, channel, now,
                           contacts.handled(conn, st.library.offers), lang=args["lang"])
    return {"items": [{"offer": o["offer"], "version": o["version"], "title": o["title"]}
                      for o in found["offers"]], "next_cursor": None}
