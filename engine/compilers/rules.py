"""The durable-rules rendering of a condition: ruleset dicts and a thread-safe Matcher.

Events are matched one customer at a time by durable-rules 2.0.28, a C Rete engine. Its source
(rete.c, events.c, json.c) and tests/unit/compilers/test_rules.py fixed this design:

- It has no `not`: negation is pushed down to the leaves (De Morgan, two-valued: a comparison
  on a missing key is false, so its negation is `$nex` or the inverted comparison).
- Its string and number comparisons are wrong for some JSON texts, and it has no date
  arithmetic: facts are posted in the encoding of `rules_message.py`, literals likewise.
- Keys are found by a 32-bit hash, a message holds at most 252 keys, the walk of the alpha
  network at most 64 pending nodes and a rule at most 15 and/or groups: `rules_limits.py`
  checks a ruleset when it is compiled, and a message carries only the keys its rules read.
- A rule that a keyless message satisfies also matches durable-rules' own session state and
  then fires forever, so every rule requires the marker key `#` that every message carries.
- An event stays in durable-rules until an action has run for it, and one event fires one rule:
  each top-level alternative is a rule (more and/or groups fit), all with the same no-op action.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from durable.engine import Host, MessageNotHandledException

from engine.compilers.rules_limits import check_limits
from engine.compilers.rules_message import (
    MARK,
    Encoder,
    age_key,
    encoder,
    field_key,
    item_key,
    literal,
    message,
)
from engine.errors import Conflict
from engine.formats.values import FieldType
from engine.language.condition import DATE_OPS, All, Condition, Leaf, Not, leaves

__all__ = ["Matcher", "Ruleset", "message", "render"]

Expr = dict[str, Any]

_ACTION = "consume"
_COMPARE = {"eq": "$eq", "ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
_FLIP = {"$eq": "$neq", "$neq": "$eq", "$lt": "$gte", "$gte": "$lt", "$gt": "$lte",
         "$lte": "$gt", "$ex": "$nex", "$nex": "$ex"}


@dataclass(frozen=True)
class Ruleset:
    """A condition rendered for durable-rules: its rules and how to encode a message for them."""

    rules: Mapping[str, Expr]
    keys: frozenset[str]
    encoders: tuple[tuple[str, Encoder], ...]

    def message(self, facts: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
        """The part of `message(facts, today)` these rules read."""
        out: dict[str, Any] = {MARK: 1}
        day = today.toordinal()
        for field, encode in self.encoders:
            value = facts.get(field)
            if value is not None:
                encode(out, value, day)
        return out


def render(cond: Condition) -> Ruleset:
    """One rule per top-level alternative; raises ValidationError past durable-rules' limits."""
    expr = _render(cond, negated=False)
    alternatives = expr.get("$or", [expr])
    bodies = [_join("$and", [{"$ex": {MARK: 1}}, alt]) for alt in alternatives]
    keys = {MARK} | {key for body in bodies for key in _keys(body)}
    check_limits(bodies, keys)
    rules = {f"r{i}": {"all": [{"m": body}], "run": _ACTION} for i, body in enumerate(bodies)}
    types: dict[str, FieldType] = {}
    items: dict[str, set[str]] = {}
    for leaf in leaves(cond):
        types[leaf.field] = leaf.ftype
        if leaf.ftype is FieldType.LIST and leaf.op != "exists":
            items.setdefault(leaf.field, set()).update(
                leaf.value if isinstance(leaf.value, tuple) else (leaf.value,))
    encoders = tuple((field, encoder(field, ftype, keys, items.get(field, set())))
                     for field, ftype in sorted(types.items()))
    return Ruleset(rules, frozenset(keys), encoders)


def _render(cond: Condition, negated: bool) -> Expr:
    if isinstance(cond, Leaf):
        return _negated_leaf(cond) if negated else _leaf(cond)
    if isinstance(cond, Not):
        return _render(cond.item, not negated)
    conjunction = isinstance(cond, All) != negated
    return _join("$and" if conjunction else "$or", [_render(c, negated) for c in cond.items])


