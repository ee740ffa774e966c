"""An event: something a customer did at an instant (`purchase`, `login`, ...), typed as
config.yaml declares its data, and the one pure check every way in shares.

`check_event` takes one decoded JSON object and returns a typed `Event` or the problems as
(field, message) pairs, so the HTTP batch endpoint can name item and field while the file
import names line and field. The stores and importers (adapters/intake/event_import.py) do
the IO; the standing tickets, the push worker and step timing read the values.

A `null` in `data` is a missing value and is not kept; `id: null` means no id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.config import Config
from engine.formats.values import coerce, parse_instant, unstorable
from engine.limits import MAX_TEXT

FIELDS = ("id", "customer_id", "type", "at", "data")
_KNOWN = frozenset(FIELDS)
LIMITS = {"id": 128, "customer_id": 64}
_TEXT_LIMITS = tuple((key, LIMITS.get(key, MAX_TEXT))
                     for key in ("id", "customer_id", "type", "at"))


@dataclass(frozen=True)
class Event:
    id: str | None
    customer_id: str
    type: str
    at: dt.datetime  # aware, UTC
    data: Mapping[str, Any]  # typed as config.yaml declares: float, str, date, bool


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    event: Event
    known_customer: bool
    index: int = 0  # the event's position in the batch it was stored from


def check_event(raw: Any, config: Config) -> Event | list[tuple[str, str]]:
    """A typed event, or every (field, message) wrong with it."""
    if not isinstance(raw, dict):
        return [("event", "expected a JSON object")]
    problems = [(key, "unknown field, expected one of " + ", ".join(FIELDS))
                for key in raw if key not in _KNOWN]
    texts = _texts(raw, problems)
    event_type = texts.get("type")
    declared = config.events.get(event_type) if event_type else None
    if event_type and declared is None:
        problems.append(("type", f"unknown event type {event_type!r}, expected one of "
                                 + ", ".join(sorted(config.events))))
    at = None
    if "at" in texts:
        try:
            at = parse_instant(texts["at"], config.timezone)
        except ValueError as exc:
            problems.append(("at", str(exc)))
    data = _check_data(raw.get("data"), declared, event_type, problems)
    if problems or at is None or event_type is None:
        return problems
    return Event(texts.get("id"), texts["customer_id"], event_type, at, data)


def _texts(raw: dict[str, Any], problems: list[tuple[str, str]]) -> dict[str, str]:
    """The string fields that are present and well-formed; `id` alone is optional."""
    texts = {}
    for key, limit in _TEXT_LIMITS:
        value = raw.get(key)
        if (type(value) is str and 0 < len(value) <= limit and value.isascii()
                and "\x00" not in value):  # the usual case, decided in one test
            texts[key] = value
        elif value is None:
            if key != "id":
                problems.append((key, "required"))
        elif not isinstance(value, str) or not value:
            problems.append((key, f"expected a non-empty string, got {value!r}"))
        elif len(value) > limit:
            problems.append((key, f"expected at most {limit} characters, got {len(value)}"))
        elif unstorable(value):
            problems.append((key, str(unstorable(value))))
        else:
            texts[key] = value
    return texts


def _check_data(raw: Any, declared: Mapping[str, Any] | None, event_type: str | None,
                problems: list[tuple[str, str]]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(("data", f"expected an object, got {raw!r}"))
        return {}
    data = {}
    for key, value in raw.items():
        if isinstance(value, str) and len(value) > MAX_TEXT:  # refused before any echo of it
            problems.append((f"data.{key}", str(unstorable(value))))
            continue
        if declared is None or value is None:
            continue
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            problems.append((f"data.{key}", f"not declared for event type {event_type!r} "
                                            f"(declared: {known})"))
            continue
        try:
            data[key] = coerce(value, declared[key])
        except ValueError as exc:
            problems.append((f"data.{key}", str(exc)))
    return data
