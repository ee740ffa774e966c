"""`create_app`: the Flask application factory (flaskr style).

Config comes from TEND_CONFIG (the library folders from TEND_RULES and TEND_WORKFLOWS, read
with it once, engine.config_loader.installed_config) and TEND_DATABASE_URL unless `test_config`
overrides them (keys `TEND_CONFIG`: a path or a loaded `Config` with its folders,
`DATABASE_URL`, `CLOCK`: the one clock every
handler reads "now" from, by default TEND_CLOCK_START's or the system's, and any Flask setting).
Nothing connects here: the engine is made on the first request that needs it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
import swagger_ui_bundle
from flask import Flask, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api

from adapters.db.engines import database_url
from adapters.http import api_health, auth, console, contract, errors, observe
from adapters.http.secret_key import secret_key
from adapters.http.state import State
from engine.clock import clock_from_environment
from engine.config import Config
from engine.config_loader import installed_config
from engine.errors import Invalid
from engine.limits import MAX_DEPTH, too_deep

DOCS_ASSETS = "/docs/assets/"


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 dates and instants (Flask's default writes HTTP dates), text kept UTF-8, keys
    in their order; read and written by orjson: the standard library's codec was a sixth of
    a `POST /events` batch's CPU (bench/events.py)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        indent = orjson.OPT_INDENT_2 if kwargs.get("indent") else 0
        return orjson.dumps(obj, default=self.default,
                            option=orjson.OPT_NON_STR_KEYS | indent).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """orjson refuses text it cannot keep as UTF-8 (an escaped unpaired surrogate); the
        standard library reads it, so the item's field is named in the 400 rather than
        the whole body refused (and real syntax errors keep its wording).

        Nesting is bounded (engine.limits.MAX_DEPTH): deeper documents are refused with a
        400 naming where, before the standard library's recursion limit is met."""
        try:
            value = orjson.loads(s)
        except orjson.JSONDecodeError as exc:
            if "depth" in exc.msg or "recursion" in exc.msg:
                raise _too_deep(f"character {exc.pos + 1}") from None
            try:
                value = json.loads(s)
            except RecursionError:
                raise _too_deep("the body") from None
        where = too_deep(value)
        if where is not None:
            raise _too_deep(where)
        return value


def _too_deep(where: str) -> Invalid:
    message = f"JSON nested deeper than {MAX_DEPTH} levels at {where}"
    return Invalid(message, {"_schema": [message]})


def _bounded_json() -> None:
    """Every JSON body goes through the bounded `loads` before a view or webargs (which
    parses with the standard library) reads it; syntax errors are left to the view."""
    if request.is_json:
        request.get_json(silent=True)


class TendApi(Api):
    """Documents errors as `errors.py` writes them (flask-smorest's own shape differs)."""

    ERROR_SCHEMA = errors.ErrorOut


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.from_mapping(
        API_TITLE="Tend",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        API_SPEC_OPTIONS={"components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}]},
        MAX_CONTENT_LENGTH=32 << 20,
    )
    app.config.update(test_config or {})
    config = app.config.get("TEND_CONFIG")
    if not isinstance(config, Config):  # a Config handed in carries its library folders
        config = installed_config(os.environ, Path(config) if config else None)
    url = app.config.get("DATABASE_URL") or database_url("") or config.database_url
    observe.configure_logging()
    if not app.config.get("SECRET_KEY"):  # adapters/http/secret_key.py: no default key
        app.config["SECRET_KEY"] = secret_key(url)
    clock = app.config.get("CLOCK") or clock_from_environment(os.environ)
    app.extensions["tend"] = State(config, url, clock)
    app.teardown_request(app.extensions["tend"].release)

    metrics = observe.instrument(app)
    observe.add_gauge(metrics, "tend_tickets", "Tickets by state", "state",
                      api_health.ticket_counts)
    app.extensions["tend_metrics"] = metrics
    api = TendApi(app)
    errors.register(app)  # after Api, whose own HTTPException handler this replaces
    app.before_request(lambda: auth.check_access(
        request.endpoint, app.view_functions.get(request.endpoint or "")))
    app.before_request(_bounded_json)
    _public_docs(app)
    _register_blueprints(api)
    console.register(app, config)
    return app


def _public_docs(app: Flask) -> None:
    """The spec and Swagger UI need no token; the UI's assets are served from the
    swagger-ui-bundle package, never from a CDN. They take no query parameters either
    (flask-smorest's views are not ours to declare them on: checked by endpoint)."""
    docs = {*auth.PUBLIC_ENDPOINTS, "docs_assets"}
    app.before_request(lambda: contract.no_query() if request.endpoint in docs else None)

    @app.get(DOCS_ASSETS + "<path:name>")
    @auth.public
    def docs_assets(name: str) -> Any:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, name)


def _register_blueprints(api: Api) -> None:
    from adapters.http import (
        api_customers,
        api_events,
        api_export,
        api_managers,
        api_offers,
        api_playbooks,
        api_program,
        api_reports,
        api_supervise,
        api_tasks,
        api_tickets,
        api_view,
    )

    for module in (api_health, api_playbooks, api_customers, api_events, api_tickets,
                   api_supervise, api_export, api_tasks, api_managers, api_reports, api_view,
                   api_offers, api_program):
        api.register_blueprint(module.blp)
