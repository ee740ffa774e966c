"""Tasks over HTTP: adapters pull and report (`GET /channels/<ch>/tasks`,
`POST /tasks/<id>/result`), and operators read and retry dead letters (`GET /tasks`,
`POST /tasks/<id>/retry`).

The role table lets the caller in; the binding is checked next (`auth.check_channel`,
`auth.check_task`), before anything is written, so a wrong channel or route is a 403 however
the task stands. Each request is one transaction (adapters.tasks.service does the claiming).
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from adapters.http.auth import allow, check_channel, check_task
from adapters.http.contract import Blueprint
from adapters.http.paging import decode_cursor, encode_cursor
from adapters.http.schemas import Out
from adapters.http.state import state
from adapters.http.task_schemas import (
    LeasedTaskList,
    PullQuery,
    TaskOut,
    TaskResultIn,
    TaskResultOut,
)
from adapters.tasks import listing
from adapters.tasks import service as task_pull
from engine.errors import Invalid, NotFound
from engine.formats.values import given_instant
from engine.limits import MAX_ID
from engine.tasks import task as tk

blp = Blueprint("tasks", __name__, description="Tasks: adapter pull, results, dead letters")
STATES = tk.STATES


class HandoffIn(Schema):
    channel = fields.String(required=True, metadata={"description": "a channel of config.yaml"})
    template = fields.String(metadata={"description": "default: the task's own template"})
    note = fields.String(allow_none=True, metadata={"description": "passed on in the payload"})


class ResultIn(TaskResultIn):
    reason = fields.String(allow_none=True, metadata={
        "description": "a reason code of config.yaml `result_reasons` (required there for some "
                       "results a person records); `wrong_number` stops the phone channels"})
    handoff = fields.Nested(HandoffIn, metadata={
        "description": "continue on another channel: a follow-up task of the same ticket"})


class ResultOut(TaskResultOut):
    handoff = fields.Nested(TaskOut, allow_none=True)


class TasksQuery(Schema):
    state = fields.String(load_default=tk.DEAD, validate=validate.OneOf(STATES))
    channel = fields.String()
    cursor = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class HeldTaskOut(TaskOut):
    attempts = fields.Integer()
    result_at = fields.String(allow_none=True)
    detail = fields.Raw(allow_none=True, metadata={"description": "a dead task's `reason`"})


class HeldTaskList(Out):
    items = fields.List(fields.Nested(HeldTaskOut))
    next_cursor = fields.String(allow_none=True)


@blp.route("/channels/<channel>/tasks", methods=["GET"])
@blp.arguments(PullQuery, location="query")
@blp.alt_response(200, schema=LeasedTaskList, success=True)
@allow("pull")
def pull_tasks(args: dict[str, Any], channel: str) -> Any:
    """Lease up to `limit` due tasks of the channel (config `task_lease`, default 5m); a
    task not reported on by then is due again. Tasks cancelled while held come first, once,
    with state `cancelled` and no lease: drop them."""
    check_channel(g.user, channel)
    st = state()
    if channel not in st.config.channels:
        raise NotFound(f"no channel {channel!r} in {st.config.path}")
    with st.transaction(write=True) as conn:
        items = task_pull.pull(conn, channel, args["limit"], st.config.task_lease,
                               state().now(), st.config.policy)
    return {"items": items, "next_cursor": None}


@blp.route("/tasks/<int:task_id>/result", methods=["POST"])
@blp.arguments(ResultIn)
@blp.alt_response(200, schema=ResultOut, success=True)
@allow("report")
def report_result(body: dict[str, Any], task_id: int) -> Any:
    """Report what happened; repeating a report is harmless and an earlier-stage result
    never replaces a later one. `accepted` / `converted` cancel the customer's other open
    tasks of the ticket (held ones are listed as cancelled on their channel's next pull).
    Adapters report on their channels' tasks, account managers on tasks routed to them.
    `handoff` makes one follow-up task on another channel (docs/CHANNELS.md)."""
    st = state()
    now = st.now()
    at = given_instant(body.get("at"), st.config.timezone, "at", now)
    handoff = body.get("handoff")
    if handoff is not None and handoff["channel"] not in st.config.channels:
        raise Invalid(f"handoff.channel: no channel {handoff['channel']!r}", {"handoff": {
            "channel": [f"expected one of {', '.join(sorted(st.config.channels))}"]}})
    with st.transaction(write=True) as conn:
        row = task_pull.task(conn, task_id)
        check_task(g.user, row.channel, row.route)
        reason = st.config.reasons.check(body["status"], body.get("reason"),
                                         by_person=row.route.startswith(tk.PERSON_ROUTE))
        result = task_pull.record_result(conn, row, body["status"], at, body.get("detail"), now,
                                  reason)
        result["handoff"] = None if handoff is None else task_pull.handoff(
            conn, row, handoff["channel"], handoff.get("template"), handoff.get("note"), now)
    return result


@blp.route("/tasks", methods=["GET"])
@blp.arguments(TasksQuery, location="query")
@blp.alt_response(200, schema=HeldTaskList, success=True)
@allow("pull")
def list_tasks(args: dict[str, Any]) -> Any:
    """Tasks in one state, oldest first: by default the dead letters, each with the reason
    in `detail.reason`. A bound adapter sees its own channels only."""
    user = g.user
    channels: set[str] | None = None
    if "channel" in args:
        check_channel(user, args["channel"])
        channels = {args["channel"]}
    elif not user.roles & {"adapter", "admin"}:
        channels = user.channels()
    with state().transaction() as conn:
        found = listing.task_page(conn, state=args["state"], channels=channels,
                                  after=after(args.get("cursor")), limit=args["limit"])
    return page_json(found)


@blp.route("/tasks/<int:task_id>/retry", methods=["POST"])
@blp.alt_response(200, schema=HeldTaskOut, success=True)
@allow("retry")
def retry_task(task_id: int) -> Any:
    """Put a dead task back: `pending`, due now, its attempts counted afresh, the same
    idempotency key (a receiver that saw it before still recognises it). Only dead tasks:
    anything else is a 409."""
    with state().transaction(write=True) as conn:
        return task_pull.retry(conn, task_id, g.user.name, state().now())


def after(cursor: str | None) -> int | None:
    """The task id an opaque cursor of a task list continues after."""
    if cursor is None:
        return None
    last = decode_cursor(cursor)
    if not (last.isascii() and last.isdigit() and int(last) <= MAX_ID):
        raise Invalid("cursor: not a cursor this service gave out",
                      {"cursor": ["expected the next_cursor of a previous page"]})
    return int(last)


def page_json(found: listing.TaskPage) -> dict[str, Any]:
    """A task page as the list endpoints answer it, its cursor opaque."""
    return {"items": found.items, "next_cursor": None if found.next_after is None
            else encode_cursor(str(found.next_after))}
