"""Supervision over HTTP (督办): `GET /supervision` (the board of a supervisor's managers),
`POST /tasks/reassign` (转派, all or nothing) and `GET /tasks/<id>/audit`.

A user with `supervisor:<team>` sees and reassigns the tasks of the managers config.yaml lists
under `teams.<team>.managers` and nobody else's; admin sees every team. Which teams and
managers a user may touch is decided here, before anything is read; the services in
adapters.tasks count and move.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from adapters.http.auth import allow
from adapters.http.contract import Blueprint
from adapters.http.schemas import Out
from adapters.http.state import state
from adapters.tasks import reassign as reassigning
from adapters.tasks import supervision
from engine.config import Config
from engine.errors import Forbidden
from engine.limits import MAX_ID
from engine.tickets.users import User

blp = Blueprint("supervise", __name__, description="Supervision: managers' queues, reassignment")


class BoardQuery(Schema):
    team = fields.String(metadata={"description": "one of the caller's teams (default: all)"})


class ManagerLoadOut(Out):
    manager = fields.String()
    team = fields.String(allow_none=True)
    open = fields.Integer()
    overdue = fields.Integer()
    warning = fields.Boolean()
    results = fields.Integer()
    connected = fields.Integer()
    succeeded = fields.Integer()
    connect_rate = fields.Float(allow_none=True)
    success_rate = fields.Float(allow_none=True)


class BoardOut(Out):
    teams = fields.List(fields.String())
    week_start = fields.String()
    week_end = fields.String()
    overdue_warning = fields.Integer()
    managers = fields.List(fields.Nested(ManagerLoadOut))


class TargetIn(Schema):
    manager = fields.String(validate=validate.Length(min=1, max=150),
                            metadata={"description": "a manager id of the caller's teams"})
    channel = fields.String(validate=validate.Length(min=1, max=32),
                            metadata={"description": "a channel of `supervision.stores`"})

    @validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if len(data) != 1:
            raise ValidationError("give exactly one of manager, channel", "_schema")


class ReassignIn(Schema):
    ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
                      required=True, validate=validate.Length(min=1,
                                                              max=reassigning.MAX_TASKS))
    target = fields.Nested(TargetIn, required=True)
    reason = fields.String(validate=validate.Length(max=500), allow_none=True)


class MovedOut(Out):
    id = fields.Integer()
    from_route = fields.String()
    to_route = fields.String()
    from_channel = fields.String()
    to_channel = fields.String()


class ReassignOut(Out):
    moved = fields.List(fields.Nested(MovedOut))


class AuditOut(Out):
    items = fields.List(fields.Dict())


def visible_teams(user: User, config: Config) -> frozenset[str]:
    return config.supervision.teams_for(user.roles)


def supervised_routes(user: User, config: Config) -> frozenset[str]:
    return config.supervision.routes_for(user.roles)


@blp.route("/supervision", methods=["GET"])
@blp.arguments(BoardQuery, location="query")
@blp.alt_response(200, schema=BoardOut, success=True)
@allow("supervise")
def board(args: dict[str, Any]) -> Any:
    """Each supervised manager's open and overdue tasks (overdue: waiting longer than the
    channel's `supervision.sla` past its due time), results this week (Monday 00:00 in the
    configured timezone) with connect and success rates, and `warning` when the overdue count
    reaches `supervision.overdue_warning`."""
    st = state()
    teams = visible_teams(g.user, st.config)
    if "team" in args:
        if args["team"] not in teams:
            raise Forbidden(f"{g.user.name} supervises "
                            f"{', '.join(sorted(teams)) or 'no team'}, not {args['team']}")
        teams = frozenset({args["team"]})
    managers = st.config.supervision.supervised(teams)
    with st.transaction() as conn:
        found = supervision.board(conn, st.config.supervision, st.config.channels, managers,
                                  st.now(), st.config.timezone)
    return {"teams": sorted(teams), **found}


@blp.route("/tasks/reassign", methods=["POST"])
@blp.arguments(ReassignIn)
@blp.alt_response(200, schema=ReassignOut, success=True)
@allow("supervise")
def reassign(body: dict[str, Any]) -> Any:
    """Hand waiting tasks to another manager of the caller's teams or to a store channel,
    all or nothing: an unknown id is a 404, a task of a queue the caller does not supervise
    a 403, one no longer waiting a 409, each naming the task, and then nothing moves. Every
    task moved gets an audit row (`GET /tasks/<id>/audit`)."""
    st = state()
    raw = body["target"]
    target = reassigning.checked_target(st.config, g.user.roles, raw.get("manager"),
                                        raw.get("channel"))
    with st.transaction(write=True) as conn:
        moved = reassigning.reassign_as(conn, st.config, g.user, body["ids"], target,
                                        body.get("reason"), st.now())
    return {"moved": [m.__dict__ for m in moved]}


@blp.route("/tasks/<int:task_id>/audit", methods=["GET"])
@blp.alt_response(200, schema=AuditOut, success=True)
@allow("supervise")
def task_audit(task_id: int) -> Any:
    """The task's audit rows, oldest first: who reassigned it, when, from where to where. A
    supervisor reads those of tasks that were, or are, in their managers' queues."""
    st = state()
    routes = supervised_routes(g.user, st.config)
    with st.transaction() as conn:
        items = reassigning.history(conn, task_id)
        current = reassigning.current_route(conn, task_id)
    touched = {current, *(i["from_route"] for i in items), *(i["to_route"] for i in items)}
    if "admin" not in g.user.roles and not touched & routes:
        raise Forbidden(f"task {task_id} was never in a queue {g.user.name} supervises")
    return {"items": items}
