"""An account manager's tasks and customers: `GET /managers/<id>/tasks`, `.../customers`.

Execution routes a `route: manager` step to `manager:<the customer's manager>`; a user
holding the role `manager:<id>` is that manager (engine.tickets.users.User.routes, the mapping the
console's desk uses too). A manager reads their own tasks here and reports on them through
`POST /tasks/<id>/result`; admins read anyone's. The customers are those whose `manager`
is `<id>` (adapters.view.portfolio), for the manager and admins.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from adapters.http.api_tasks import STATES, HeldTaskList, after, page_json
from adapters.http.auth import allow
from adapters.http.contract import Blueprint
from adapters.http.paging import decode_cursor, encode_cursor
from adapters.http.state import state
from adapters.tasks import listing
from adapters.view import portfolio
from engine.errors import Forbidden

blp = Blueprint("managers", __name__, url_prefix="/managers",
                description="Account managers: the tasks routed to them, their customers")


class ManagerTasksQuery(Schema):
    state = fields.String(validate=validate.OneOf(STATES),
                          metadata={"description": "only tasks in this state (default: all)"})
    cursor = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ManagerCustomersQuery(Schema):
    cursor = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PortfolioCustomer(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "masked: 138****5678"})
    tier = fields.String(allow_none=True)
    stage = fields.String(allow_none=True)
    open_tasks = fields.Integer()


class PortfolioList(Schema):
    items = fields.List(fields.Nested(PortfolioCustomer))
    next_cursor = fields.String(allow_none=True)


def _own(manager_id: str) -> None:
    route = f"manager:{manager_id}"
    if "admin" not in g.user.roles and route not in g.user.routes():
        raise Forbidden(f"{g.user.name} answers {', '.join(sorted(g.user.routes())) or 'no route'}"
                        f", not {route}")


@blp.route("/<manager_id>/customers", methods=["GET"])
@blp.arguments(ManagerCustomersQuery, location="query")
@blp.alt_response(200, schema=PortfolioList, success=True)
@allow("manage")
def manager_customers(args: dict[str, Any], manager_id: str) -> Any:
    """The customers whose manager is `<id>`, by id: masked phone, tier, stage and how many
    tasks are open for each. Reading it is no contact and logs no view."""
    _own(manager_id)
    after = decode_cursor(args["cursor"]) if args.get("cursor") else None
    st = state()
    with st.transaction() as conn:
        items, last = portfolio.customers_of(conn, st.config, manager_id, st.now(), after,
                                             args["limit"])
    return {"items": items, "next_cursor": encode_cursor(last) if last else None}


@blp.route("/<manager_id>/tasks", methods=["GET"])
@blp.arguments(ManagerTasksQuery, location="query")
@blp.alt_response(200, schema=HeldTaskList, success=True)
@allow("manage")
def manager_tasks(args: dict[str, Any], manager_id: str) -> Any:
    """The tasks routed to `manager:<id>`, oldest first."""
    _own(manager_id)
    route = f"manager:{manager_id}"
    with state().transaction() as conn:
        found = listing.task_page(conn, state=args.get("state"), route=route,
                                  after=after(args.get("cursor")), limit=args["limit"])
    return page_json(found)
