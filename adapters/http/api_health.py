"""/healthz and /metrics: open to the load balancer and the scraper, no token."""

from __future__ import annotations

from typing import Any

from flask import current_app

from adapters.db.outage import ping
from adapters.http import observe
from adapters.http.auth import public
from adapters.http.contract import Blueprint
from adapters.http.schemas import HealthOut
from adapters.http.state import state
from adapters.tickets import queries

blp = Blueprint("health", __name__, description="Liveness and metrics (no token needed)")


@blp.route("/healthz", methods=["GET"])
@blp.doc(security=[])
@blp.alt_response(200, schema=HealthOut, success=True)
@public
def healthz() -> Any:
    """The service answers and its database does (SELECT 1). A database that does not answer
    is a 503 naming it, so a load balancer takes the instance out rather than seeing a 500."""
    problem = ping(state().transaction)
    if problem is not None:
        reason = f"database unreachable: {problem}"
        return {"status": "unavailable", "message": reason,
                "errors": {"database": [reason]}}, 503
    return {"status": "ok"}


@blp.route("/metrics", methods=["GET"])
@blp.doc(security=[], responses={"200": {"description": "Prometheus text exposition format",
                                         "content": {"text/plain": {
                                             "schema": {"type": "string"}}}}})
@public
def metrics() -> Any:
    """Prometheus text format: requests and latency by endpoint and status, events ingested."""
    return observe.exposition(current_app.extensions["tend_metrics"])


def ticket_counts() -> dict[str, int]:
    """For the tickets-by-state gauge, read on each scrape (one GROUP BY on a small table)."""
    with state().transaction() as conn:
        return queries.counts_by_state(conn)
