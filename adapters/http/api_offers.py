"""`GET /customers/<id>/offers?channel=online`: what a web page or an agent may show.

Only each offer's id, version and title (in `lang`), best first: the scripts and the tickets
behind them stay inside (DESIGN §10). The ranking is adapters/tickets/offers.py's.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from adapters.db.engines import load_customer
from adapters.http.auth import allow, check_offers
from adapters.http.contract import Blueprint
from adapters.http.schemas import Out
from adapters.http.state import state
from adapters.tickets.offers import offers_for
from engine.errors import NotFound
from engine.offer import LANGUAGES

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
@allow("offers")
def customer_offers(args: dict[str, Any], customer_id: str) -> Any:
    """The offers of the customer's executing tickets (treatment only) that are eligible,
    valid today, presentable on `channel` and under their limit. Agents read their own
    channels, managers their own customers; an unknown channel is a 400, a customer a 404."""
    config, channel, user = state().config, args["channel"], g.user
    cleared = bool(user.roles & {"viewer", "admin"}) or channel in user.agent_channels()
    if not cleared and not user.managed():
        check_offers(user, channel, None)  # a 403 before any state is read
    with state().transaction() as conn:
        if not cleared:  # a manager: only for the customers they manage
            customer = load_customer(conn, config, customer_id)
            if customer is None:
                raise NotFound(f"no customer {customer_id!r}")
            check_offers(user, channel, customer["manager"])
        found = offers_for(conn, config, state().library, customer_id, channel,
                           state().now(), lang=args["lang"])
    return {"items": [{"offer": o["offer"], "version": o["version"], "title": o["title"]}
                      for o in found["offers"]], "next_cursor": None}
