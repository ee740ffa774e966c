"""The console: server-rendered pages for approvers, designers and account managers.

It is part of the API's Flask app and calls the same services with the same role table;
`register` wires it into `create_app`. Pages live under /console (the JSON API owns the
other paths) and `/` redirects there.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, g

from engine.config import Config

SESSION_HOURS = 8


def register(app: Flask, config: Config) -> None:
    from adapters.http.console import (  # noqa: F401  (the modules add their routes to bp)
        customer_pages,
        desk,
        playbook_pages,
        program_pages,
        session_pages,
        supervision_pages,
        ticket_pages,
    )
    from adapters.http.console.access import SessionInterface, bp, csrf_token, permitted
    from adapters.http.console.framing import deny_framing_by_default
    from adapters.http.console.i18n import setup
    from adapters.http.console.labels import register as register_labels

    app.session_interface = SessionInterface()
    app.config.update(SESSION_COOKIE_NAME="tend_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax")
    app.config.setdefault("CONSOLE_SESSION_LIFETIME", dt.timedelta(hours=SESSION_HOURS))
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["CONSOLE_SESSION_LIFETIME"]
    setup(app, config)
    register_labels(app)
    app.jinja_env.globals.update(csrf_token=csrf_token,
                                 may=lambda permission: permitted(g.get("user"), permission))
    app.register_blueprint(bp)
    deny_framing_by_default(app)
    session_pages.browser_links(app)
