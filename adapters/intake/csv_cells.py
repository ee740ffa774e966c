"""Typed conversion of one CSV column at a time (a tuple of cells from one chunk).

Each function returns the column's values and {row position: message} for bad cells. The fast
paths are exact: they accept what engine.formats.values.parse_cell accepts, and a column that fails
one is parsed cell by cell with parse_cell, which also words the messages.

An empty cell becomes `missing`: None, or "" for SQLite, whose driver binds None slowly (it
looks for an adapter first, about a microsecond a row here) while the statement's
NULLIF(?, '') turns "" into NULL for free.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from math import isfinite
from typing import Any

from engine.formats.values import FieldType, parse_cell, unstorable

ID_LENGTH = 64
MEMO_LIMIT = 200_000

Converted = tuple[list[Any], dict[int, str]]


def strings(cells: tuple[str, ...], missing: Any) -> Converted:
    if missing == "" or "" not in cells:  # no Python step per cell
        return list(cells), {}
    return [c or missing for c in cells], {}


def nul_cells(cells: tuple[str, ...]) -> dict[int, str]:
    """Cells of a text column holding NUL, which PostgreSQL cannot store (SQLite would): one
    join per column finds there are none."""
    if "\x00" not in "".join(cells):
        return {}
    return {i: str(unstorable(cell)) for i, cell in enumerate(cells) if "\x00" in cell}


def ids(cells: tuple[str, ...]) -> Converted:
    problems = {}
    if "" in cells or max(map(len, cells), default=0) > ID_LENGTH:
        for i, cell in enumerate(cells):
            if not cell:
                problems[i] = "required, got an empty cell"
            elif len(cell) > ID_LENGTH:
                problems[i] = f"expected at most {ID_LENGTH} characters, got {len(cell)}"
    return list(cells), problems


def numbers(cells: tuple[str, ...], missing: Any) -> Converted:
    """float() is what parse_cell does; only a column that fails it is parsed cell by cell."""
    try:
        if "" in cells:
            values = [float(c) if c else missing for c in cells]
        else:
            values = list(map(float, cells))
        # A sum that is not finite flags inf or nan (or an overflow, which the slow path clears).
        if isfinite(sum(filter(None, values))):
            return values, {}
    except ValueError:
        pass
    return _one_by_one(cells,
                       lambda cell: parse_cell(cell, FieldType.NUMBER) if cell else missing)


class Memo(dict[str, Any]):
    """Parsed value by cell text, kept across chunks: a text is parsed on its first lookup
    only, so a column of repeating values (dates, tags, flags) costs one dict lookup a cell."""

    def __init__(self, parse: Callable[[str], Any], required: bool, missing: Any) -> None:
        super().__init__()
        self.parse = parse
        self.required = required
        self.missing = missing
        self._reset()

    def _reset(self) -> None:
        self.clear()
        if not self.required:
            self[""] = self.missing

    def __missing__(self, cell: str) -> Any:
        if not cell:
            raise ValueError("required, got an empty cell")
        if len(self) > MEMO_LIMIT:
            self._reset()
        value = self[cell] = self.parse(cell)
        return value


def memoized(cells: tuple[str, ...], memo: Memo) -> Converted:
    try:
        return list(map(memo.__getitem__, cells)), {}
    except ValueError:
        return _one_by_one(cells, memo.__getitem__)


def _one_by_one(cells: tuple[str, ...], convert: Callable[[str], Any]) -> Converted:
    """The slow path, for a column with a bad cell: every bad cell gets its message."""
    values, problems = [], {}
    for i, cell in enumerate(cells):
        try:
            values.append(convert(cell))
        except ValueError as exc:
            values.append(None)
            problems[i] = str(exc)
    return values, problems


def encode_list(items: tuple[str, ...]) -> str | None:
    """`;a;b;` for a sorted, de-duplicated tuple, so `contains x` is a substring test for `;x;`
    (docs/ARCHITECTURE.md); None when empty."""
    return f";{';'.join(items)};" if items else None


def date_text(cell: str) -> str:
    """Checked as a date, kept as the `YYYY-MM-DD` text both backends store and accept."""
    parse_cell(cell, FieldType.DATE)
    return cell


def opt_out_parser(channels: tuple[str, ...]) -> Callable[[str], str | None]:
    allowed = (*channels, "all")

    def parse(cell: str) -> str | None:
        names = parse_cell(cell, FieldType.LIST)
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise ValueError(f"unknown channel {unknown[0]!r}, expected {', '.join(allowed)}")
        return encode_list(names)

    return parse


def attrs_json(keys: Sequence[str], columns: Sequence[list[Any]],
               memos: Sequence[dict[Any, str]], missing: Any) -> list[Any]:
    """Each row's attributes as the JSON text `attrs` stores (`missing` when it has none).

    Built from remembered `"key":value,` fragments (attribute values repeat a lot), joined
    per row by str.join; a missing value's fragment is empty.
    """
    fragments = []
    for key, values, memo in zip(keys, columns, memos, strict=True):
        if len(memo) > MEMO_LIMIT or not memo:
            memo.clear()
            memo[missing] = ""
        prefix = json.dumps(key) + ":"
        for value in set(values).difference(memo):
            memo[value] = prefix + json.dumps(value) + ","
        fragments.append(list(map(memo.__getitem__, values)))
    return ["{" + text[:-1] + "}" if text else missing
            for text in map("".join, zip(*fragments, strict=True))]
