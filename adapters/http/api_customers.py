"""Customers: batch upsert (JSON), one customer with its computed fields, and explain."""

from __future__ import annotations

from typing import Any

from flask import g, request

from adapters.db.engines import load_customer
from adapters.http.auth import allow, check_profile
from adapters.http.contract import Blueprint
from adapters.http.intake_schemas import CustomerOut, ExplainQuery, UpsertOut
from adapters.http.state import state
from adapters.intake.customer_json import upsert_customers
from adapters.tickets import designer
from adapters.view.service import manager_of
from engine.errors import NotFound
from engine.formats.values import given_instant
from engine.language.customer import facts

blp = Blueprint("customers", __name__, url_prefix="/customers",
                description="Customer records: upsert, read, explain")
COMPUTED = ("tier", "stage", "tenure_days", "days_to_birthday")


@blp.route("", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": {
    "type": "array", "items": {"type": "object", "required": ["id", "joined_on"],
                               "description": "DESIGN 3 fields and declared attributes"}}}}})
@blp.alt_response(200, schema=UpsertOut, success=True)
@allow("ingest")
def upsert() -> Any:
    """Upsert by id, like `tend import customers`: an absent field is left as stored, null
    clears it; any bad item → 400 naming each by index and field, and nothing is written."""
    body = request.get_json()
    return upsert_customers(state().engine, state().config, body, state().now()).as_json()


@blp.route("/<customer_id>", methods=["GET"])
@blp.alt_response(200, schema=CustomerOut, success=True)
@allow("profile")
def get_customer(customer_id: str) -> Any:
    """The record with its computed fields. A `manager:<id>` reads only its customers."""
    config = state().config
    with state().transaction() as conn:
        check_profile(g.user, manager_of(conn, customer_id), config)
        customer = load_customer(conn, config, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id!r}", code="customer.not_found",
                       params={"customer": customer_id})
    seen = facts(customer, config.today(state().now()), config.tiers,
                 config.lifecycle)
    return {**customer, "tags": list(customer["tags"]), "opt_out": list(customer["opt_out"]),
            "computed": {key: seen.get(key) for key in COMPUTED}}


@blp.route("/<customer_id>/explain", methods=["GET"])
@blp.arguments(ExplainQuery, location="query")
@allow("read")
def explain(args: dict[str, Any], customer_id: str) -> Any:
    """Which conditions of each playbook (or `playbook`) held for the customer, with values."""
    library = state().library
    name = args.get("playbook")
    if name is None:
        chosen = sorted(library.playbooks.values(), key=lambda p: p.id)
    elif name in library.playbooks:
        chosen = [library.playbooks[name]]
    else:  # only library ids over HTTP: the CLI's draft paths would read the server's files
        raise NotFound(f"unknown playbook {name!r}")
    config = state().config
    at = given_instant(args.get("at"), config.timezone, "at", state().now())
    with state().transaction() as conn:
        return designer.explain(conn, customer_id, chosen, config, at)
