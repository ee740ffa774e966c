"""A problem about a named input carries its field: people read "field: message" as before,
and the HTTP body files the message under the field without reading it back out of the text."""

from __future__ import annotations

from flask import Flask

from adapters.http.errors import tend_error
from engine.errors import Problem, ValidationError


def _body(exc: ValidationError) -> object:
    with Flask(__name__).app_context():
        return tend_error(exc).json


def test_a_fields_problem_reads_as_before_and_is_filed_under_its_field() -> None:
    exc = ValidationError("a rejection says why", field="reason")
    assert exc.message == "reason: a rejection says why"  # what `tend` prints
    assert _body(exc) == {"message": "reason: a rejection says why",
                          "errors": {"reason": ["a rejection says why"]}}


def test_text_that_only_looks_like_a_field_stays_whole() -> None:
    """The message is never parsed: only a problem given a field names one."""
    exc = ValidationError("level: not a field, just words")
    assert _body(exc) == {"message": "level: not a field, just words",
                          "errors": {"_schema": ["level: not a field, just words"]}}


def test_a_files_problem_keeps_its_place() -> None:
    problem = Problem("draft.yaml", 3, 5, "unknown field 'tierr'")
    body = _body(ValidationError([problem]))
    assert body == {"message": "draft.yaml:3:5: unknown field 'tierr'",
                    "errors": {"_schema": ["draft.yaml:3:5: unknown field 'tierr'"]},
                    "problems": [{"line": 3, "column": 5, "message": "unknown field 'tierr'"}]}
