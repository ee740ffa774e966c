"""The inbox and the ticket page, and the approve / reject / cancel forms.

Decisions go through the ticket service exactly as `POST /tickets/<id>/approve` does
(`adapters.tickets.service.approve`, `reject`, `cancel`), after the same role check. The buttons a
page shows come from `inbox.may`; the server checks again when the form comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from adapters.http.console import inbox
from adapters.http.console.access import bp, page
from adapters.http.console.labels import reader_words, role_label
from adapters.http.console.queries import InboxQuery
from adapters.http.contract import query_args
from adapters.http.state import state
from adapters.tasks import listing as task_listing
from adapters.tickets import card as approval
from adapters.tickets import queries, recheck
from adapters.tickets import service as tickets
from engine.errors import Invalid, ValidationError
from engine.measurement.uplift import reading
from engine.tickets import ticket as tk


def _now() -> dt.datetime:
    return state().now()


def _arg(name: str) -> str | None:
    return request.args.get(name) or None


@bp.get("/")
@page("read")
def inbox_page() -> str:
    st, now = state(), _now()
    query_args(InboxQuery())
    filters = {"playbook": _arg("playbook"), "state": _arg("state"), "tier": _arg("tier")}
    if filters["tier"] is not None and filters["tier"] not in st.config.tier_names:
        raise Invalid(f"tier: no tier {filters['tier']!r}",
                      {"tier": [f"expected one of {', '.join(st.config.tier_names)}"]})
    with st.transaction() as conn:
        waiting = inbox.awaiting(conn, st, g.user, now)
        items, next_cursor = inbox.browse(conn, st.config, cursor=_arg("cursor"), now=now,
                                          **filters)
        context = {"waiting": waiting,
                   "mine": queries.planned_by(conn, g.user.name, inbox.RECENT),
                   "decisions": queries.recent_decisions(conn, inbox.RECENT),
                   "playbooks": sorted({*st.library.playbooks,
                                        *queries.playbooks_with_tickets(conn)})}
    return render_template("console/inbox.html", items=items, next_cursor=next_cursor,
                           filters=filters, states=tk.STATES,
                           tiers=st.config.tier_names, **context)


@bp.get("/tickets/<int:ticket_id>")
@page("read")
def ticket_page(ticket_id: int) -> str:
    st = state()
    with st.transaction() as conn:
        shown = tickets.show(conn, ticket_id)
        can = inbox.may(conn, st, ticket_id, g.user)
        task_counts = task_listing.counts(conn, ticket_id)
        reasons = task_listing.suppressed_reasons(conn, ticket_id) if task_counts else {}
        card = approval.card(conn, st.config, st.library, ticket_id)
        # opened for a decision: a stale rehearsal is run again (approval.rehearsal_max_age)
        since = recheck.recheck(conn, st.config, st.library, ticket_id, _now()) \
            if can["decide"] else None
    results = shown.get("results") or {}
    return render_template("console/ticket.html", t=shown, can=can, levels=_levels(shown),
                           task_counts=task_counts, results=results,
                           reading=_reading(results), charts=_charts(shown, results),
                           card=card, since=since, reasons=reasons)


def _reading(results: dict[str, Any]) -> str | None:
    """The verdict in the words the page leads with (engine.measurement.uplift.reading)."""
    u = (results.get("goal") or {}).get("uplift")
    if not isinstance(u, dict) or "verdict" not in u:
        return None
    return reading(u["verdict"], u.get("absolute"))


def _charts(shown: dict[str, Any], results: dict[str, Any]) -> dict[str, str]:
    """The report's uplift and timeline charts, inline, once the ticket is evaluated and
    closed (its results are final; interim ones are in the report)."""
    if shown["state"] != "closed" or not results.get("goal"):
        return {}
    from adapters.tickets import report  # matplotlib: loaded when a chart is drawn

    return report.data_uris({"results": results}, only=("uplift", "timeline"),
                            words=reader_words())


@bp.get("/tickets/<int:ticket_id>/report")
@page("read")
def report_page(ticket_id: int) -> Response:
    """The evaluation's report (`GET /tickets/<id>/report`, which wants a bearer token), for
    a reader signed in to the console: the same page from the same functions."""
    from adapters.tickets import report  # matplotlib: loaded when a report is asked for

    st = state()
    with st.transaction() as conn:
        ticket = report.gather(conn, st.config, st.library, ticket_id, _now())
    back = url_for("console.ticket_page", ticket_id=ticket_id)
    return Response(report.page(ticket, back, reader_words()), mimetype="text/html")


def _levels(shown: dict[str, Any]) -> list[dict[str, Any]]:
    """Each level of the workflow with its decision, if made, and whether it is next."""
    decided = {a["level"]: a for a in shown["approvals"]}
    return [{**lv, "decision": decided.get(lv["level"]),
             "next": lv["level"] == shown["next_level"]} for lv in shown["levels"]]


@bp.post("/tickets/<int:ticket_id>/approve")
@page("approve")
def approve(ticket_id: int) -> Response:
    st = state()
    comment = request.form.get("comment", "").strip() or None
    with st.transaction(write=True) as conn:
        shown = tickets.approve(conn, st.config, st.library, ticket_id, g.user, comment,
                                _now(), _level())
    flash(_("Already approved by you.") if shown["repeat"] else _approved(shown), "ok")
    return _back(ticket_id)


def _approved(shown: dict[str, Any]) -> str:
    """After a level that leaves others to go the ticket is not approved yet: say which
    level it now waits for, not "Approved."."""
    waiting = next((lv for lv in shown["levels"] if lv["level"] == shown["next_level"]), None)
    if shown["state"] == "planned" and waiting is not None:
        return _("Your level is approved; the ticket now waits for level %(n)s (%(role)s).",
                 n=waiting["level"], role=role_label(waiting["role"]))
    return _("Approved.")


@bp.post("/tickets/<int:ticket_id>/reject")
@page("approve")
def reject(ticket_id: int) -> Response:
    return _end(ticket_id, tickets.reject, _("A rejection needs a comment saying why."),
                _("Rejected."), _("Already rejected by you."), level=_level())


@bp.post("/tickets/<int:ticket_id>/cancel")
@page("cancel")
def cancel(ticket_id: int) -> Response:
    return _end(ticket_id, tickets.cancel, _("A cancellation needs a comment saying why."),
                _("Cancelled."))


def _level() -> int | None:
    """The level the decision form was shown for: a second click after the first went
    through is then recognised as the same decision (adapters.tickets.service.approve)."""
    given = request.form.get("level", "")
    return int(given) if given.isdigit() else None


def _end(ticket_id: int, act: Callable[..., Any], needs_reason: str, done: str,
         repeated: str | None = None, level: int | None = None) -> Response:
    """Reject or cancel: both end the ticket and both need the comment as their reason.
    A rejection is decided for a level (`level`), a cancellation is not."""
    st = state()
    seen = () if level is None else (level,)
    try:
        with st.transaction(write=True) as conn:
            shown = act(conn, st.config, st.library, ticket_id, g.user,
                        request.form.get("comment", ""), _now(), *seen)
    except ValidationError:
        flash(needs_reason, "error")
        return _back(ticket_id)
    flash(repeated if repeated and shown.get("repeat") else done, "ok")
    return _back(ticket_id)


def _back(ticket_id: int) -> Response:
    return redirect(url_for("console.ticket_page", ticket_id=ticket_id), 303)
