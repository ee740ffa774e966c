"""The plain Python evaluator: the reference meaning of a condition, and `explain`'s source.

Two-valued logic: a leaf on a missing field is false (except `exists: false`), and `not`
inverts whatever its child returned. The SQL and durable-rules renderings are tested against
this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.formats.values import shift
from engine.language.condition import All, AnyOf, Condition, Leaf, Not, describe

Facts = Mapping[str, Any]


def value_of(facts: Facts, name: str) -> Any:
    """The field's value, or None when missing (an empty list counts as missing)."""
    value = facts.get(name)
    if isinstance(value, tuple | list | frozenset | set) and not value:
        return None
    return value


def holds(cond: Condition, facts: Facts, today: dt.date) -> bool:
    if isinstance(cond, Leaf):
        return leaf_holds(cond, value_of(facts, cond.field), today)
    if isinstance(cond, Not):
        return not holds(cond.item, facts, today)
    if isinstance(cond, All):
        return all(holds(item, facts, today) for item in cond.items)
    return any(holds(item, facts, today) for item in cond.items)


def leaf_holds(leaf: Leaf, value: Any, today: dt.date) -> bool:
    op, lit = leaf.op, leaf.value
    if op == "exists":
        return (value is not None) is lit
    if value is None:
        return False
    if op == "eq":
        return bool(value == lit)
    if op == "ne":
        return bool(value != lit)
    if op == "lt":
        return bool(value < lit)
    if op == "lte":
        return bool(value <= lit)
    if op == "gt":
        return bool(value > lit)
    if op == "gte":
        return bool(value >= lit)
    if op == "in":
        return value in lit
    if op == "not_in":
        return value not in lit
    if op == "between":
        return bool(lit[0] <= value <= lit[1])
    if op == "contains":
        return lit in value
    if op == "contains_any":
        return any(item in value for item in lit)
    if op == "contains_all":
        return all(item in value for item in lit)
    if op == "within_last":
        return bool(shift(today, -lit) <= value <= today)
    if op == "within_next":
        return bool(today <= value <= shift(today, lit))
    if op == "older_than":
        return bool(value < shift(today, -lit))
    raise AssertionError(f"operator {op} has no evaluator")


@dataclass(frozen=True)
class Verdict:
    """One node of an explanation: what was asked, whether it held, and the value seen."""

    text: str
    held: bool
    actual: Any = None
    children: tuple[Verdict, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": self.text, "held": self.held}
        if not self.children:
            out["actual"] = _jsonable(self.actual)
        else:
            out["parts"] = [child.as_dict() for child in self.children]
        return out


def explain(cond: Condition, facts: Facts, today: dt.date) -> Verdict:
    """The whole tree with each node's outcome and, at the leaves, the customer's value."""
    if isinstance(cond, Leaf):
        value = value_of(facts, cond.field)
        return Verdict(describe(cond), leaf_holds(cond, value, today), value)
    if isinstance(cond, Not):
        child = explain(cond.item, facts, today)
        return Verdict("not", not child.held, children=(child,))
    children = tuple(explain(item, facts, today) for item in cond.items)
    if isinstance(cond, All):
        return Verdict("all of", all(c.held for c in children), children=children)
    assert isinstance(cond, AnyOf)
    return Verdict("any of", any(c.held for c in children), children=children)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | frozenset | set):
        return sorted(value)
    return value
