"""Every error a request can meet becomes JSON `{"message", "errors": {field: [...]}}` here.

One place: TendError subclasses (by their `status`; argument errors are `Invalid`, 400 by
field, see adapters.http.contract), werkzeug HTTP errors (404, 405, a body that is not JSON,
...), and anything unexpected (500 with a generic message, logged with its traceback).
No HTML error pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from flask import Flask, Response, has_request_context, jsonify, request
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from adapters.http.messages import error_text
from engine.errors import Invalid, Problem, TendError, ValidationError
from engine.limits import MAX_ID

log = structlog.get_logger("tend.http")


class ProblemOut(Schema):
    line = fields.Integer(metadata={"description": "in the posted YAML (1-based; 0: the file)"})
    column = fields.Integer()
    message = fields.String(required=True)


class ErrorOut(Schema):
    """Every error answer, as this module writes it (documented in /openapi.json)."""

    class Meta:
        unknown = INCLUDE

    message = fields.String(required=True)
    errors = fields.Dict(required=True, metadata={
        "description": "field (or batch item index) -> messages"})
    problems = fields.List(fields.Nested(ProblemOut), metadata={
        "description": "a posted playbook's problems, with their place in its YAML"})
    code = fields.String(metadata={
        "description": "what went wrong, for clients that word it themselves "
                       "(ticket.not_found, ...); `message` is in Accept-Language (en, zh)"})
    params = fields.Dict(metadata={"description": "the values the code's sentence names"})


def problem_json(problem: Problem) -> dict[str, Any]:
    """A place to look only for a file (a playbook's YAML); a query parameter or a JSON
    field has no line and column, and its field is named under `errors`."""
    if not problem.file:
        return {"message": str(problem)}
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
        for problem in exc.problems:  # a field's problem under its name, the rest whole
            if problem.field and not problem.file:
                errors.setdefault(problem.field, []).append(problem.message)
            else:
                errors.setdefault("_schema", []).append(str(problem))
        extra = ({"problems": [problem_json(p) for p in exc.problems]}
                 if any(p.file for p in exc.problems) else {})
        return _reply(exc.status, _body(exc.message, errors, **extra))
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    coded: dict[str, Any] = ({"code": exc.code, "params": jsonable(exc.params)}
                             if exc.code else {})
    return _reply(exc.status, _body(_spoken(exc), **coded), headers)


def _spoken(exc: TendError) -> str:
    """The message in the client's `Accept-Language` when the error has a code the catalog
    words (adapters/http/messages.py); English clients get the engine's message as ever."""
    best = request.accept_languages.best_match(["en", "zh"]) if has_request_context() else None
    return error_text(exc) if best == "zh" else exc.message


def jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | float | str | list | None) else str(v)
            for k, v in params.items()}


def http_error(exc: HTTPException) -> Response:
    """werkzeug errors (argument errors are `Invalid`, adapters.http.contract); a 405 keeps
    its `Allow` header."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    message = data.get("message") or exc.description or exc.name
    return _reply(status, _body(message), headers)


def unexpected(exc: Exception) -> Response:
    log.exception("unhandled error", error=type(exc).__name__)
    return _reply(500, _body("internal error; the request was rolled back"))


class RowIdConverter(IntegerConverter):
    """`<int:...>` in routes: ids and versions are 32-bit integer columns, so a larger number
    names nothing (404) instead of overflowing the database driver (a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register(app: Flask) -> None:
    """Error handlers, and the route converter that keeps huge path ids out of the database;
    called before any blueprint is registered, since rules bind their converter when added."""
    app.url_map.converters["int"] = RowIdConverter
    app.register_error_handler(TendError, tend_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
