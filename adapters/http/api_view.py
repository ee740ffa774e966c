"""The unified customer view over HTTP (DESIGN 10): `GET /customers/<id>/view?channel=` and
`POST /customers/<id>/contacts`, for the people serving customers on every channel.

The role table lets the caller in; `auth.check_customer` binds them next (an agent to its
channels, a manager to their customers), before the customer is looked up, so a customer
outside the caller's reach is a 403 whether or not it exists. adapters.view does the work.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from adapters.db.engines import load_customer, writer_turn
from adapters.http.auth import allow, check_customer, is_contact
from adapters.http.contract import Blueprint
from adapters.http.schemas import AtField, Out
from adapters.http.state import state
from adapters.view import contacts, service
from engine.errors import Invalid
from engine.playbooks.offer import LANGUAGES, offer_channels
from engine.tasks import contact as ct

blp = Blueprint("customer_view", __name__, url_prefix="/customers",
                description="The unified customer view and the contacts every channel shares")


class ViewQuery(Schema):
    channel = fields.String(required=True, metadata={
        "description": "the channel the view is opened on (a channel or contact channel of "
                       "config.yaml)"})
    lang = fields.String(load_default="zh", validate=validate.OneOf(LANGUAGES), metadata={
        "description": "the language of offer titles and scripts"})


class ReferIn(Schema):
    channel = fields.String(required=True, metadata={"description": "a channel of config.yaml"})
    route = fields.String(validate=validate.OneOf(contacts.ROUTES), metadata={
        "description": "pool (default) or manager: the customer's account manager"})


class ContactIn(Schema):
    id = fields.String(validate=validate.Length(min=1, max=48), metadata={
        "description": "the client's id for the contact: a repeat writes nothing"})
    channel = fields.String(required=True, metadata={"description": "a channel of config.yaml"})
    offer = fields.String(validate=validate.Length(min=1, max=64))
    ticket_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    outcome = fields.String(required=True, validate=validate.OneOf(ct.OUTCOMES))
    note = fields.String(validate=validate.Length(max=2000))
    refer_to = fields.Nested(ReferIn, metadata={"description": "required with referred"})
    at = AtField(metadata={"description": "when it happened (default: now)"})


class ContactOut(Out):
    id = fields.String()
    customer_id = fields.String()
    channel = fields.String()
    offer = fields.String(allow_none=True)
    ticket_id = fields.Integer(allow_none=True)
    outcome = fields.String()
    note = fields.String(allow_none=True)
    by = fields.String()
    at = fields.String()
    refer_to = fields.Dict(allow_none=True)
    task_id = fields.Integer(allow_none=True, metadata={"description": "a referral's task"})
    recorded_at = fields.String()


class ViewCustomerOut(Out):
    id = fields.String()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "masked: 138****5678"})
    tier = fields.String()
    stage = fields.String()
    tenure_days = fields.Integer(allow_none=True)
    manager = fields.String(allow_none=True)


class ViewTaskOut(Out):
    id = fields.Integer()
    channel = fields.String()
    step = fields.String()
    state = fields.String()
    ticket_id = fields.Integer()


class ControlOut(Out):
    ticket_id = fields.Integer()
    playbook = fields.String()


class TrajectoryOut(Out):
    at = fields.String()
    channel = fields.String()
    offer = fields.String(allow_none=True)
    outcome = fields.String()
    by = fields.String()
    note = fields.String(allow_none=True)


class PolicyOut(Out):
    allowed = fields.Boolean()
    reason = fields.String(allow_none=True)
    until = fields.String(allow_none=True)


class ViewOut(Out):
    customer = fields.Nested(ViewCustomerOut)
    offers = fields.List(fields.Dict())
    control = fields.List(fields.Nested(ControlOut))
    open_tasks = fields.List(fields.Nested(ViewTaskOut))
    trajectory = fields.List(fields.Nested(TrajectoryOut))
    policy = fields.Dict(keys=fields.String(), values=fields.Nested(PolicyOut))


def _channel(channel: str, name: str) -> None:
    """A view or a contact is on a channel or a contact channel (store, hotline, online)."""
    known = offer_channels(state().config)
    if channel not in known:
        raise Invalid(f"{name}: no channel {channel!r}", {name: [
            f"expected one of {', '.join(sorted(known))}"]})


@blp.route("/<customer_id>/view", methods=["GET"])
@blp.arguments(ViewQuery, location="query")
@blp.alt_response(200, schema=ViewOut, success=True)
@allow("view")
def customer_view(args: dict[str, Any], customer_id: str) -> Any:
    """The customer as every channel sees them: masked phone, offers, control memberships,
    open tasks, trajectory and what the contact policy allows each channel now. Agents open
    it on their channels, managers for their customers, admins and viewers for anyone;
    every view is logged (who, customer, channel, when). An agent's or the manager's view
    is the customer's contact: it first enters them into the playbooks triggered by a
    contact on the channel (an admin's or viewer's read enters nobody)."""
    st = state()
    _channel(args["channel"], "channel")
    now = st.now()
    # The log (and a contact's entries) is the one write, in its own short step: on SQLite
    # views queue for it on an OS lock (engines.writer_turn), woken as the one before
    # commits, not by SQLite's sleeping retries; the reads then need no lock (bench/view.py).
    # The customer is read once, for the manager that binds the caller and for the view. A
    # log row alone is one statement, needing no transaction (State.reading: on PostgreSQL
    # no BEGIN and COMMIT round trips); entries into contact playbooks take one. All the
    # steps share the request's connection.
    with st.reading() as conn:
        found = load_customer(conn, st.config, customer_id)
    manager = None if found is None else found["manager"]
    check_customer(g.user, args["channel"], manager, False)
    contact = is_contact(g.user, args["channel"], manager)
    alone = found is not None and service.logs_alone(st.config, st.library, found,
                                                     args["channel"], now, contact)
    with writer_turn(st.engine), (st.reading() if alone else st.transaction(write=True)) \
            as conn:
        customer = service.record_opening(
            conn, st.config, st.library, customer_id, args["channel"], g.user.name, now,
            contact=contact and not alone, customer=found)
    with st.reading() as conn:
        return service.read(conn, st.config, st.library, customer, args["channel"], now,
                            args["lang"])


@blp.route("/<customer_id>/contacts", methods=["POST"])
@blp.arguments(ContactIn)
@blp.alt_response(200, schema=ContactOut, description="the contact was recorded before")
@blp.alt_response(201, schema=ContactOut, success=True)
@allow("contact")
def record_contact(body: dict[str, Any], customer_id: str) -> Any:
    """Record a contact on a channel: `handled` closes the customer's open tasks of the ticket
    on every channel, `referred` makes a task on the ticket in `refer_to.channel` with the
    note, `declined` counts toward the offer's decline limit. A repeated `id` returns the
    recorded contact (200) and writes nothing."""
    st = state()
    _channel(body["channel"], "channel")
    now = st.now()
    with st.transaction(write=True) as conn:
        check_customer(g.user, body["channel"], service.manager_of(conn, customer_id), True)
        found, new = contacts.record(conn, st.config, customer_id, body, g.user.name, now)
    return found, 201 if new else 200
