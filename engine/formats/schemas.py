"""marshmallow fields shared by the config, playbook and workflow formats.

They are strict on purpose: a designer who writes `priority: "40"` or `cooldown: 90` gets an
error at that line instead of a silently coerced value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from engine.errors import Problem
from engine.errors import ValidationError as TendValidationError
from engine.formats.source import Source, plain, problems_from
from engine.formats.values import SCHEDULE_UNITS, parse_duration

IDENTIFIER = validate.Regexp(r"^[a-z0-9_-]+$", error="expected an id of [a-z0-9_-]+")
NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="expected a name of [a-z][a-z0-9_]*")


class Number(fields.Field):
    """A YAML number, never a numeric string or a boolean."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"expected a number, got {value!r}")
        return float(value)


class Integer(fields.Field):
    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"expected an integer, got {value!r}")
        return value


class Text(fields.Field):
    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"expected a string, got {value!r}")
        return str(value)


class Texts(fields.Field):
    """Words a person reads: one string, or the same in each of `languages` (`{zh: ..., en:
    ...}`, every language given, none empty). A string comes back as it is, a mapping as a
    dict, so the caller knows whether a translation was written."""

    def __init__(self, languages: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.languages = languages

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> str | dict[str, str]:
        spelled = " and ".join(self.languages)
        expected = f"expected a non-empty string or {{{', '.join(self.languages)}}}"
        if isinstance(value, str):
            if not value.strip():
                raise ValidationError(expected)
            return value
        if not isinstance(value, Mapping):
            raise ValidationError(f"{expected}, got {value!r}")
        if set(value) != set(self.languages) or not all(
                isinstance(v, str) and v.strip() for v in value.values()):
            raise ValidationError(f"{expected}: a non-empty text in each of {spelled}, "
                                  f"got {dict(value)!r}")
        return {lang: str(value[lang]) for lang in self.languages}


class Bool(fields.Field):
    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"expected true or false, got {value!r}")
        return value


class Duration(fields.Field):
    """`<int><unit>` with the units the field allows (conditions: d, w; elsewhere also m, h)."""

    def __init__(self, units: str = SCHEDULE_UNITS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> dt.timedelta:
        try:
            return parse_duration(value, self.units)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Entries(fields.Dict):
    """A mapping of names to entries whose errors are placed at the entry, as people read the
    file: `channels.wechat.adapter`, not marshmallow's `channels.wechat.value.adapter`."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> Any:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as exc:
            raise ValidationError(_by_entry(exc.messages), valid_data=exc.valid_data) from None


def _by_entry(messages: Any) -> Any:
    if not isinstance(messages, dict):
        return messages
    found: dict[Any, Any] = {}
    for name, parts in messages.items():
        entry: dict[str, Any] = {}
        for part in ("key", "value"):
            inner = parts.get(part) if isinstance(parts, dict) else None
            if isinstance(inner, dict):
                entry.update(inner)
            elif inner:
                entry.setdefault("_schema", []).extend(inner)
        found[name] = entry or parts
    return found


class Strict(Schema):
    """Unknown keys are errors (marshmallow's default RAISE, named here so it's deliberate)."""


def load_checked(schema: Schema, source: Source) -> dict[str, Any]:
    """Structure-check a document; every marshmallow error becomes a placed problem."""
    if not isinstance(source.root, dict):
        raise TendValidationError([source.at([], "expected a mapping at the top of the file")])
    try:
        result: dict[str, Any] = schema.load(plain(source.root))
    except ValidationError as exc:
        raise TendValidationError(problems_from(source, exc.messages)) from None
    return result


def checked_parts(schema: Schema, source: Source,
                  ) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
    """`load_checked` that goes on after a structure error: the checked data (empty when the
    structure is wrong), the plain document (for the checks that name fields and places
    the schema cannot), and the problems found so far. A file's mistakes are all reported
    at once, not the first only."""
    try:
        data = load_checked(schema, source)
    except TendValidationError as exc:
        return {}, _document(source), list(exc.problems)
    return data, _document(source), []


def _document(source: Source) -> dict[str, Any]:
    return plain(source.root) if isinstance(source.root, dict) else {}

