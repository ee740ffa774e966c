"""Conditions: parsed once into a small typed tree that every backend renders.

The tree is the single meaning of a condition. The plain evaluator, the SQL predicate and the
durable-rules ruleset are renderings of it, and the tests hold them to the same answers.
Parsing checks field names, operators and literal types, and reports every problem at its
place in the YAML file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from engine.errors import Problem
from engine.formats.source import PathKey, Source
from engine.formats.values import CONDITION_UNITS, FieldType, coerce, parse_duration
from engine.language.fields import Catalog
from engine.language.suggest import did_you_mean
from engine.limits import MAX_CONDITION_DEPTH, MAX_LIST_VALUES

COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte")
SCALAR_OPS = (*COMPARISONS, "in", "not_in", "between", "exists")
DATE_OPS = ("within_last", "within_next", "older_than")
LIST_OPS = ("contains", "contains_any", "contains_all", "exists")
OPS_BY_TYPE: dict[FieldType, tuple[str, ...]] = {
    FieldType.NUMBER: SCALAR_OPS,
    FieldType.STRING: SCALAR_OPS,
    FieldType.DATE: SCALAR_OPS + DATE_OPS,
    FieldType.BOOL: ("eq", "ne", "exists"),
    FieldType.LIST: LIST_OPS,
}
ALL_OPS = tuple(dict.fromkeys(op for ops in OPS_BY_TYPE.values() for op in ops))


@dataclass(frozen=True)
class Leaf:
    """`field op value`; false when the field is missing, except `exists: false`."""

    field: str
    op: str
    value: Any
    ftype: FieldType


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition: TypeAlias = Leaf | All | AnyOf | Not


def leaves(cond: Condition) -> list[Leaf]:
    if isinstance(cond, Leaf):
        return [cond]
    if isinstance(cond, Not):
        return leaves(cond.item)
    return [leaf for item in cond.items for leaf in leaves(item)]


def fields_of(cond: Condition) -> set[str]:
    return {leaf.field for leaf in leaves(cond)}


def describe(cond: Condition) -> str:
    """A one-line rendering a designer recognises from their YAML."""
    if isinstance(cond, Leaf):
        return f"{cond.field} {cond.op} {_literal(cond)}"
    if isinstance(cond, Not):
        return f"not ({describe(cond.item)})"
    word = " and " if isinstance(cond, All) else " or "
    return "(" + word.join(describe(item) for item in cond.items) + ")"


def _literal(leaf: Leaf) -> str:
    value = leaf.value
    if leaf.op in DATE_OPS:
        return f"{value}d"
    if isinstance(value, tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Parser:
    """Parses condition nodes of one YAML source against one catalog, gathering problems."""

    def __init__(self, source: Source, catalog: Catalog) -> None:
        self.source = source
        self.catalog = catalog
        self.problems: list[Problem] = []

    def fail(self, path: Sequence[PathKey], message: str) -> None:
        self.problems.append(self.source.at(path, message))

    def parse(self, node: Any, path: list[PathKey], depth: int = 0) -> Condition | None:
        """`depth`: the all/any/not levels above `node`; every backend renders conditions
        recursively, so they are bounded here."""
        if depth > MAX_CONDITION_DEPTH:
            self.fail(path, f"conditions nested deeper than {MAX_CONDITION_DEPTH} levels "
                            "of all, any and not")
            return None
        if not isinstance(node, dict) or len(node) != 1:
            self.fail(path, "a condition is a mapping with exactly one key: all, any, not, "
                            "or a field name")
            return None
        key, body = next(iter(node.items()))
        key = str(key)
        here = [*path, key]
        if key in ("all", "any"):
            if not isinstance(body, list) or not body:
                self.fail(here, f"'{key}' needs a non-empty list of conditions")
                return None
            items = [self.parse(item, [*here, i], depth + 1) for i, item in enumerate(body)]
            if any(item is None for item in items):
                return None
            parts = tuple(item for item in items if item is not None)
            return All(parts) if key == "all" else AnyOf(parts)
        if key == "not":
            inner = self.parse(body, here, depth + 1)
            return Not(inner) if inner is not None else None
        return self._field(key, body, here)

    def _field(self, name: str, body: Any, path: list[PathKey]) -> Condition | None:
        ftype = self.catalog.type_of(name)
        if ftype is None:
            self.fail(path, f"unknown field '{name}'{did_you_mean(name, self.catalog.known())} "
                            f"(known: {', '.join(self.catalog.known())})")
            return None
        if not isinstance(body, dict) or not body:
            self.fail(path, f"'{name}' needs a mapping of operators, e.g. {{eq: ...}}")
            return None
        parts: list[Condition] = []
        for op, literal in body.items():
            leaf = self._leaf(name, ftype, str(op), literal, [*path, str(op)])
            if leaf is not None:
                parts.append(leaf)
        if len(parts) != len(body):
            return None
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def _leaf(self, name: str, ftype: FieldType, op: str, literal: Any,
              path: list[PathKey]) -> Leaf | None:
        allowed = OPS_BY_TYPE[ftype]
        if op not in allowed:
            what = "unknown operator" if op not in ALL_OPS else "operator not allowed"
            self.fail(path, f"{what} '{op}' for {ftype.value} field '{name}' "
                            f"(expected one of: {', '.join(allowed)})")
            return None
        try:
            value = self._value(name, ftype, op, literal)
        except ValueError as exc:
            self.fail(path, f"{name}.{op}: {exc}")
            return None
        return Leaf(name, op, value, ftype)

    def _value(self, name: str, ftype: FieldType, op: str, literal: Any) -> Any:
        if op == "exists":
            if not isinstance(literal, bool):
                raise ValueError(f"expected true or false, got {literal!r}")
            return literal
        if op in DATE_OPS:
            return parse_duration(literal, CONDITION_UNITS).days
        if op in ("in", "not_in", "contains_any", "contains_all"):
            if not isinstance(literal, list) or not literal:
                raise ValueError(f"expected a non-empty list, got {literal!r}")
            if len(literal) > MAX_LIST_VALUES:
                raise ValueError(f"expected at most {MAX_LIST_VALUES} values, "
                                 f"got {len(literal)}")
            return tuple(self._scalar(name, ftype, item) for item in literal)
        if op == "between":
            if not isinstance(literal, list) or len(literal) != 2:
                raise ValueError(f"expected [low, high], got {literal!r}")
            low, high = (self._scalar(name, ftype, item) for item in literal)
            if low > high:
                raise ValueError(f"low {literal[0]!r} is greater than high {literal[1]!r}")
            return (low, high)
        return self._scalar(name, ftype, literal)

    def _scalar(self, name: str, ftype: FieldType, literal: Any) -> Any:
        value = coerce(literal, ftype)
        choices = self.catalog.choices.get(name)
        if choices is not None and value not in choices:
            raise ValueError(f"unknown {name} {value!r}{did_you_mean(str(value), choices)} "
                             f"(expected one of: {', '.join(choices)})")
        return value
