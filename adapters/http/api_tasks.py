"""Adapter pull: `GET /channels/<ch>/tasks` leases due tasks, `POST /tasks/<id>/result`
reports on one.

The role table lets adapters and admin in (`pull`); the channel binding is checked next
(`auth.check_channel`), before anything is written, so a wrong channel is a 403 however the
task stands. Each request is one write transaction (adapters.task_pull does the claiming).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g
from flask_smorest import Blueprint

from adapters import task_pull
from adapters.http.auth import allow, check_channel
from adapters.http.paging import parse_at
from adapters.http.schemas import LeasedTaskList, PullQuery, TaskResultIn, TaskResultOut
from adapters.http.state import state
from engine.errors import NotFound

blp = Blueprint("tasks", __name__, description="Adapter pull: tasks, results")


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
                               dt.datetime.now(dt.UTC))
    return {"items": items, "next_cursor": None}


@blp.route("/tasks/<int:task_id>/result", methods=["POST"])
@blp.arguments(TaskResultIn)
@blp.alt_response(200, schema=TaskResultOut, success=True)
@allow("pull")
def report_result(body: dict[str, Any], task_id: int) -> Any:
    """Report what happened; repeating a report is harmless and an earlier-stage result
    never replaces a later one. `accepted` / `converted` cancel the customer's other open
    tasks of the ticket (held ones are listed as cancelled on their channel's next pull)."""
    st = state()
    at = parse_at(body.get("at"), st.config)
    with st.transaction(write=True) as conn:
        row = task_pull.task(conn, task_id)
        check_channel(g.user, row.channel)
        return task_pull.report(conn, row, body["status"], at, body.get("detail"),
                                dt.datetime.now(dt.UTC))
