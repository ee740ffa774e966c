"""Who may show the console inside a frame: nobody, except the compact customer view for the
sites config.yaml lists (`console: {embed_origins: [...]}`), so a store clerk's or hotline
agent's CRM can open it in its pop-up (系统弹窗).

Every response carries `Content-Security-Policy: frame-ancestors 'none'` and
`X-Frame-Options: DENY` (clickjacking: no other site can dress a console button up as its
own), unless its view allowed framing: then only `frame-ancestors 'self' <origins>`
(X-Frame-Options cannot name origins; browsers that know CSP follow it instead). The answer
to a form sent from the compact view (`back=compact`) may be framed as well, so an error
(a 400 naming a field, a 409) shows in the pop-up rather than as a blocked frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, render_template, request
from werkzeug.wrappers import Response

from adapters.http.state import state

F = TypeVar("F", bound=Callable[..., Any])
CSP = "Content-Security-Policy"
DENY = "frame-ancestors 'none'"


def embeddable(view: F) -> F:
    """Mark a console view as one a listed CRM may frame; signed out, it answers with a
    prompt to sign in (in a new tab) instead of a redirect to the sign-in page, which no
    site may frame."""
    view.console_embedded = True  # type: ignore[attr-defined]
    return view


def embedded(view: Any) -> bool:
    return bool(getattr(view, "console_embedded", False))


def allow_framing(response: Response) -> Response:
    """Let this response be framed by the console itself and the configured origins."""
    origins = " ".join(state().config.embed_origins)
    response.headers[CSP] = f"frame-ancestors 'self' {origins}".rstrip()
    response.headers.pop("X-Frame-Options", None)
    return response


def signin_prompt() -> Response:
    """What a framed view shows to someone not signed in: a link that signs in in a new tab
    and comes back to this view, then a reload of the frame shows it."""
    page = render_template("console/embed_signin.html", back=request.full_path.rstrip("?"))
    return allow_framing(Response(page, 401, mimetype="text/html"))


def deny_framing_by_default(app: Flask) -> None:
    @app.after_request
    def _deny(response: Response) -> Response:
        if CSP in response.headers:
            return response
        if request.method == "POST" and request.form.get("back") == "compact":
            return allow_framing(response)  # a compact form's answer, an error page too
        response.headers[CSP] = DENY
        response.headers["X-Frame-Options"] = "DENY"
        return response
