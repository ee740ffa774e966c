"""Signing in and out, the language switch, the console's own assets, and error pages.

A user signs in with a token (as for the API) or with a name and the password set by
`tend users passwd`. Failures say the same thing whichever part was wrong.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from adapters.access import signins
from adapters.access.users import user_for_password, user_for_token
from adapters.http.auth import public
from adapters.http.console.access import (
    OPEN,
    SIGNED_IN,
    bp,
    now,
    page,
    permitted,
    sign_in,
    sign_out,
)
from adapters.http.console.i18n import LANGUAGES
from adapters.http.console.queries import SigninQuery
from adapters.http.contract import query_args
from adapters.http.errors import log
from adapters.http.messages import error_text
from adapters.http.state import state
from engine.errors import Forbidden, TendError

STATIC = Path(__file__).resolve().parent / "static"


def _next_or(default: str) -> str:
    """`next` when it is safe to send the browser there, else `default` (it is ignored)."""
    target = request.values.get("next", "")
    return target if safe_next(target) else default


def safe_next(target: str) -> bool:
    """Only a path inside the console: never an open redirect to another site (`//host`, a
    scheme, a backslash browsers read as a slash), and no control characters: CR/LF would
    split the Location header, which failed the sign-in with a 500 after its cookie was set."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char == "\\" for char in target):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return False
    return parts.path == "/console" or parts.path.startswith("/console/")


@bp.get("/home")
@page(SIGNED_IN)
def home() -> Response:
    """Where a user lands: the inbox for readers, the desk for account managers, the
    customer search for agents."""
    if permitted(g.user, "read"):
        return redirect(url_for("console.inbox_page"))
    if permitted(g.user, "manage") and g.user.routes():
        return redirect(url_for("console.desk"))
    if permitted(g.user, "supervise"):  # supervisors: their managers' queues
        return redirect(url_for("console.supervision_page"))
    if permitted(g.user, "view"):  # store and hotline agents
        return redirect(url_for("console.customers_page"))
    raise Forbidden(f"{g.user.name} ({', '.join(sorted(g.user.roles)) or 'no roles'}) has no "
                    "console pages: they are for approvers, designers, viewers, agents, "
                    "account managers and supervisors")


@bp.get("/signin")
@page(OPEN)
def signin() -> Any:
    query_args(SigninQuery())
    if g.user is not None:
        return redirect(_next_or(url_for("console.home")))
    return render_template("console/signin.html", next=_next_or(""))


@bp.post("/signin")
@page(OPEN)
def signin_post() -> Any:
    """Throttled per account and per address (adapters.access.signins): once blocked, an
    attempt is refused with 429 before any password is checked, even a right one."""
    token = request.form.get("token", "").strip()
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    at, limits = now(), current_app.config.get("CONSOLE_SIGNIN_LIMITS", signins.Limits())
    attempt = signins.keys("" if token else name, request.remote_addr)
    with state().transaction(write=True) as conn:  # a token's use is stamped
        until = signins.blocked_until(conn, attempt, limits, at)
        if until is not None:
            user = None
        elif token:
            user = user_for_token(conn, token, at)
        elif name and password:
            user = user_for_password(conn, name, password)
        else:
            user = None
        if until is None and user is None and (token or name):
            signins.record_failure(conn, attempt, limits, at)
        elif user is not None:
            signins.clear_account(conn, attempt)
    if until is not None:
        wait = max(1, math.ceil((until - at).total_seconds() / 60))
        reply = render_template("console/signin.html", next=_next_or(""), name=name,
                                throttled=wait)
        return reply, 429, {"Retry-After": str(math.ceil((until - at).total_seconds()))}
    if user is None:
        return render_template("console/signin.html", next=_next_or(""), failed=True,
                               name=name), 401
    target = _next_or(url_for("console.home"))
    sign_in(user)
    return redirect(target, 303)


@bp.post("/signout")
@page(SIGNED_IN)
def signout() -> Response:
    sign_out()
    return redirect(url_for("console.signin"), 303)


@bp.post("/lang")
@page(OPEN)
def choose_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_next_or(url_for("console.signin")), 303)


@bp.get("/assets/<path:name>")
@page(OPEN)
def asset(name: str) -> Response:
    return send_from_directory(STATIC, name, max_age=3600)


def _error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, message=message), status


@bp.errorhandler(TendError)
def tend_error(exc: TendError) -> tuple[str, int]:
    return _error_page(exc.status, error_text(exc))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[str, int]:
    return _error_page(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(Exception)
def unexpected(exc: Exception) -> tuple[str, int]:
    log.exception("unhandled error", error=type(exc).__name__)
    return _error_page(500, _("Something went wrong; nothing was changed."))


def browser_links(app: Flask) -> None:
    """`/` is where a browser lands: the console. And a notice's link to a ticket
    (`<base_url>/tickets/<id>`, the API's address) opened in a browser shows the ticket's
    console page: a GET without a bearer token that prefers HTML is redirected before the
    API's token check (so it runs first). API clients are answered as before."""

    @app.get("/")
    @public
    def root() -> Response:
        return redirect(url_for("console.home"))

    def ticket_link() -> Response | None:
        if (request.endpoint == "tickets.show_ticket" and request.method == "GET"
                and "Authorization" not in request.headers
                and request.accept_mimetypes.best_match(["application/json", "text/html"])
                == "text/html"):
            return redirect(url_for("console.ticket_page", **(request.view_args or {})))
        return None

    app.before_request_funcs.setdefault(None, []).insert(0, ticket_link)
    del root