def _leaf(leaf: Leaf) -> Expr:
    op, lit = leaf.op, leaf.value
    key = field_key(leaf.field)
    if op == "exists":
        return _atom("$ex" if lit else "$nex", key, 1)
    if leaf.ftype is FieldType.LIST:
        tests = [_atom("$ex", item_key(leaf.field, item), 1)
                 for item in (lit if isinstance(lit, tuple) else (lit,))]
        return _join("$or" if op == "contains_any" else "$and", tests)
    if op in DATE_OPS:
        age = age_key(leaf.field)
        if op == "older_than":
            return _atom("$gt", age, lit)
        low, high = (0, lit) if op == "within_last" else (-lit, 0)
        return _join("$and", [_atom("$gte", age, low), _atom("$lte", age, high)])
    encode = literal(leaf.ftype)
    if op in _COMPARE:
        return _atom(_COMPARE[op], key, encode(lit))
    if op == "in":
        return _join("$or", [_atom("$eq", key, encode(v)) for v in lit])
    if op == "not_in":
        return _join("$and", [_atom("$neq", key, encode(v)) for v in lit])
    low, high = lit
    return _join("$and", [_atom("$gte", key, encode(low)), _atom("$lte", key, encode(high))])


def _negated_leaf(leaf: Leaf) -> Expr:
    """De Morgan over the leaf's tests; a comparison is also true when its key is missing."""
    flipped = _flip(_leaf(leaf))
    if leaf.op == "exists" or leaf.ftype is FieldType.LIST:
        return flipped
    key = age_key(leaf.field) if leaf.op in DATE_OPS else field_key(leaf.field)
    return _join("$or", [_atom("$nex", key, 1), flipped])


def _flip(expr: Expr) -> Expr:
    """The complement, given that the keys are present: and/or swapped, each test inverted."""
    (op, body), = expr.items()
    if op in ("$and", "$or"):
        return _join("$or" if op == "$and" else "$and", [_flip(part) for part in body])
    return {_FLIP[op]: body}


def _atom(op: str, key: str, value: Any) -> Expr:
    return {op: {key: value}}


def _join(op: str, parts: list[Expr]) -> Expr:
    """`{op: parts}`, nested groups of the same op merged, repeats dropped, a single unwrapped."""
    flat: list[Expr] = []
    seen: set[str] = set()
    for part in parts:
        for item in part.get(op, [part]):
            text = json.dumps(item, sort_keys=True)
            if text not in seen:
                seen.add(text)
                flat.append(item)
    return flat[0] if len(flat) == 1 else {op: flat}


def _keys(expr: Expr) -> Iterator[str]:
    (op, body), = expr.items()
    if op in ("$and", "$or"):
        for part in body:
            yield from _keys(part)
    else:
        yield from body


def _consume(_: Any) -> None:
    """The rules' action: durable-rules keeps a matched event until an action has run."""


class _Host(Host):
    def get_action(self, action_name: str) -> Callable[[Any], None]:
        """Every rule here names the one action, `consume`."""
        return _consume


class Matcher:
    """Named compiled conditions (`<playbook>@<version>`) and whether facts match them.

    Safe to call from many threads: the answer comes from the post call itself (durable-rules
    raises MessageNotHandledException when nothing matched), never from what an action saw,
    because an action may run on another caller's thread or on durable-rules' timer thread.
    Each post has its own id, so two equal messages in flight are not taken as a repeat.
    """

    def __init__(self) -> None:
        self._host = _Host()
        self._conditions: dict[str, Condition] = {}
        self._rulesets: dict[str, Ruleset] = {}
        self._ids = itertools.count(1)
        self._adding = threading.Lock()

    def add(self, name: str, cond: Condition) -> None:
        """Compile `cond` as `name`; the same condition again is a no-op.

        durable-rules can't replace or drop a ruleset, so another condition under a name already
        used is a Conflict: bump the playbook version instead.
        """
        with self._adding:
            known = self._conditions.get(name)
            if known is not None:
                if known != cond:
                    raise Conflict(f"ruleset {name} is already compiled with another condition")
                return
            ruleset = render(cond)
            # durable-rules deletes `run` from the definitions it is given: give it a copy
            self._host.set_rulesets({name: copy.deepcopy(dict(ruleset.rules))})
            self._rulesets[name] = ruleset
            self._conditions[name] = cond

    def fields(self, name: str) -> frozenset[str]:
        """The fields the ruleset `name` reads: a message for it needs no others."""
        return frozenset(field for field, _ in self._rulesets[name].encoders)

    def __contains__(self, name: object) -> bool:
        return name in self._rulesets

    def backlog(self, name: str) -> int:
        """Events and facts durable-rules still holds for `name`: 0 once every post is consumed,
        which keeps memory flat however many events pass (for health checks and metrics).
        """
        return len(self._host.get_pending_events(name)) + len(self._host.get_facts(name))

    def matches(self, name: str, facts: Mapping[str, Any], today: dt.date) -> bool:
        ruleset = self._rulesets[name]
        event = ruleset.message(facts, today)
        event["id"] = next(self._ids)
        try:
            self._host.post(name, event)
        except MessageNotHandledException:
            return False
        return True
