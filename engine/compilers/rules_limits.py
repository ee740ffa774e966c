"""durable-rules' fixed-size limits, checked when a ruleset is compiled instead of hit at run time.

Past these limits durable-rules 2.0.28 fails: with an error when the ruleset is created (and/or
groups), or worse, with an error on the one message that happens to need more room (pending
nodes, keys) or a silently wrong answer (two keys with the same 32-bit hash). So a condition
that could reach one is rejected when its playbook is validated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from engine.errors import ValidationError

Expr = dict[str, Any]

MAX_GROUPS = 15      # and/or groups in one rule: MAX_SEQUENCE_EXPRESSIONS = 32 (rete.h)
MAX_PENDING = 64     # alpha nodes pending in one walk: MAX_STACK_SIZE (events.c)
MAX_KEYS = 252       # message keys besides id and sid: MAX_OBJECT_PROPERTIES = 255 (state.h)
_OWN_KEYS = ("id", "sid", "$forward")   # keys durable-rules looks up in every message


def check_limits(bodies: Sequence[Expr], keys: set[str]) -> None:
    """Raise ValidationError naming the first limit the rules (one expression each) exceed."""
    groups = max(_groups(body) for body in bodies)
    if groups > MAX_GROUPS:
        _fail(f"{groups} nested all/any/not groups in one alternative (at most {MAX_GROUPS})")
    network = Network()
    for body in bodies:
        network.add(body, 0)
    pending = network.pending()
    if pending > MAX_PENDING:
        _fail(f"up to {pending} tests may hold at once, e.g. many tags in contains_any "
              f"(at most {MAX_PENDING})")
    if len(keys) > MAX_KEYS:
        _fail(f"it reads {len(keys)} fields, tags and derived values (at most {MAX_KEYS})")
    hashes: dict[int, str] = {}
    for key in (*_OWN_KEYS, *sorted(keys)):
        other = hashes.setdefault(fnv1a(key), key)
        if other != key:
            _fail(f"{other!r} and {key!r} have the same 32-bit hash in durable-rules")


def fnv1a(key: str) -> int:
    """durable-rules' hash of a key's JSON text; its bytes go through a signed `char`."""
    value = 0x811C9DC5
    for byte in json.dumps(key, ensure_ascii=False)[1:-1].encode("utf-8"):
        value = ((value ^ (byte | 0xFFFFFF00 if byte > 127 else byte)) * 16777619) & 0xFFFFFFFF
    return value


def _fail(reason: str) -> None:
    raise ValidationError(f"condition is too large for the event engine: {reason}")


def _groups(expr: Expr) -> int:
    (op, body), = expr.items()
    if op in ("$and", "$or"):
        return 1 + sum(_groups(part) for part in body)
    return 0


class Network:
    """The alpha network durable-rules' createAlpha (rete.c) builds for the rules, as a graph.

    Node 0 is the root. A test under the same parent with the same operator, key and value is
    one shared node; `$and` chains its parts; `$or` starts each part at the parent and links
    their ends to a new forward node, which every walk reaching those ends pushes.
    """

    def __init__(self) -> None:
        self.children: list[list[int]] = [[]]
        self.tests: list[tuple[str, str, str] | None] = [None]
        self._shared: dict[tuple[int, str, str, str], int] = {}

    def add(self, expr: Expr, parent: int) -> int:
        """Add `expr` below `parent`; return the node a message reaches when it holds."""
        (op, body), = expr.items()
        if op == "$and":
            for part in body:
                parent = self.add(part, parent)
            return parent
        if op == "$or":
            forward = self._node(None)
            for part in body:
                self.children[self.add(part, parent)].append(forward)
            return forward
        (key, value), = body.items()
        test = (op, key, json.dumps(value))
        node = self._shared.get((parent, *test))
        if node is None:
            node = self._shared[(parent, *test)] = self._node(test)
            self.children[parent].append(node)
        return node

    def _node(self, test: tuple[str, str, str] | None) -> int:
        self.children.append([])
        self.tests.append(test)
        return len(self.tests) - 1

    def pending(self) -> int:
        """The most nodes that can wait on the walk's stack (handleAlpha, events.c).

        The walk pops a node and pushes every child that holds. While it is below a child, at
        most (children that can hold together - 1) siblings wait, so a node needs
        max(width, width - 1 + the most any child needs).
        """
        need: dict[int, int] = {}
        stack = [0]
        while stack:
            node = stack[-1]
            kids = self.children[node]
            todo = [kid for kid in kids if kid not in need]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            width = self._width(kids)
            need[node] = max(width, width - 1 + max((need[k] for k in kids), default=0))
        return need[0]

    def _width(self, kids: Iterable[int]) -> int:
        """How many of `kids` can hold for one message.

        Forward nodes always do. Per key, `$nex` holds only when the key is missing and every
        other test only when it is present, and of the `$eq` tests at most one holds.
        """
        forwards = 0
        absent: dict[str, int] = {}
        present: dict[str, int] = {}
        equal: set[str] = set()
        for kid in kids:
            test = self.tests[kid]
            if test is None:
                forwards += 1
                continue
            op, key, _ = test
            if op == "$nex":
                absent[key] = absent.get(key, 0) + 1
            elif op == "$eq" and key in equal:
                continue
            else:
                equal.update([key] if op == "$eq" else [])
                present[key] = present.get(key, 0) + 1
        keys = absent.keys() | present.keys()
        return forwards + sum(max(absent.get(k, 0), present.get(k, 0)) for k in keys)
