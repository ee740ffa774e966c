"""The manager's desk: an account manager's customers with calls to make, each with what to
say, and one form per customer for everything a call settles.

A user is an account manager for manager id M when they hold the role `manager:M` (`tend
users add lin --role manager:m007`). The page needs the API's `manage` permission; it
renders `adapters.view.desk.desk_of` (tasks grouped by customer, talking points from the
unified view) and sends a customer's form to `adapters.view.calls.record_call`, which
records a result on each task and an outcome on each offer, each on its own ticket, in one
transaction: a bad field is a 400 naming it, a task someone else's change closed is a 409
in the reader's language, and either way nothing is written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection

from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from adapters.http.console.access import CSRF_FIELD, bp, page
from adapters.http.console.i18n import state_label
from adapters.http.state import state
from adapters.view import desk as desk_service
from adapters.view.calls import OUTCOMES, Call, TaskRefused, record_call
from engine.errors import Conflict, Invalid
from engine.playbooks.offer import LANGUAGES

TASK = re.compile(r"^task:([0-9]{1,9})$")
OFFER = re.compile(r"^offer:([0-9]{1,9}):([a-z0-9_-]{1,64})$")
REASON = re.compile(r"^reason:([0-9]{1,9})$")
CALL_ID = re.compile(r"^[0-9a-f]{32}$")
NOTE_MAX = 2000


@bp.get("/desk")
@page("manage")
def desk() -> Response:
    st = state()
    lang = str(get_locale())
    with st.transaction() as conn:
        found = desk_service.desk_of(conn, st.config, st.library, g.user.routes(), st.now(),
                                     lang if lang in LANGUAGES else "zh")
    reply = make_response(render_template(
        "console/desk.html", desk=found, results=desk_service.RESULTS, outcomes=OUTCOMES,
        managed=sorted(g.user.managed()), new_id=lambda: uuid.uuid4().hex,
        reasons=[(code, reason.label(lang)) for code, reason in st.config.reasons.codes.items()],
        needs_reason=[state_label(s) for s in sorted(st.config.reasons.required)]))
    reply.headers["Cache-Control"] = "private, no-store"  # phones in full (docs/CONSOLE.md)
    return reply


@bp.post("/desk/customers/<customer_id>/call")
@page("manage")
def record(customer_id: str) -> Response:
    st = state()
    call = _call(st.config.channels)
    with st.transaction(write=True) as conn:
        try:
            done = record_call(conn, st.config, st.library, customer_id, call, g.user.name,
                               g.user.routes(), st.now())
        except TaskRefused as refused:
            raise Conflict(_("This task is %(state)s: no result can be recorded on it.",
                             state=state_label(refused.state))) from refused
    if done.results or done.outcomes:
        flash(_("Result recorded for %(customer)s.", customer=customer_id), "ok")
    else:
        flash(_("Already recorded."), "ok")
    return redirect(url_for("console.desk", _anchor=f"customer-{customer_id}"), 303)


def _call(channels: Collection[str]) -> Call:
    """The form of one customer's call; an empty choice is "not this one". Any field the
    form does not have, or a bad value, is a 400 naming the field."""
    results: dict[int, str] = {}
    outcomes: dict[tuple[int, str], str] = {}
    reasons: dict[int, str] = {}
    for name, raw in request.form.items():
        value = raw.strip()
        if name in (CSRF_FIELD, "call_id", "channel", "note"):
            continue
        if (task := TASK.match(name)) is not None:
            if value:
                results[int(task.group(1))] = value
        elif (reason := REASON.match(name)) is not None:
            if value:
                reasons[int(reason.group(1))] = value
        elif (offer := OFFER.match(name)) is not None:
            if value:
                outcomes[(int(offer.group(1)), offer.group(2))] = value
        else:
            raise Invalid(f"{name}: not a field of this form", {name: ["unknown field"]})
    call_id = request.form.get("call_id", "").strip()
    if not CALL_ID.match(call_id):
        raise Invalid("call_id: expected 32 hex digits", {"call_id": ["expected 32 hex digits"]})
    channel = request.form.get("channel", "").strip()
    if channel not in channels:
        raise Invalid(f"channel: no channel {channel!r}", {"channel": ["unknown channel"]})
    note = request.form.get("note", "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid("note: too long", {"note": [f"at most {NOTE_MAX} characters"]})
    return Call(call_id, channel, note or None, results, outcomes, reasons)
