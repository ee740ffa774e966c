"""marshmallow building blocks for the designer-facing formats (playbooks, workflows, test cases).

marshmallow's stock messages ("Unknown field.", "Invalid input type.") say what is wrong but
not what was expected; a designer fixing a YAML file needs the list of keys that would have been
accepted. These helpers put that list into every message, so `problems_from` can place it at
the offending line.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from engine.formats.schemas import Strict

Messages = dict[str, str | list[Any] | dict[Any, Any]]
EXPECTED_LIST: Messages = {"invalid": "expected a list"}
EXPECTED_MAPPING: Messages = {"invalid": "expected a mapping"}


class Format(Strict):
    """A strict schema whose messages name the keys it accepts."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        keys = ", ".join(self.fields)
        self.error_messages = {**self.error_messages,
                               "unknown": f"unknown key (expected one of: {keys})",
                               "type": f"expected a mapping with keys: {keys}"}
        for field in self.fields.values():
            field.error_messages = {**field.error_messages,
                                    "required": "this key is required",
                                    "null": "is empty (expected a value)"}


def listing(inner: fields.Field, *, min_items: int = 0, **kwargs: Any) -> fields.List:
    """A list field; `min_items` > 0 makes an empty list an error that says so."""
    validators = [validate.Length(min=min_items, error=f"expected at least {min_items} item(s)")]
    return fields.List(inner, validate=validators if min_items else None,
                       error_messages=EXPECTED_LIST, **kwargs)


def choice(options: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(options, error="expected one of: {choices}, got {input!r}")
