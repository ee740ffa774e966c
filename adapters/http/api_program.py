"""The program report over HTTP: everyone the marketing playbooks treated in a period against
the global control group (docs/EVALUATION.md, "The program report")."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from adapters.evaluation import offer_kpis, program
from adapters.http.auth import allow
from adapters.http.contract import Blueprint
from adapters.http.schemas import Out
from adapters.http.state import state
from engine.measurement.program import as_json

blp = Blueprint("program", __name__, description="The whole program against the global control")


class ProgramQuery(Schema):
    # Not `required`: a missing day is refused by the service with the same 400 naming it
    # as a malformed one, so there is one message for both.
    from_day = fields.String(data_key="from", metadata={
        "description": "first day of the period, YYYY-MM-DD (configured timezone; required)"})
    to_day = fields.String(data_key="to", metadata={
        "description": "the day after the period, YYYY-MM-DD: the period is [from, to) "
                       "(required, after `from`)"})


class ArmOut(Out):
    customers = fields.Integer(metadata={"description": "distinct customers in the arm"})
    with_goal = fields.Integer(metadata={"description": "those read on a playbook with a goal"})
    conversions = fields.Integer()
    rate = fields.Float(allow_none=True)
    open_windows = fields.Integer(metadata={"description": "goal windows not ended by now"})
    churn_at_risk = fields.Integer()
    churned = fields.Integer()
    churn_rate = fields.Float(allow_none=True)


class ProgramOut(Out):
    from_day = fields.String(data_key="from")
    to_day = fields.String(data_key="to", metadata={"description": "excluded"})
    evaluated_at = fields.String()
    share = fields.Float(metadata={"description": "config.yaml global_control now"})
    treated = fields.Nested(ArmOut)
    global_control = fields.Nested(ArmOut)
    uplift = fields.Dict(metadata={"description": "engine.measurement.uplift fields: treated vs "
                                                  "global "
                                                  "control conversion rates, interval, verdict"})
    incremental = fields.Dict(metadata={"description": "conversions over the control's rate, "
                                                       "with low and high"})
    churn = fields.Dict(metadata={"description": "engine.measurement.uplift fields over churn "
                                                 "rates"})
    cost = fields.Dict(metadata={"description": "channels, offers, total, unpriced_channels, "
                                                "unpriced_offers, per_incremental_conversion"})
    playbooks = fields.List(fields.Dict(), metadata={
        "description": "per playbook: customers treated and set aside"})
    revenue = fields.Float(allow_none=True, metadata={"description": "null: no revenue data"})
    notes = fields.List(fields.String())


@blp.route("/program/report", methods=["GET"])
@blp.arguments(ProgramQuery, location="query")
@blp.alt_response(200, schema=ProgramOut, success=True)
@allow("read")
def program_report(args: dict[str, Any]) -> Any:
    """Everyone contacted by a non-exempt playbook's sweep in [from, to) against the global
    control: conversions, churn, incremental conversions with their interval, cost."""
    st = state()
    span = program.period(args.get("from_day"), args.get("to_day"), st.config)
    prices = offer_kpis.costs(st.library.offers)
    with st.transaction() as conn:
        return as_json(program.report(conn, st.config, prices, span, st.now()))
