"""Typed values shared by config, playbooks, conditions and imports: types, durations, dates."""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import ValidationError
from engine.limits import MAX_TEXT


class FieldType(enum.Enum):
    NUMBER = "number"
    STRING = "string"
    DATE = "date"
    BOOL = "bool"
    LIST = "list"


DECLARABLE_TYPES = {t.value: t for t in (FieldType.NUMBER, FieldType.STRING, FieldType.DATE,
                                         FieldType.BOOL)}

CONDITION_UNITS = "dw"
SCHEDULE_UNITS = "mhdw"
_UNIT = {"s": dt.timedelta(seconds=1),  # only where a field allows it (task_lease)
         "m": dt.timedelta(minutes=1), "h": dt.timedelta(hours=1), "d": dt.timedelta(days=1),
         "w": dt.timedelta(weeks=1)}
_DURATION = re.compile(r"^([0-9]+)([a-z])$")
FIRST_YEAR, LAST_YEAR = dt.MINYEAR + 1, dt.MAXYEAR - 1
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_duration(value: Any, units: str = SCHEDULE_UNITS) -> dt.timedelta:
    """`<int><unit>`; raises ValueError with the reason a designer needs."""
    allowed = ", ".join(f"N{u}" for u in units)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or match.group(2) not in units:
        raise ValueError(f"expected a duration like {allowed}, got {value!r}")
    try:
        return int(match.group(1)) * _UNIT[match.group(2)]
    except OverflowError:
        raise ValueError(f"duration {value!r} is too long") from None


def parse_date(value: Any) -> dt.date:
    """A `YYYY-MM-DD` string (or a date YAML already parsed) as a date."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


def parse_instant(value: str, tz: ZoneInfo) -> dt.datetime:
    """`YYYY-MM-DD` (local midnight) or an ISO timestamp; without an offset it is local time.

    Returned as an aware datetime in UTC, the one form instants are stored and compared in.
    """
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected YYYY-MM-DD or an ISO timestamp, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        instant = parsed.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 has no UTC form
        instant = None
    # Evaluation needs room around an instant (the next birthday, a week of replayed events),
    # so the first and last year Python's dates know are refused rather than crashing later.
    if instant is None or not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValueError(f"timestamp {value!r} is out of range: expected a year between "
                         f"{FIRST_YEAR} and {LAST_YEAR}")
    return instant


def given_instant(text: str | None, tz: ZoneInfo, name: str, now: dt.datetime) -> dt.datetime:
    """An instant a user may give (`--at`, an `at` field or query argument): `now` (the
    caller's clock) when left out, else parse_instant's reading; a bad one is refused naming
    `name`, which the HTTP layer turns into that field's error."""
    if text is None:
        return now
    try:
        return parse_instant(text, tz)
    except ValueError as exc:
        raise ValidationError(str(exc), field=name) from None


def before(instant: dt.datetime, span: dt.timedelta) -> dt.datetime:
    """`instant - span`, or the earliest instant when a long span (a 900000d cooldown is
    valid) reaches past year 1: a window that long simply has no lower bound."""
    try:
        return instant - span
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=instant.tzinfo)


def local_date(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The calendar date of an instant in the configured timezone (naive means local already)."""
    if instant.tzinfo is None:
        return instant.date()
    return instant.astimezone(tz).date()


def unstorable(text: str) -> str | None:
    """Why this text may not be stored (NUL, an unpaired surrogate, over engine.limits.MAX_TEXT
    characters), or None."""
    if len(text) > MAX_TEXT:
        return f"expected at most {MAX_TEXT} characters, got {len(text)}"
    if "\x00" in text:
        return "expected text without NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "expected valid Unicode text (an unpaired surrogate was found)"
    return None


def coerce(value: Any, ftype: FieldType) -> Any:
    """A literal of a condition as the Python value of its field type; ValueError if it isn't."""
    if ftype is FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    if ftype is FieldType.DATE:
        return parse_date(value)
    if ftype is FieldType.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    # STRING, and any other type (LIST): text as it may be stored
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    reason = unstorable(value)
    if reason:
        raise ValueError(reason)
    return value


def parse_cell(text: str, ftype: FieldType) -> Any:
    """A CSV cell (non-empty) as its declared type; ValueError names what was expected."""
    if ftype is FieldType.NUMBER:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {text!r}")
        return number
    if ftype is FieldType.DATE:
        return parse_date(text)
    if ftype is FieldType.BOOL:
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if ftype is FieldType.LIST:
        return tuple(sorted({t.strip() for t in text.split(";") if t.strip()}))
    return text


def shift(day: dt.date, days: int) -> dt.date:
    """`day + days`, clamped to the dates that exist (a 10,000-year window is not an error)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.min if days < 0 else dt.date.max
