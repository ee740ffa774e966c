"""The query parameters each console page takes; any other, or a bad value, is a 400 naming
it (adapters.http.contract.query_args), as on the API. Forms send empty fields for "any"."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.limits import MAX_ID
from engine.tasks import contact as ct
from engine.tickets import ticket as tk

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


class ExplainPageQuery(Schema):
    customer = fields.String()
    playbook = fields.String()
    at = fields.String()


class SigninQuery(Schema):
    next = fields.String()


class CustomerSearch(Schema):
    q = fields.String()


class CustomerQuery(Schema):
    channel = fields.String()


class ContactForm(Schema):
    """A contact recorded from the customer's page: its id was made when the page was drawn,
    so the same form sent twice is one contact (adapters.view.contacts.record)."""

    csrf_token = fields.String()
    contact_id = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{32}$"))
    channel = fields.String(required=True)
    offer = fields.String(validate=validate.Length(min=1, max=64))
    ticket_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    outcome = fields.String(required=True, validate=validate.OneOf(ct.OUTCOMES))
    note = fields.String(validate=validate.Length(max=2000))
    refer_channel = fields.String()
    back = fields.String(validate=validate.OneOf(["compact"]))  # the page to return to


class SupervisionQuery(Schema):
    team = fields.String()
    manager = fields.String(metadata={"description": "whose waiting tasks to list"})


class ReassignForm(Schema):
    """The supervision page's reassignment form: the ticked tasks and one target, a manager
    of the supervisor's teams or a store channel (`target` is `manager:<id>` or
    `channel:<name>`)."""

    csrf_token = fields.String()
    back = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{0,150}$"))
    task = fields.List(fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
                       required=True, validate=validate.Length(min=1, max=1000))
    target = fields.String(required=True, validate=validate.Regexp(
        r"^(manager|channel):[^:]{1,150}$", error="choose a manager or a store"))
    reason = fields.String(validate=validate.Length(max=500))
