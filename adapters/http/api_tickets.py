"""Tickets: list, show, plan by hand, approve, reject, cancel, and their tasks.

The ticket service (adapters.tickets.service) owns the rules; here each request is one transaction
and the user comes from the token. Roles are checked before the service runs; the service
then refuses the planner, the owner and second approvals by one person (403) before it
looks at the state (409). Repeating one's own decision is answered 200 with `repeat: true`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from adapters.http.api_tasks import STATES, HeldTaskList, after, page_json
from adapters.http.auth import allow
from adapters.http.contract import Blueprint
from adapters.http.state import state
from adapters.http.ticket_schemas import (
    ApproveIn,
    ReasonIn,
    TicketDetailOut,
    TicketIn,
    TicketList,
    TicketOut,
    TicketsQuery,
)
from adapters.tickets import card as approval
from adapters.tickets import service as tickets
from engine.errors import Conflict, Invalid
from engine.formats.values import given_instant

blp = Blueprint("tickets", __name__, url_prefix="/tickets",
                description="Campaign tickets: plan, approve, execute, evaluate")



class TicketTasksQuery(Schema):
    state = fields.String(validate=validate.OneOf(STATES),
                          metadata={"description": "only tasks in this state (default: all)"})
    cursor = fields.String(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def _now() -> dt.datetime:
    return state().now()


@blp.route("", methods=["GET"])
@blp.arguments(TicketsQuery, location="query")
@blp.alt_response(200, schema=TicketList, success=True)
@allow("read")
def list_tickets(args: dict[str, Any]) -> Any:
    """Newest first; `overdue=true`: open tickets past their SLA deadline."""
    with state().transaction() as conn:
        items, next_cursor = tickets.listing(
            conn, state=args.get("state"), playbook=args.get("playbook"),
            overdue=args["overdue"], now=_now(), cursor=args.get("cursor"),
            limit=args["limit"])
    return {"items": items, "next_cursor": next_cursor}


@blp.route("", methods=["POST"])
@blp.arguments(TicketIn)
@blp.alt_response(201, schema=TicketOut, success=True)
@allow("design")
def plan_ticket(body: dict[str, Any]) -> Any:
    """Plan a ticket by hand for an installed playbook; the caller is its planner."""
    st = state()
    playbook = st.library.playbooks.get(body["playbook"])
    if playbook is None:
        raise Invalid(f"unknown playbook {body['playbook']!r}",
                      {"playbook": [f"expected one of {', '.join(sorted(st.library.playbooks))}"]})
    at = given_instant(body.get("at"), st.config.timezone, "at", st.now())
    with st.transaction(write=True) as conn:
        ticket = tickets.plan(conn, st.config, st.library, playbook, at, "manual", g.user.name)
    if ticket is None:
        raise Conflict(f"{playbook.id} was already planned for {at.isoformat()}")
    return ticket, 201


@blp.route("/<int:ticket_id>", methods=["GET"])
@blp.alt_response(200, schema=TicketDetailOut, success=True)
@allow("read")
def show_ticket(ticket_id: int) -> Any:
    """The ticket with its rehearsal, audit trail, results and approval card."""
    st = state()
    with st.transaction() as conn:
        return {**tickets.show(conn, ticket_id),
                "card": approval.card(conn, st.config, st.library, ticket_id)}


@blp.route("/<int:ticket_id>/approve", methods=["POST"])
@blp.arguments(ApproveIn)
@blp.alt_response(200, schema=TicketOut, success=True)
@allow("approve")
def approve_ticket(body: dict[str, Any], ticket_id: int) -> Any:
    """The next level's approval; the last one starts execution."""
    st = state()
    with st.transaction(write=True) as conn:
        return tickets.approve(conn, st.config, st.library, ticket_id, g.user,
                               body.get("comment"), _now(), body.get("level"))


@blp.route("/<int:ticket_id>/reject", methods=["POST"])
@blp.arguments(ReasonIn)
@blp.alt_response(200, schema=TicketOut, success=True)
@allow("approve")
def reject_ticket(body: dict[str, Any], ticket_id: int) -> Any:
    st = state()
    with st.transaction(write=True) as conn:
        return tickets.reject(conn, st.config, st.library, ticket_id, g.user, body["reason"],
                              _now(), body.get("level"))


@blp.route("/<int:ticket_id>/cancel", methods=["POST"])
@blp.arguments(ReasonIn)
@blp.alt_response(200, schema=TicketOut, success=True)
@allow("cancel")
def cancel_ticket(body: dict[str, Any], ticket_id: int) -> Any:
    """Stop a ticket; an executing ticket's open tasks are cancelled with it."""
    st = state()
    with st.transaction(write=True) as conn:
        return tickets.cancel(conn, st.config, st.library, ticket_id, g.user, body["reason"],
                              _now())


@blp.route("/<int:ticket_id>/tasks", methods=["GET"])
@blp.arguments(TicketTasksQuery, location="query")
@blp.alt_response(200, schema=HeldTaskList, success=True)
@allow("read")
def ticket_tasks(args: dict[str, Any], ticket_id: int) -> Any:
    """The ticket's tasks in id order, a page at a time (a ticket may have millions)."""
    with state().transaction() as conn:
        found = tickets.task_page(conn, ticket_id, state=args.get("state"),
                                  after=after(args.get("cursor")), limit=args["limit"])
    return page_json(found)
