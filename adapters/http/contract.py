"""Request arguments are exact: an unknown or invalid query parameter or body field is a
400 naming it, on every endpoint, so a misspelt filter is never silently ignored.

One parser for the API's blueprints (`Blueprint`) and the console's pages (`query_args`).
webargs ignores unknown query parameters by default and answers 422; here they are refused
and every validation error is the same 400 `engine.errors.Invalid` as the services raise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import flask_smorest
import marshmallow as ma
from flask import request
from webargs.flaskparser import FlaskParser

from engine.errors import Invalid


def _flatten(messages: Mapping[str, Any]) -> dict[str, Any]:
    """webargs nests messages by location ({"query": {"stat": [...]}}); clients want fields."""
    fields: dict[str, Any] = {}
    for location, found in messages.items():
        if isinstance(found, Mapping) and location in ("query", "json", "form", "files"):
            fields.update(found)
        else:
            fields[location] = found
    return fields


def invalid(messages: Mapping[str, Any]) -> Invalid:
    fields = _flatten(messages)
    unknown = sorted(name for name, found in fields.items() if found == ["Unknown field."])
    if unknown and len(unknown) == len(fields):
        what = "query parameter" if "query" in messages else "field"
        return Invalid(f"unknown {what}(s) {', '.join(unknown)}", fields)
    return Invalid(f"invalid {', '.join(sorted(fields)) or 'request'}", fields)


class RequestParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012 (webargs' own)
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE, "querystring": ma.RAISE}

    def handle_error(self, error: ma.ValidationError, req: Any, schema: ma.Schema, *,
                     error_status_code: int | None, error_headers: Any) -> NoReturn:
        messages = error.messages if isinstance(error.messages, dict) else {
            "_schema": error.messages}
        raise invalid(messages)


PARSER = RequestParser()


class NoQuery(ma.Schema):
    """The query of an endpoint that takes no query parameters: any is refused."""


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's, with the strict parser; a view declaring no query schema gets
    `NoQuery`, so no endpoint can forget to refuse unknown parameters."""

    ARGUMENTS_PARSER = PARSER

    def route(self, rule: str, *, parameters: Any = None, tags: Any = None,
              **options: Any) -> Callable[[Any], Any]:
        register = super().route(rule, parameters=parameters, tags=tags, **options)

        def decorator(func: Any) -> Any:
            declared = getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", [])
            if not any(p.get("in") == "query" for p in declared):
                func = self.arguments(NoQuery, location="query", as_kwargs=True)(func)
            return register(func)

        return decorator


def no_query() -> None:
    query_args(NoQuery())


def query_args(schema: ma.Schema) -> dict[str, Any]:
    """A console page's query parameters, checked as the API checks its own."""
    found: dict[str, Any] = PARSER.parse(schema, request, location="query")
    return found
