"""The messages posted to durable-rules: facts encoded so its C comparisons give Python's answers.

durable-rules 2.0.28 reads a message as JSON text and compares values in C (events.c, json.c):

- Strings compare with `strncmp` over the raw JSON text: it reads past the shorter string into
  the closing quote (`"ab" > "ab!"`, `"ab" > "ab c"`), compares escapes such as `\\"` as
  backslashes and truncates lengths to 16 bits. So a string is posted as the hex of its UTF-8
  bytes: hex digits sort like the bytes, UTF-8 bytes like code points, and nothing is escaped.
- Its JSON reader ends a number at an exponent, so `1e-05` or `1e+16` (Python's float repr) is a
  parse error; integers are read with `atoll` and compared exactly. So a number is posted as the
  64-bit integer that orders like it.
- It has no date arithmetic, so a date is posted with its age in days on the evaluation date.
- `id` and `sid` are its own message keys (the message and session ids).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from engine.formats.values import FieldType

MARK = "#"
MAX_STRING_BYTES = 32767
_RESERVED = frozenset({"id", "sid"})

Encoder = Callable[[dict[str, Any], Any, int], None]
"""Adds one present value's keys to a message: (message, value, today's ordinal)."""


def number_key(number: float) -> int:
    """A signed 64-bit integer that orders like `number`; 0.0 and -0.0 get the same one."""
    if number != number:
        raise ValueError("NaN has no order; durable-rules cannot compare it")
    bits: int = struct.unpack("<q", struct.pack("<d", float(number) + 0.0))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def string_key(text: str) -> str:
    """The hex of the UTF-8 bytes: compares like `text` in durable-rules' strncmp."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > MAX_STRING_BYTES:
        raise ValueError(f"strings over {MAX_STRING_BYTES} UTF-8 bytes don't compare correctly "
                         f"in durable-rules (got {len(data)})")
    return data.hex()


def field_key(field: str) -> str:
    """The message key of a field; `id` and `sid` are durable-rules' own, so they get a `#`."""
    return field + "#" if field in _RESERVED else field


def item_key(field: str, item: str) -> str:
    return f"{field_key(field)}#{string_key(item)}"


def age_key(field: str) -> str:
    return field_key(field) + "#age"


def literal(ftype: FieldType) -> Callable[[Any], Any]:
    """How a scalar value of `ftype` is posted (and so how a literal is written in a rule)."""
    if ftype is FieldType.NUMBER:
        return number_key
    if ftype is FieldType.STRING:
        return string_key
    if ftype is FieldType.DATE:
        return dt.date.toordinal
    return bool


def message(facts: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """The full durable-rules message for `facts` on `today`; missing values are left out.

    `#`: 1 always (every rule requires it). A number is posted as `number_key(x)`, a string as
    `string_key(s)`, a bool as itself; a date `f` as its ordinal and `f#age` = today's ordinal
    minus it (so within_last N is 0 ≤ age ≤ N); a non-empty list `f` as `f`: 1 and
    `f#<string_key(item)>`: 1 per item (contains is `$ex`). `id` is posted as `id#`. A ruleset
    posts only the part of this its rules read (`encoder`).
    """
    out: dict[str, Any] = {MARK: 1}
    for field, value in facts.items():
        out.update(_encode(field, value, today))
    return out


def _encode(field: str, value: Any, today: dt.date) -> Iterator[tuple[str, Any]]:
    if value is None:
        return
    key = field_key(field)
    if isinstance(value, bool):
        yield key, value
    elif isinstance(value, int | float):
        yield key, number_key(value)
    elif isinstance(value, str):
        yield key, string_key(value)
    elif isinstance(value, dt.date):
        yield key, value.toordinal()
        yield age_key(field), today.toordinal() - value.toordinal()
    elif isinstance(value, tuple | list | frozenset | set):
        if value:
            yield key, 1
            yield from ((item_key(field, item), 1) for item in value)
    else:
        raise TypeError(f"{field}: no message encoding for {type(value).__name__}")


def encoder(field: str, ftype: FieldType, keys: Collection[str],
            items: Collection[str]) -> Encoder:
    """The part of `message` for one field that a ruleset reads: only `keys`, and of a list
    only the `items` its rules name. Encoding just that is most of the cost of a match.
    """
    key, age = field_key(field), age_key(field)
    if ftype is FieldType.LIST:
        flag = key in keys
        wanted = tuple((item, item_key(field, item)) for item in sorted(items))

        def encode_list(out: dict[str, Any], value: Any, _: int) -> None:
            if value:
                if flag:
                    out[key] = 1
                for item, item_at in wanted:
                    if item in value:
                        out[item_at] = 1
        return encode_list
    if ftype is FieldType.DATE:
        absolute, relative = key in keys, age in keys

        def encode_date(out: dict[str, Any], value: Any, today: int) -> None:
            day = value.toordinal()
            if absolute:
                out[key] = day
            if relative:
                out[age] = today - day
        return encode_date
    convert = literal(ftype)

    def encode(out: dict[str, Any], value: Any, _: int) -> None:
        out[key] = convert(value)
    return encode
