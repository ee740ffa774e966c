"""The tasks API's documents: tasks listed, pulled (leased) and answered with a result.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adapters.http.schemas import AtField, Out
from engine.playbooks.playbook import RESULT_STATUSES


class TaskOut(Out):
    id = fields.Integer()
    ticket_id = fields.Integer()
    customer_id = fields.String()
    step = fields.String()
    channel = fields.String()
    route = fields.String(allow_none=True)
    state = fields.String()
    idempotency_key = fields.String()
    due_at = fields.String()
    payload = fields.Dict()
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class TaskList(Out):
    items = fields.List(fields.Nested(TaskOut))
    next_cursor = fields.String(allow_none=True)


class PullQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class LeasedTaskOut(TaskOut):
    lease_expires_at = fields.String(allow_none=True, metadata={
        "description": "held for this puller until then; null on a task listed as cancelled"})


class LeasedTaskList(Out):
    items = fields.List(fields.Nested(LeasedTaskOut))
    next_cursor = fields.String(allow_none=True)


class TaskResultIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(RESULT_STATUSES))
    at = AtField(metadata={"description": "when it happened (default: now)"})
    detail = fields.Raw(allow_none=True, metadata={"description": "any JSON, kept as sent"})


class TaskResultOut(LeasedTaskOut):
    result_at = fields.String(allow_none=True)
    detail = fields.Raw(allow_none=True)
