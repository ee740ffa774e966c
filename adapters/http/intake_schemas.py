"""The customers and events APIs' documents: a customer, an upsert's counts, a customer's
explain query, and events in with the tickets and tasks they triggered.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from adapters.http.schemas import AtField, Out
from adapters.http.task_schemas import TaskOut


class ExplainQuery(Schema):
    playbook = fields.String(metadata={"description": "a playbook id (default: all)"})
    at = AtField()


class CustomerOut(Out):
    """DESIGN 3 fields and the attributes config.yaml declares, as stored (null if unset)."""

    id = fields.String()
    joined_on = fields.Date()
    tags = fields.List(fields.String())
    opt_out = fields.List(fields.String())
    attrs = fields.Dict()
    computed = fields.Dict(metadata={"description": "tier, stage, tenure_days, "
                                                   "days_to_birthday now"})


class UpsertOut(Out):
    received = fields.Integer()
    inserted = fields.Integer()
    updated = fields.Integer()
    ignored_fields = fields.List(fields.String())
    assigned = fields.Integer(metadata={"description": "customers the assignment rules gave "
                                                         "a manager afterwards"})


class EventIn(Schema):
    id = fields.String()
    customer_id = fields.String(required=True)
    type = fields.String(required=True)
    at = AtField(required=True)
    data = fields.Dict()


class TriggeredOut(Out):
    event = fields.String(allow_none=True)
    seq = fields.Integer()
    customer_id = fields.String()
    playbook = fields.String()
    version = fields.Integer()
    ticket = fields.Integer(metadata={"description": "the standing ticket entered, if any"})
    tasks = fields.List(fields.Nested(lambda: TaskOut()))
    reason = fields.String(allow_none=True, metadata={
        "description": "why no task was made: unknown customer, older than trigger_max_age, "
                       "conditions not met, cooldown, opted_out, control group, no approved "
                       "standing ticket for this version, no step applies, gathered for the "
                       "daily ticket of <YYYY-MM-DD>"})


class EventsOut(Out):
    received = fields.Integer()
    stored = fields.Integer()
    ignored = fields.Integer(metadata={"description": "ids already stored (client retries)"})
    unknown_customers = fields.List(fields.String())
    triggered = fields.List(fields.Nested(TriggeredOut), metadata={
        "description": "one item per new event x event-triggered playbook of its type"})
