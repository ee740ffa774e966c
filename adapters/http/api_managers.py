"""An account manager's tasks: `GET /managers/<id>/tasks`.

Execution routes a `route: manager` step to `manager:<the customer's manager>`; a user
holding the role `manager:<id>` is that manager (engine.users.User.routes, the mapping the
console's desk uses too). A manager reads their own tasks here and reports on them through
`POST /tasks/<id>/result`; admins read anyone's.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from adapters.http.api_tasks import STATES, HeldTaskList, after, page_json
from adapters.http.auth import allow
from adapters.http.contract import Blueprint
from adapters.http.state import state
from adapters.tasks import listing
from engine.errors import Forbidden

blp = Blueprint("managers", __name__, url_prefix="/managers",
                description="Account managers: the tasks routed to them")


class ManagerTasksQuery(Schema):
    state = fields.String(validate=validate.OneOf(STATES),
                          metadata={"description": "only tasks in this state (default: all)"})
    cursor = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


@blp.route("/<manager_id>/tasks", methods=["GET"])
@blp.arguments(ManagerTasksQuery, location="query")
@blp.alt_response(200, schema=HeldTaskList, success=True)
@allow("manage")
def manager_tasks(args: dict[str, Any], manager_id: str) -> Any:
    """The tasks routed to `manager:<id>`, oldest first."""
    route = f"manager:{manager_id}"
    if "admin" not in g.user.roles and route not in g.user.routes():
        raise Forbidden(f"{g.user.name} answers {', '.join(sorted(g.user.routes())) or 'no route'}"
                        f", not {route}")
    with state().transaction() as conn:
        found = listing.task_page(conn, state=args.get("state"), route=route,
                                  after=after(args.get("cursor")), limit=args["limit"])
    return page_json(found)
