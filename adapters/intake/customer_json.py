"""`POST /customers`: a JSON list upserted by id through the CSV importer's own code.

Each item becomes a CSV row (its keys are the header) and goes through the importer's column
planning, typed cell parsing and writers, so both ways in accept, reject and store exactly
the same values. JSON adds one check first: a value's JSON type must suit its field (a number
for `arpu`, text for `name`, ...), because turning `true` into the text "true" would hide a
client's mistake.

Decisions DESIGN.md leaves open:
- Like the columns of a CSV file, every item of one request has the same fields: an absent
  field leaves the stored value unchanged, `null` or "" clears it, so mixed field sets would
  need one upsert per set; send them as separate requests.
- `tags` and `opt_out` take a list of strings or a `;`-separated string.
- The whole batch is checked before anything is written: any bad item → 400 naming every bad
  item by index and field, and nothing is written (the writer's transaction rolls back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from adapters.intake.assignment import assign_after_import
from adapters.intake.customer_csv import ColumnParser, Layout, plan_columns
from adapters.intake.customer_store import open_writer
from engine.config import Config
from engine.errors import Invalid, ValidationError
from engine.formats.values import FieldType, unstorable
from engine.limits import MAX_TEXT

MAX_ITEMS = 10_000
Errors = dict[str, dict[str, list[str]]]


@dataclass(frozen=True)
class Upserted:
    received: int
    inserted: int
    ignored_fields: tuple[str, ...]
    assigned: int = 0  # customers given a manager by the assignment rules afterwards

    def as_json(self) -> dict[str, Any]:
        return {"received": self.received, "inserted": self.inserted,
                "updated": self.received - self.inserted,
                "ignored_fields": list(self.ignored_fields), "assigned": self.assigned}


def upsert_customers(engine: Engine, config: Config, body: Any, now: dt.datetime) -> Upserted:
    items = _items(body)
    if not items:
        return Upserted(0, 0, ())
    header = list(items[0])
    errors: Errors = {}
    for index, item in enumerate(items[1:], start=1):
        if set(item) != set(header):
            errors[str(index)] = {"_schema": [_differs(item, header)]}
    layout = _layout(header, config)
    kinds = {name: kind for _, name, kind in layout.sources()}
    rows = [[_cell(item.get(name), kinds.get(name), name, index, errors) for name in header]
            for index, item in enumerate(items)]
    with open_writer(engine, layout, now) as writer:
        parser = ColumnParser(layout, tuple(config.channels), writer.missing)
        parsed = parser.convert(rows, 0, len(rows) - 1, "body", 0)
        flagged = {(at, field) for at, found in errors.items() for field in found}
        for problem in parsed.problems:
            at, field = str(problem.line), header[problem.column - 1]
            if (at, field) in flagged or (at, "_schema") in flagged:
                continue  # already said, in JSON terms
            message = problem.message.removeprefix(f"column {field!r}: ")
            errors.setdefault(at, {}).setdefault(field, []).append(message)
        if errors:
            raise _bad(errors)  # rolls the writer's transaction back: nothing written
        writer.write(parsed.rows)
        inserted = writer.finish(commit=True)
    assigned = assign_after_import(engine, config, now)
    return Upserted(len(items), inserted, layout.ignored, assigned)


def _items(body: Any) -> list[Mapping[str, Any]]:
    if not isinstance(body, list):
        raise Invalid("expected a JSON list of customers", {"_schema": ["expected a list"]})
    if len(body) > MAX_ITEMS:
        raise Invalid(f"at most {MAX_ITEMS} customers per request",
                      {"_schema": [f"expected at most {MAX_ITEMS} items, got {len(body)}"]})
    bad = {str(i): {"_schema": ["expected an object"]}
           for i, item in enumerate(body) if not isinstance(item, dict)}
    if bad:
        raise _bad(bad)
    return body


def _layout(header: list[str], config: Config) -> Layout:
    try:
        return plan_columns(header, config, "body")
    except ValidationError as exc:
        raise Invalid("every customer needs the fields id and joined_on",
                      {"_schema": [p.message for p in exc.problems]}) from None


def _differs(item: Mapping[str, Any], header: Sequence[str]) -> str:
    missing = sorted(set(header) - set(item))
    extra = sorted(set(item) - set(header))
    parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
            ([f"extra {', '.join(extra)}"] if extra else [])
    return ("every item needs the fields of item 0 (send other field sets as another "
            "request): " + "; ".join(parts))


def _cell(value: Any, kind: Any, name: str, index: int, errors: Errors) -> str:
    """The CSV cell for a JSON value, or "" after recording why its JSON type is wrong."""
    if value is None or kind is None:  # kind None: an undeclared field, ignored like in CSV
        return ""
    texts = value if isinstance(value, list) else [value]
    bad = next((why for t in texts if isinstance(t, str) for why in [unstorable(t)] if why), None)
    if bad:
        errors.setdefault(str(index), {}).setdefault(name, []).append(bad)
        return ""
    expected = _expected(value, kind)
    if expected is None:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            joined = ";".join(value)
            if len(joined) <= MAX_TEXT:
                return joined
            errors.setdefault(str(index), {}).setdefault(name, []).append(
                f"expected at most {MAX_TEXT} characters in all, got {len(joined)}")
            return ""
        return value if isinstance(value, str) else repr(float(value))
    errors.setdefault(str(index), {}).setdefault(name, []).append(
        f"expected {expected}, got {value!r}")
    return ""


def _expected(value: Any, kind: Any) -> str | None:
    """What the field takes when `value`'s JSON type doesn't suit it, else None."""
    if kind in ("id", "opt_out") or kind in (FieldType.STRING, FieldType.DATE, FieldType.LIST):
        if isinstance(value, str):
            return None
        if kind in ("opt_out", FieldType.LIST) and isinstance(value, list) \
                and all(isinstance(v, str) and ";" not in v for v in value):
            return None
        return "a list of strings or a ;-separated string" \
            if kind in ("opt_out", FieldType.LIST) else "a string"
    if kind is FieldType.NUMBER:
        return None if isinstance(value, int | float) and not isinstance(value, bool) \
            else "a number"
    return None if isinstance(value, bool) else "true or false"


def _bad(errors: Errors) -> Invalid:
    return Invalid(f"{len(errors)} bad customer(s); nothing written",
                   dict(sorted(errors.items(), key=lambda kv: int(kv[0]))))

