"""Evaluation over HTTP: a ticket's report, KPIs over time, and a playbook's history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response

from adapters.evaluation import history, kpis, offer_kpis, readouts
from adapters.http.auth import allow
from adapters.http.console.labels import reader_words
from adapters.http.contract import Blueprint
from adapters.http.report_schemas import HistoryOut, KpisOut, KpisQuery, ReportQuery
from adapters.http.state import state
from adapters.tickets import report

blp = Blueprint("evaluation", __name__, description="Ticket reports, KPIs, playbook history")


def _now() -> dt.datetime:
    return state().now()


@blp.route("/tickets/<int:ticket_id>/report", methods=["GET"])
@blp.arguments(ReportQuery, location="query")
@blp.doc(responses={"200": {"description": "the page (text/html), or with format=json the "
                                           "ticket with its results", "content": {
    "text/html": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "object"}}}}})
@allow("read")
def ticket_report(args: dict[str, Any], ticket_id: int) -> Any:
    """The page a director reads: uplift with its interval, funnel, conversions over time
    (charts embedded as data: URIs). Interim results while the ticket runs."""
    st = state()
    with st.transaction() as conn:
        ticket = report.gather(conn, st.config, st.library, ticket_id, _now())
    if args["format"] == "json":
        return ticket
    return Response(report.page(ticket, words=reader_words()), mimetype="text/html")


@blp.route("/kpis", methods=["GET"])
@blp.arguments(KpisQuery, location="query")
@blp.alt_response(200, schema=KpisOut, success=True)
@allow("read")
def get_kpis(args: dict[str, Any]) -> Any:
    """Retention KPIs of the entries of a period, by playbook, channel, manager or tier; by
    offer, the contacts of a period per offer and channel (docs/EVALUATION.md defines each)."""
    st = state()
    span = kpis.period(args.get("from_day"), args.get("to_day"), st.config, _now())
    if args["by"] == offer_kpis.BY:
        prices = offer_kpis.costs(st.library.offers)
        with st.transaction() as conn:
            return offer_kpis.kpis(conn, span, prices)
    with st.transaction() as conn:
        return kpis.kpis(conn, st.config, args["by"], span)


@blp.route("/playbooks/<playbook_id>/history", methods=["GET"])
@blp.alt_response(200, schema=HistoryOut, success=True)
@allow("read")
def playbook_history(playbook_id: str) -> Any:
    """Every stored version with its tickets and results, oldest first."""
    st = state()
    with st.transaction() as conn:
        return history.history(conn, playbook_id,
                               readouts.Reading(st.config, st.library, _now()),
                               playbook_id in st.library.playbooks,
                               offer_kpis.costs(st.library.offers))
