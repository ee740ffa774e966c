"""The supervision page (督办): a supervisor's managers with their open and overdue tasks and
this week's connect and success rates, a warning where a queue is overdue beyond the
threshold, and a form to reassign (转派) a manager's waiting tasks to another manager of the
team or to a store.

The page needs the API's `supervise` permission; a `supervisor:<team>` sees their teams only
(engine.tasks.supervision `teams_for`), admin every team. It renders adapters.tasks.supervision's
board and sends the form to adapters.tasks.reassign, all or nothing, as `POST /tasks/reassign`.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from adapters.http.console.access import bp, page
from adapters.http.console.labels import channel_label
from adapters.http.console.queries import ReassignForm, SupervisionQuery
from adapters.http.contract import invalid, query_args
from adapters.http.state import state
from adapters.tasks import listing, supervision
from adapters.tasks import reassign as reassigning
from engine.errors import Forbidden
from engine.tasks import task as tk

QUEUE_PAGE = 200  # a manager's waiting tasks listed for reassignment, oldest first


@bp.get("/supervision")
@page("supervise")
def supervision_page() -> Response:
    st = state()
    args = query_args(SupervisionQuery())
    teams = st.config.supervision.teams_for(g.user.roles)
    shown = teams
    if args.get("team"):
        if args["team"] not in teams:
            raise Forbidden(_("You do not supervise team %(team)s.", team=args["team"]))
        shown = frozenset({args["team"]})
    managers = st.config.supervision.supervised(shown)
    chosen = args.get("manager") or None
    if chosen is not None and chosen not in managers:
        raise Forbidden(_("You do not supervise manager %(manager)s.", manager=chosen))
    queue: list[listing.HeldTask] = []
    with st.transaction() as conn:
        board = supervision.board(conn, st.config.supervision, st.config.channels, managers,
                                  st.now(), st.config.timezone)
        if chosen is not None:
            queue = listing.task_page(conn, state=tk.PENDING, route=supervision.route_of(chosen),
                                      limit=QUEUE_PAGE).items
    overdue_before = {ch: st.config.supervision.overdue_since(ch, st.now()).isoformat()
                      for ch in {t["channel"] for t in queue}}
    stores = st.config.supervision.stores
    reply = make_response(render_template(
        "console/supervision.html", board=board, teams=sorted(teams), team=args.get("team"),
        chosen=chosen, queue=queue, overdue_before=overdue_before,
        targets=sorted(managers - {chosen} if chosen else managers), stores=stores))
    reply.headers["Cache-Control"] = "private, no-store"
    return reply


@bp.post("/supervision/reassign")
@page("supervise")
def reassign_page() -> Response:
    st = state()
    form = _form()
    kind, _sep, name = form["target"].partition(":")
    target = reassigning.checked_target(st.config, g.user.roles,
                                        manager=name if kind == "manager" else None,
                                        channel=name if kind == "channel" else None)
    with st.transaction(write=True) as conn:
        moved = reassigning.reassign_as(conn, st.config, g.user, form["task"], target,
                                        form.get("reason"), st.now())
    named = (_("Manager %(id)s", id=target.manager) if target.manager is not None
             else channel_label(target.channel))
    flash(_("%(n)s tasks reassigned to %(target)s.", n=len(moved), target=named), "ok")
    return redirect(url_for("console.supervision_page", manager=form.get("back") or None), 303)


def _form() -> dict[str, Any]:
    """The form's fields (ticked tasks as a list), empty ones left out; a bad one is a 400
    naming it."""
    sent: dict[str, Any] = {k: v.strip() for k, v in request.form.items() if v.strip()}
    sent["task"] = request.form.getlist("task")
    try:
        found: dict[str, Any] = ReassignForm().load(sent)
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {
            "_schema": error.messages}
        raise invalid(messages) from error
    return found
