"""The manager's desk: an account manager's own customer tasks, and the results they record.

A user is an account manager for manager id M when they hold the role `manager:M` (`tend
users add lin --role manager:m007`); M is the `manager` value of the customers they look
after, and execution routes those customers' `route: manager` tasks to `manager:M`
(`User.routes`, which `GET /managers/<id>/tasks` uses too). The page needs the API's
`manage` permission; a result goes through `auth.check_task` and `task_pull.report`, as
`POST /tasks/<id>/result` does, so it keeps the furthest result, stores the `task_result`
event once and closes the customer's other channels on acceptance; on a task no channel
had (suppressed, cancelled, dead) it is refused with a 409, as the API refuses it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.engine import Connection
from werkzeug.wrappers import Response

from adapters.db.schema import tasks, tickets
from adapters.http.auth import check_task
from adapters.http.console.access import bp, page
from adapters.http.console.i18n import state_label
from adapters.http.state import state
from adapters.tasks import service as task_pull
from engine import task as tk
from engine.errors import Conflict, ValidationError

RESULTS = ("connected", "no_answer", "accepted", "declined")
# Tasks a call can still change (engine.task): not answered for good, not suppressed,
# cancelled or dead.
ACTIONABLE = tk.actionable(RESULTS)
SHOWN = 100


@bp.get("/desk")
@page("manage")
def desk() -> str:
    st = state()
    now = state().now()
    month = _month_start(now, st.config.timezone)
    with st.transaction() as conn:
        open_tasks = _open_tasks(conn, sorted(g.user.routes()))
        done = _results_since(conn, sorted(g.user.routes()), month)
    return render_template("console/desk.html", tasks=open_tasks, done=done,
                           results=RESULTS, month=month, managed=sorted(g.user.managed()))


def _month_start(now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    local = now.astimezone(tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _open_tasks(conn: Connection, mine: list[str]) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(tasks, tickets.c.playbook)
        .join(tickets, tickets.c.id == tasks.c.ticket_id)
        .where(tasks.c.route.in_(mine), tasks.c.state.in_(ACTIONABLE))
        .order_by(tasks.c.due_at, tasks.c.id).limit(SHOWN)).mappings().all()
    return [dict(row) for row in rows]


def _results_since(conn: Connection, mine: list[str], since: dt.datetime) -> dict[str, Any]:
    counts: dict[str, int] = dict(conn.execute(
        sa.select(tasks.c.state, sa.func.count())
        .where(tasks.c.route.in_(mine), tasks.c.result_at >= since)
        .group_by(tasks.c.state)).all())
    recent = conn.execute(
        sa.select(tasks.c.id, tasks.c.customer_id, tasks.c.state, tasks.c.result_at,
                  tasks.c.detail)
        .where(tasks.c.route.in_(mine), tasks.c.result_at >= since)
        .order_by(tasks.c.result_at.desc(), tasks.c.id.desc()).limit(10)).mappings().all()
    return {"counts": counts, "total": sum(counts.values()), "recent": [dict(r) for r in recent]}


@bp.post("/desk/tasks/<int:task_id>/result")
@page("manage")
def record(task_id: int) -> Response:
    status = request.form.get("status", "")
    if status not in RESULTS:
        raise ValidationError(f"expected one of {', '.join(RESULTS)}, got {status!r}",
                              field="status")
    note = request.form.get("note", "").strip()
    st = state()
    now = state().now()
    with st.transaction(write=True) as conn:
        row = task_pull.task(conn, task_id)
        check_task(g.user, row.channel, row.route)
        try:
            task_pull.report(conn, row, status, now, {"by": g.user.name, "note": note or None},
                             now)
        except Conflict as refused:
            raise Conflict(_("This task is %(state)s: no result can be recorded on it.",
                             state=state_label(row.state))) from refused
    flash(_("Result recorded for %(customer)s.", customer=row.customer_id), "ok")
    return redirect(url_for("console.desk"), 303)
