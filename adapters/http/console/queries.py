"""The query parameters each console page takes; any other, or a bad value, is a 400 naming
it (adapters.http.contract.query_args), as on the API. Forms send empty fields for "any"."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adapters.db.schema import MAX_ID
from engine import ticket as tk

Version = validate.Range(min=1, max=MAX_ID)


class InboxQuery(Schema):
    playbook = fields.String()
    state = fields.String(validate=validate.OneOf(["", *tk.STATES]))
    tier = fields.String()
    cursor = fields.String()


class PlaybookQuery(Schema):
    a = fields.Integer(validate=Version)
    b = fields.Integer(validate=Version)


class DraftQuery(Schema):
    from_playbook = fields.String(data_key="from")
    at = fields.String()


class ExplainQuery(Schema):
    customer = fields.String()
    playbook = fields.String()
    at = fields.String()


class SigninQuery(Schema):
    next = fields.String()
