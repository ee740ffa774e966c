"""The reports API's documents: a ticket's report, KPIs and their history.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adapters.http.schemas import Out


class ReportQuery(Schema):
    format = fields.String(load_default="html", validate=validate.OneOf(["html", "json"]),
                           metadata={"description": "html: the page with charts embedded; "
                                                    "json: the ticket with its results"})


class KpisQuery(Schema):
    by = fields.String(load_default="playbook",
                       validate=validate.OneOf(["playbook", "channel", "manager", "tier",
                                                "offer"]),
                       metadata={"description": "one row per value of this; `offer`: the "
                                                "contacts of the period per offer and channel"})
    from_day = fields.String(data_key="from", metadata={
        "description": "first day of entry (by offer: of contact), YYYY-MM-DD (default: 30 "
                       "days before `to`)"})
    to_day = fields.String(data_key="to", metadata={
        "description": "last day of entry and of outcomes (by offer: of contact), YYYY-MM-DD "
                       "(default: today)"})


class KpisOut(Out):
    by = fields.String()
    from_day = fields.String(data_key="from")
    to_day = fields.String(data_key="to")
    rows = fields.List(fields.Dict(), metadata={"description": "one per value of `by`"})
    total = fields.Dict(metadata={"description": "every entry counted once"})


class HistoryOut(Out):
    playbook = fields.String()
    versions = fields.List(fields.Dict(), metadata={
        "description": "per stored version: its tickets with sizes, conversions, uplift and "
                       "verdict, `pooled`: the closed tickets' counts summed and judged together, "
                       "`readout`: the closed tickets pooled by ticket (Mantel-Haenszel) with "
                       "an interval valid at every daily look and its verdict (collecting, "
                       "works, does not work, no difference), and `offers`: results per "
                       "offer of the contacts naming its tickets"})
