"""The customer's page for the people who serve them (DESIGN 10's unified view): store and
hotline agents (`agent:<channel>`) and account managers find a customer by id or phone, see
who they are, the offers to present with their scripts in the page's language, whether a
control group forbids offering anything, their open tasks, trajectory and what the contact
policy allows, and record what happened.

The page calls the API's services with the API's checks: `auth.check_customer` binds an
agent to its channels and a manager to their customers before the customer is looked up,
`adapters.view.service.view` draws (and logs) the view, `adapters.view.contacts.record`
records a contact. Each form carries a contact id made when the page was drawn, so a form
sent twice (a double click, a reload) is one contact. `/compact` is the same view without the
header, which the CRM pop-ups config.yaml lists may frame (framing.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from adapters.db.engines import writer_turn
from adapters.http.auth import check_customer, is_contact
from adapters.http.console.access import bp, page, permitted
from adapters.http.console.framing import allow_framing, embeddable
from adapters.http.console.queries import ContactForm, CustomerQuery, CustomerSearch
from adapters.http.contract import invalid, query_args
from adapters.http.state import state
from adapters.view import contacts
from adapters.view import service as view_service
from engine.config import Config
from engine.errors import Forbidden, Invalid
from engine.playbooks.offer import LANGUAGES, offer_channels
from engine.tasks import contact as ct
from engine.tickets.users import User

# What a person records on an offer; a referral has its own form.
OUTCOMES = (ct.PRESENTED, ct.INTERESTED, ct.DECLINED, ct.HANDLED)


@bp.get("/customers")
@page("view")
def customers_page() -> Any:
    """Find one customer by id or by their stored phone, exactly: never a list, so the page
    is no way to browse customers."""
    text = str(query_args(CustomerSearch()).get("q", "")).strip()
    if not text:
        return render_template("console/customers.html", q="", found=None)
    with state().transaction() as conn:
        customer_id, count = view_service.find(conn, text, _reach(g.user))
    if customer_id is not None:
        return redirect(url_for("console.customer_page", customer_id=customer_id))
    return render_template("console/customers.html", q=text, found=count)


def _reach(user: User) -> frozenset[str] | None:
    """Whose customers a search may find: anyone's for agents, admins and viewers (their
    view of any customer is allowed on their channels), a manager's own otherwise."""
    if user.serves() or user.roles & {"admin", "viewer"}:
        return None
    return user.managed()


def default_channel(user: User, config: Config) -> str:
    """The channel a page is opened on unless the link says: an agent's first channel, else
    the first contact channel (a manager's link from the desk names the task's channel)."""
    served = [ch for ch in offer_channels(config) if ch in user.serves()]
    if served:
        return served[0]
    return (config.contact_channels or tuple(config.channels))[0]


def _check_channel(config: Config, channel: str, field: str) -> None:
    known = offer_channels(config) if field == "channel" else tuple(config.channels)
    if channel not in known:
        raise Invalid(f"{field}: no channel {channel!r}", {field: [
            f"expected one of {', '.join(sorted(known))}"]})


@bp.get("/customers/<customer_id>")
@page("view")
def customer_page(customer_id: str) -> str:
    return _view_page(customer_id, "console/customer.html", compact=False)


@bp.get("/customers/<customer_id>/compact")
@page("view")
@embeddable
def compact_page(customer_id: str) -> Response:
    """The same view with no header, for a CRM's pop-up to frame (framing.py: only the
    origins config.yaml lists may); signed in as on any console page."""
    page_text = _view_page(customer_id, "console/compact.html", compact=True)
    return allow_framing(make_response(page_text))


def _view_page(customer_id: str, template: str, compact: bool) -> str:
    st = state()
    channel = query_args(CustomerQuery()).get("channel") or default_channel(g.user, st.config)
    _check_channel(st.config, channel, "channel")
    lang = str(get_locale())
    now, lang = st.now(), lang if lang in LANGUAGES else "zh"
    with writer_turn(st.engine), st.transaction(write=True) as conn:  # the log, kept short
        manager = view_service.manager_of(conn, customer_id)
        check_customer(g.user, channel, manager, False)
        customer = view_service.record_opening(
            conn, st.config, st.library, customer_id, channel, g.user.name, now,
            contact=is_contact(g.user, channel, manager))
    with st.transaction() as conn:
        seen = view_service.read(conn, st.config, st.library, customer, channel, now, lang)
    controlled = {c["ticket_id"] for c in seen["control"]}
    tickets = sorted({o["source"]["ticket_id"] for o in seen["offers"]}
                     | {t["ticket_id"] for t in seen["open_tasks"]} - controlled)
    return render_template(
        template, seen=seen, channel=channel, outcomes=OUTCOMES, compact=compact,
        view_endpoint="console.compact_page" if compact else "console.customer_page",
        channels=offer_channels(st.config), refer_channels=sorted(st.config.channels),
        tickets=tickets, records=_may_record(g.user, channel, manager),
        new_id=lambda: uuid.uuid4().hex)


def _may_record(user: User, channel: str, manager: str | None) -> bool:
    if not permitted(user, "contact"):
        return False
    try:
        check_customer(user, channel, manager, True)
    except Forbidden:
        return False
    return True


@bp.post("/customers/<customer_id>/contacts")
@page("contact")
def record_contact(customer_id: str) -> Response:
    """One contact from the page's forms; bad input is a 400 naming the field, and nothing
    is written (contacts.record checks everything before its first write)."""
    form = _form()
    st = state()
    _check_channel(st.config, form["channel"], "channel")
    body: dict[str, Any] = {"id": form["contact_id"], "channel": form["channel"],
                            "outcome": form["outcome"]}
    body.update({k: form[k] for k in ("offer", "ticket_id", "note") if k in form})
    if "refer_channel" in form:
        if form["outcome"] != ct.REFERRED:
            raise Invalid("refer_channel: only a referral names a channel", {
                "refer_channel": [f"given with outcome {form['outcome']}"]})
        _check_channel(st.config, form["refer_channel"], "refer_channel")
        body["refer_to"] = {"channel": form["refer_channel"]}
    with st.transaction(write=True) as conn:
        check_customer(g.user, form["channel"], view_service.manager_of(conn, customer_id),
                       True)
        new = contacts.record(conn, st.config, customer_id, body, g.user.name, st.now())[1]
    flash(_("Recorded.") if new else _("Already recorded."), "ok")
    back = "console.compact_page" if form.get("back") == "compact" else "console.customer_page"
    return redirect(url_for(back, customer_id=customer_id, channel=form["channel"]), 303)


def _form() -> dict[str, Any]:
    """The form's fields, empty ones left out (a form sends "" for a field left blank)."""
    sent = {key: value.strip() for key, value in request.form.items() if value.strip()}
    try:
        found: dict[str, Any] = ContactForm().load(sent)
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {
            "_schema": error.messages}
        raise invalid(messages) from error
    return found
