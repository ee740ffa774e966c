"""The tickets API's documents: the list's query, a ticket planned, approved or refused, and
a ticket with its members and levels.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adapters.http.schemas import AtField, NonEmpty, Out
from engine.tickets import ticket as tk


class TicketsQuery(Schema):
    state = fields.String(validate=validate.OneOf(tk.STATES))
    playbook = fields.String()
    overdue = fields.Boolean(load_default=False)
    cursor = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class TicketIn(Schema):
    playbook = fields.String(required=True, validate=NonEmpty)
    at = AtField(metadata={"description": "the plan's moment (default: now)"})


class ApproveIn(Schema):
    comment = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True, metadata={
        "description": "the level being decided, as the caller saw it: a repeat for that level "
                       "answers 200 with repeat=true, another level already decided is 409"})


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=NonEmpty)
    level = fields.Integer(allow_none=True, metadata={
        "description": "the level being decided (reject only), as for approve"})


class TicketOut(Out):
    id = fields.Integer()
    playbook = fields.String()
    version = fields.Integer()
    playbook_hash = fields.String()
    workflow = fields.String()
    state = fields.String()
    trigger = fields.String()
    window_key = fields.String(allow_none=True)
    at = fields.String(allow_none=True, metadata={"description": "the plan's moment"})
    planned_at = fields.String(allow_none=True)
    planned_by = fields.String()
    audience = fields.Dict()
    steps = fields.Dict(keys=fields.String(), values=fields.Integer())
    levels = fields.List(fields.Dict())
    approvals = fields.List(fields.Dict())
    next_level = fields.Integer(allow_none=True)
    deadline = fields.String(allow_none=True)
    repeat = fields.Boolean(metadata={"description": "approve/reject only: true when this "
                                      "person had already made this decision; nothing changed"})
    started_at = fields.String(allow_none=True)
    evaluate_after = fields.String(allow_none=True)
    closed_at = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    power = fields.Dict(allow_none=True, metadata={
        "description": "engine.measurement.power at planning: minimum detectable effect at 80% "
                       "power, base rate and its source, holdout needed (docs/EVALUATION.md)"})
    warnings = fields.List(fields.Dict(), metadata={
        "description": "what an approver must weigh, each {code, message}: under_powered"})


class TicketDetailOut(TicketOut):
    rehearsal = fields.Dict(allow_none=True)
    card = fields.Dict(allow_none=True, metadata={
        "description": "the approval card (engine/tickets/approval_card.py): who, what, when, "
                       "cost, overlap with executing tickets, why each level applies, the last "
                       "measured result, and for a standing ticket what approving starts; "
                       "null when the ticket's playbook version cannot be read"})
    audit = fields.List(fields.Dict())
    results = fields.Dict(allow_none=True)


class TicketList(Out):
    items = fields.List(fields.Nested(TicketOut))
    next_cursor = fields.String(allow_none=True)
