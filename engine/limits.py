"""Bounds on what one input may hold, so a hostile file or request costs milliseconds and a
clear error instead of a worker's CPU and memory (docs/DATA.md, "Input limits").

One constant per kind of bound, shared by every way in: the CSV importer, the JSON API, the
YAML reader and the event import refuse the same sizes with the same numbers.
"""

from __future__ import annotations

from typing import Any

MAX_TEXT = 131_072  # characters in one text value: a CSV cell, a JSON string, an event field
MAX_DEPTH = 64  # nesting of a JSON body, a JSONL line or a YAML document
MAX_YAML_BYTES = 256 << 10  # one playbook, workflow or config file (parsing runs ~100 KB/s)
MAX_YAML_NODES = 10_000  # values in one YAML document, counting each alias as what it repeats
MAX_CONDITION_DEPTH = 16  # all/any/not levels in one condition
MAX_LIST_VALUES = 1_000  # values in one condition list (`in`, `not_in`, `contains_any`, ...)
MAX_COLUMNS = 1_000  # cells in one CSV header (and so in every row)
# Ids and versions are stored in 32-bit integer columns: a larger number in a path, a form or
# a cursor names nothing (a 404 or a 400 naming it) instead of overflowing the drivers.
MAX_ID = 2**31 - 1


def too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Where decoded JSON first nests deeper than `limit` (`0.data.a`, or `document` for the
    top level), or None. Walked with a stack, not recursion, so any depth is safe to check;
    the path is only worked out for a document that fails (a 10,000-event batch is walked
    in a few milliseconds)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if type(node) not in _CONTAINERS:
            continue
        if depth >= limit:
            return _path_deeper_than(value, limit)
        for child in node.values() if type(node) is dict else node:
            if type(child) in _CONTAINERS:
                stack.append((child, depth + 1))
    return None


_CONTAINERS = frozenset((dict, list))


def _path_deeper_than(value: Any, limit: int) -> str:
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) >= limit:
            return ".".join(str(key)[:40] for key in path) or "document"
        items = node.items() if type(node) is dict else enumerate(node)
        stack.extend((child, (*path, key)) for key, child in items
                     if type(child) in _CONTAINERS)
    return "document"
