"""Several reads sent as one statement: on PostgreSQL each round trip to the server costs
more than most of the view's small reads themselves (docs/ARCHITECTURE.md "Customer view
speed"), so a page that needs eight of them asks once.

Each read is an ordinary Core select with its parameters, written where its noun lives
(the contacts, the attempts, the contact policy) and run on its own elsewhere. `fetch` runs a
batch of them as one statement and hands back each one's rows, with the values each would
have returned run alone: the statement's columns are the reads' rows as JSON (PostgreSQL's
`json_agg`, SQLite's `json_group_array`), each row numbered by its read's ORDER BY and
turned back into the columns' Python types. On SQLite there is no round trip to save, but
each statement costs SQLAlchemy's and the driver's work in Python, which one statement
pays once.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection, Dialect

ORDINAL = "_n"  # each row's place in its read's ORDER BY, kept through the aggregate


@dataclass(frozen=True)
class Read:
    """One select and the values of its named parameters."""

    query: sa.Select[Any]
    params: Mapping[str, Any] = field(default_factory=dict)


def fetch(conn: Connection, reads: Mapping[str, Read]) -> dict[str, list[Any]]:
    """Each read's rows, by name, in its order: rows with the select's columns by name and
    position, as a result's rows have. A parameter name two reads share must have one
    value in both (ValueError otherwise: a select would silently get the other's)."""
    params = _merged(reads)
    if conn.dialect.name not in ("postgresql", "sqlite") or len(reads) < 2:
        return {name: list(conn.execute(read.query, dict(read.params)))
                for name, read in reads.items()}
    names = tuple(reads)
    statement, shapes = _combined(tuple((name, reads[name].query) for name in names),
                                  conn.dialect)
    found = conn.execute(statement, params).one()
    return {name: shape(found[i]) for i, (name, shape) in enumerate(zip(names, shapes,
                                                                          strict=True))}


def _merged(reads: Mapping[str, Read]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name, read in reads.items():
        for key, value in read.params.items():
            if key in merged and merged[key] != value:
                raise ValueError(f"read {name!r}: parameter {key!r} is {value!r}, another read "
                                 f"of the batch gives it {merged[key]!r}")
            merged[key] = value
    return merged


Shape = Callable[[Any], list[Any]]


@functools.lru_cache(maxsize=64)
def _combined(queries: tuple[tuple[str, sa.Select[Any]], ...],
              dialect: Dialect) -> tuple[sa.Select[Any], tuple[Shape, ...]]:
    """The one statement of a batch (built once per batch of module-level selects: building
    costs about as much as running), and how to turn each of its columns back into rows."""
    columns, shapes = [], []
    for place, (name, query) in enumerate(queries):
        if query._distinct:
            raise ValueError(f"read {name!r}: a DISTINCT select cannot be numbered; "
                             f"select from it as a subquery")
        selected = list(query.selected_columns)
        numbered = query.with_only_columns(
            *(column.label(f"c{i}") for i, column in enumerate(selected)),
            sa.func.row_number().over(order_by=list(query._order_by_clauses)).label(ORDINAL),
            maintain_column_froms=True)
        rows = numbered.subquery(f"r{place}")  # short names: psycopg caches statements
        columns.append(sa.select(_rows_json(rows, selected, dialect).label("j"))  # to 4 KB
                       .scalar_subquery().label(f"b{place}"))
        shapes.append(_shape(selected, dialect))
    return sa.select(*columns), tuple(shapes)


MAX_COLUMNS = 48  # SQLite's json_object takes a key and a value per column, 100 arguments


def _rows_json(rows: sa.Subquery, selected: list[Any], dialect: Dialect) -> Any:
    """A read's numbered rows as one JSON array of objects keyed c0, c1, ... and ORDINAL.
    SQLite 3.40 has no ORDER BY inside an aggregate: `_shape` orders by ORDINAL."""
    if dialect.name == "postgresql":
        agg = sa.func.json_agg(aggregate_order_by(rows.table_valued(), rows.c[ORDINAL]))
        return sa.func.coalesce(agg, sa.text("'[]'::json"))
    if len(selected) > MAX_COLUMNS:
        raise ValueError(f"a batched read returns at most {MAX_COLUMNS} columns on SQLite")
    pairs: list[Any] = []
    for i, column in enumerate(selected):
        value: Any = rows.c[f"c{i}"]
        if isinstance(column.type.dialect_impl(dialect), sa.JSON):
            value = sa.func.json(value)  # stored as text: embedded as JSON, not as a string
        pairs += [sa.literal_column(f"'c{i}'"), value]
    pairs += [sa.literal_column(f"'{ORDINAL}'"), rows.c[ORDINAL]]
    return sa.func.coalesce(sa.func.json_group_array(sa.func.json_object(*pairs)),
                            sa.literal_column("'[]'"))


def _shape(selected: list[Any], dialect: Dialect) -> Shape:
    """From a read's JSON rows (keyed c0, c1, ... by position) to rows like a result's,
    named by the select's column keys."""
    keys = [f"c{i}" for i in range(len(selected))]
    convert = [_converter(column.type, dialect) for column in selected]
    row = namedtuple("row", [column.key for column in selected],  # type: ignore[misc]
                     rename=True)

    def shape(found: str | list[dict[str, Any]]) -> list[Any]:
        items = orjson.loads(found) if isinstance(found, str) else found
        items.sort(key=operator.itemgetter(ORDINAL))
        return [row(*(f(item[k]) for k, f in zip(keys, convert, strict=True)))
                for item in items]

    return shape


def _converter(kind: sa.types.TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """A JSON value back into what the column's type returns from the driver and the type
    itself: JSON writes instants and dates as ISO text. Types whose JSON loses something
    (exact decimals, bytes, intervals) are refused when the batch is built."""
    kind = kind.dialect_impl(dialect)
    if isinstance(kind, sa.types.TypeDecorator):
        inner = _converter(kind.impl_instance, dialect)
        outer = kind.process_result_value
        return lambda value: outer(inner(value), dialect)
    if isinstance(kind, sa.DateTime):
        return lambda value: None if value is None else dt.datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return lambda value: None if value is None else dt.date.fromisoformat(value)
    if isinstance(kind, sa.Boolean):  # SQLite's are 0 and 1
        return lambda value: None if value is None else bool(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        raise TypeError(f"a batched read cannot return exact decimals ({kind!r})")
    if isinstance(kind, (sa.String, sa.Integer, sa.JSON, sa.Float,
                         sa.types.NullType)):
        return _same
    raise TypeError(f"a batched read cannot return {kind!r}")


def _same(value: Any) -> Any:
    return value
