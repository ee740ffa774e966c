"""Every error a request can meet becomes JSON `{"message", "errors": {field: [...]}}` here.

One place: TendError subclasses (by their `status`), webargs/marshmallow argument errors
(422, by field), werkzeug HTTP errors (404, 405, a body that is not JSON, ...), and anything
unexpected (500 with a generic message, logged with its traceback). No HTML error pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import structlog
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from engine.errors import Problem, TendError, ValidationError

log = structlog.get_logger("tend.http")
# The services word a field's problem as "<field>: <message>" (ValidationError("reason: ..."))
FIELD_FIRST = re.compile(r"^([a-z_][a-z0-9_.]*): (.+)$", re.DOTALL)


class Invalid(TendError):
    """Bad input whose problems belong to named fields (or to batch items by index)."""

    status = 400

    def __init__(self, message: str, errors: Mapping[str, Any],
                 problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors)
        self.problems = problems or []


def problem_json(problem: Problem) -> dict[str, Any]:
    return {"line": problem.line, "column": problem.column, "message": problem.message}


def _body(message: str, errors: Mapping[str, Any] | None = None,
          **extra: Any) -> dict[str, Any]:
    return {"message": message, "errors": dict(errors or {}), **extra}


def _reply(status: int, body: dict[str, Any],
           headers: Mapping[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def tend_error(exc: TendError) -> Response:
    if isinstance(exc, Invalid):
        extra = {"problems": [problem_json(p) for p in exc.problems]} if exc.problems else {}
        return _reply(exc.status, _body(exc.message, exc.errors, **extra))
    if isinstance(exc, ValidationError):
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            named = FIELD_FIRST.match(problem.message) if not problem.file else None
            field, message = named.groups() if named else ("_schema", str(problem))
            errors.setdefault(field, []).append(message)
        return _reply(exc.status, _body(exc.message, errors,
                                        problems=[problem_json(p) for p in exc.problems]))
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return _reply(exc.status, _body(exc.message), headers)


def http_error(exc: HTTPException) -> Response:
    """werkzeug errors, including webargs' 422 whose `data` holds messages by location."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors") or {}
    errors: dict[str, Any] = {}
    for location, found in messages.items():
        if isinstance(found, dict):
            errors.update(found)
        else:
            errors[location] = found
    if status == 422:
        fields = ", ".join(sorted(errors)) or "the request"
        message = f"invalid {fields}"
    else:
        message = data.get("message") or exc.description or exc.name
    return _reply(status, _body(message, errors), data.get("headers"))


def unexpected(exc: Exception) -> Response:
    log.exception("unhandled error", error=type(exc).__name__)
    return _reply(500, _body("internal error; the request was rolled back"))


class RowIdConverter(IntegerConverter):
    """`<int:...>` in routes: ids and versions are 32-bit integer columns, so a larger number
    names nothing (404) instead of overflowing the database driver (a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register(app: Flask) -> None:
    """Error handlers, and the route converter that keeps huge path ids out of the database;
    called before any blueprint is registered, since rules bind their converter when added."""
    app.url_map.converters["int"] = RowIdConverter
    app.register_error_handler(TendError, tend_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
