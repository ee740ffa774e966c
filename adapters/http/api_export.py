"""`GET /tasks/export`: the task list as a CSV or XLSX file, streamed.

The same filters as the task lists (adapters.tasks.listing.task_filters) plus `reason`;
a supervisor gets their managers' tasks only, the readers (viewer, designer, approvers,
admin) any. Phones are masked unless the caller's roles may see them (engine.privacy).
The body is a generator: the first CSV bytes leave before the last row is read.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g
from marshmallow import Schema, fields, validate

from adapters.http.api_supervise import supervised_routes
from adapters.http.api_tasks import STATES
from adapters.http.auth import allow
from adapters.http.contract import Blueprint
from adapters.http.state import state
from adapters.tasks import export
from adapters.tasks.listing import task_filters
from adapters.tasks.supervision import route_of
from engine.errors import Forbidden, Invalid
from engine.limits import MAX_ID
from engine.privacy import may_see_phones

blp = Blueprint("export", __name__, description="Task exports: CSV and XLSX")


class ExportQuery(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(export.FORMATS))
    lang = fields.String(load_default="zh", validate=validate.OneOf(export.LANGUAGES),
                         metadata={"description": "the headers' and reason labels' language"})
    state = fields.String(validate=validate.OneOf(STATES))
    channel = fields.String(validate=validate.Length(min=1, max=32))
    manager = fields.String(validate=validate.Length(min=1, max=150),
                            metadata={"description": "tasks routed to this manager"})
    ticket_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    reason = fields.String(validate=validate.Length(min=1, max=32))


@blp.route("/tasks/export", methods=["GET"])
@blp.arguments(ExportQuery, location="query")
@blp.alt_response(200, content_type="text/csv", success=True, description=(
    "CSV by default; `format=xlsx`: " + export.CONTENT_TYPES["xlsx"]))
@allow("export")
def export_tasks(args: dict[str, Any]) -> Any:
    """The tasks matching the filters, oldest first, as an attachment: CSV in UTF-8 with a
    BOM (Excel opens it in Chinese) or XLSX; times in the configured timezone, reasons with
    their labels in `lang`."""
    st = state()
    user = g.user
    if "reason" in args and args["reason"] not in st.config.reasons.codes:
        raise Invalid(f"reason: no reason code {args['reason']!r}", {"reason": [
            f"expected one of {', '.join(st.config.reasons.codes)}"]})
    routes = None
    readers = {"viewer", "designer", "admin", *st.config.roles}
    if not user.roles & readers:  # a supervisor only: their managers' queues
        routes = supervised_routes(user, st.config)
        if "manager" in args and route_of(args["manager"]) not in routes:
            raise Forbidden(f"{user.name} does not supervise manager {args['manager']}")
    where = task_filters(state=args.get("state"),
                         channels=None if "channel" not in args else {args["channel"]},
                         route=None if "manager" not in args else route_of(args["manager"]),
                         routes=routes, ticket_id=args.get("ticket_id"),
                         reason=args.get("reason"))
    spec = export.ExportSpec(where, args["format"], args["lang"], st.config.timezone,
                             st.config.reasons, show_phones=may_see_phones(user.roles))
    name = export.file_name(spec, st.now())
    return Response(export.stream(st.engine, spec), status=200,
                    content_type=export.CONTENT_TYPES[spec.format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})
