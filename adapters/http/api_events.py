"""`POST /events`: a batch checked whole, stored in one transaction, repeats ignored."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from adapters.db.engines import writer_turn
from adapters.http.auth import allow
from adapters.http.contract import Blueprint
from adapters.http.intake_schemas import EventIn, EventsOut
from adapters.http.state import state
from adapters.intake.event_import import prepare, store_events
from adapters.tickets.standing import match, on_events
from engine.errors import Invalid
from engine.event import Event, check_event

blp = Blueprint("events", __name__, url_prefix="/events", description="Event ingestion")
MAX_EVENTS = 10_000


@blp.route("", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": {
    "type": "array", "items": EventIn}}}})
@blp.alt_response(200, schema=EventsOut, success=True)
@allow("ingest")
def ingest() -> Any:
    """Any invalid item → 400 naming each bad item by index and field, nothing stored.
    An id already stored is ignored (retries are safe); unknown customers are stored and
    listed. New events trigger in the same transaction: `triggered` lists, per event and
    event-triggered playbook, the tasks made, or why none were."""
    body = request.get_json()
    if not isinstance(body, list):
        raise Invalid("expected a JSON list of events", {"_schema": ["expected a list"]})
    if len(body) > MAX_EVENTS:
        raise Invalid(f"at most {MAX_EVENTS} events per request",
                      {"_schema": [f"expected at most {MAX_EVENTS} items, got {len(body)}"]})
    st = state()
    batch: list[Event] = []
    errors: dict[str, dict[str, list[str]]] = {}
    for index, raw in enumerate(body):
        checked = check_event(raw, st.config)
        if isinstance(checked, Event):
            batch.append(checked)
            continue
        for field, message in checked:
            errors.setdefault(str(index), {}).setdefault(
                "_schema" if field == "event" else field, []).append(message)
    if errors:
        raise Invalid(f"{len(errors)} bad event(s); nothing stored", errors)
    now = state().now()
    with st.transaction() as conn:  # reads only: matching needs no write lock
        matched = match(conn, st.config, st.triggers, batch, now)
        prepared = prepare(conn, batch, matched.looked_up, matched.customers)
    with writer_turn(st.engine), st.transaction(write=True) as conn:
        stored = store_events(conn, batch, now, prepared)
        triggered = on_events(conn, st.config, st.library, st.triggers, stored.new, now,
                              matched)
    current_app.extensions["tend_metrics"].events.inc(len(stored.new))
    unknown = sorted({s.event.customer_id for s in stored.new if not s.known_customer})
    return {"received": len(batch), "stored": len(stored.new), "ignored": stored.repeated,
            "unknown_customers": unknown, "triggered": triggered}
