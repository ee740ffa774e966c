"""Who is signed in to the console, and what they may do: the session, CSRF, permissions.

The session is Flask's signed cookie holding the user's name, when they signed in, a CSRF
token and a session id whose row (adapters.access.signins) signing out deletes, so a copied
cookie is refused after sign-out. Roles are not kept in it: every request reads the user
from the database, so a role taken away counts at once. Permissions are the API's
(`adapters.http.auth.roles_for`).

Console views are public to the API's bearer check (`tend_permission = None`) and carry a
`console_permission` instead; `guard` runs before every console request and fails closed:
a view without a console mark is refused to everybody.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from adapters.access import signins
from adapters.access.users import user_by_name
from adapters.http.auth import roles_for
from adapters.http.console.framing import embedded, signin_prompt
from adapters.http.console.labels import role_label
from adapters.http.state import state
from engine.errors import Forbidden
from engine.tickets.users import User

F = TypeVar("F", bound=Callable[..., Any])
OPEN = "open"          # the sign-in page, static files: no user needed
SIGNED_IN = "signed_in"  # any signed-in user (sign-out, the language switch)
UNMARKED = "unmarked"
CSRF_FIELD = "csrf_token"

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")


def page(permission: str) -> Callable[[F], F]:
    """Mark a console view with what it needs: an API permission (read, design, approve,
    cancel, manage), `signed_in` or `open`."""

    def mark(view: F) -> F:
        view.tend_permission = None  # type: ignore[attr-defined]  # not a bearer endpoint
        view.console_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def permitted(user: User | None, permission: str) -> bool:
    if permission == OPEN:
        return True
    if user is None:
        return False
    if permission == SIGNED_IN:
        return True
    if permission == UNMARKED:
        return False
    kinds = {role.partition(":")[0] for role in user.roles}
    return bool(roles_for(permission, state().config) & kinds)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS (directly
    or through a proxy that says so), so one configuration serves both."""

    def get_cookie_secure(self, app: Flask) -> bool:
        forwarded = request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure or forwarded

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> dt.datetime | None:
        """A lifetime after the app's "now", the clock that also judges a session's age
        (`since`): Flask's own reads the wall clock."""
        return now() + lifetime() if session.permanent else None


def lifetime() -> dt.timedelta:
    found: dt.timedelta = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return found


def now() -> dt.datetime:
    """The console's "now": the app's one clock (create_app's `CLOCK`)."""
    return state().now()


def csrf_token() -> str:
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    token: str = session[CSRF_FIELD]
    return token


def sign_in(user: User) -> None:
    """A fresh session (a new CSRF token too: one planted before sign-in is useless)."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    at = now()
    with state().transaction(write=True) as conn:
        sid = signins.open_session(conn, user.name, at, lifetime())
    session.update(user=user.name, since=int(at.timestamp()), sid=sid,
                   csrf_token=secrets.token_urlsafe(32))
    if lang:
        session["lang"] = lang


def sign_out() -> None:
    """Clears the cookie and deletes the session's row: the same cookie, kept elsewhere, no
    longer signs anyone in."""
    sid = session.get("sid")
    if isinstance(sid, str):
        with state().transaction(write=True) as conn:
            signins.close_session(conn, sid)
    _forget()


def _forget() -> None:
    """An empty session but for the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _session_user() -> User | None:
    name, sid = session.get("user"), session.get("sid")
    if not isinstance(name, str) or not isinstance(sid, str):
        return None
    if now().timestamp() - float(session.get("since", 0)) > lifetime().total_seconds():
        sign_out()
        flash(_("Your session has expired. Please sign in again."), "error")
        return None
    with state().transaction() as conn:
        if not signins.session_live(conn, sid, name):
            _forget()
            return None
        return user_by_name(conn, name)


def _check_csrf() -> None:
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD)
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise Forbidden("this form has expired or did not come from the console: "
                        "reload the page and try again", code="form.expired")


@bp.before_request
def guard() -> Response | None:
    view = current_app.view_functions.get(request.endpoint or "")
    permission = getattr(view, "console_permission", UNMARKED)
    g.user = None if request.endpoint == "console.asset" else _session_user()
    if permission != OPEN and g.user is None:  # nothing is done for a POST either
        if embedded(view):  # in a CRM's frame, where the sign-in page may not be shown
            return signin_prompt()
        return redirect(url_for("console.signin", next=request.full_path.rstrip("?")))
    if request.method == "POST":
        _check_csrf()
    if not permitted(g.user, permission):
        raise Forbidden(f"{request.method} {request.path} is not open to {g.user.name} "
                        f"({', '.join(sorted(g.user.roles)) or 'no roles'})", code="page.not_open",
                        params={"user": g.user.name,
                                "roles": [role_label(r) for r in sorted(g.user.roles)] or "—"})
    return None
