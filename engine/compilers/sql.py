"""The SQL rendering of a condition: one predicate over the customers table for a whole sweep.

The predicate computes the derived fields inside the query: `tenure_days` becomes a range of
`joined_on`, `days_to_birthday` a set of `MM-DD` values, `tier` ranges of `arpu` (those three
in engine/compilers/sql_derived.py) and `stage` the lifecycle conditions in order. Missing values
are NULL; SQL's three-valued logic agrees with the two-valued reference as long as NULL means false
wherever it can be inverted, so `not` is rendered as `NOT COALESCE(p, FALSE)` and a NULL at the
top selects nobody.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, Grouping

from engine.compilers import sql_derived as derived
from engine.config import Config
from engine.formats.values import FieldType, shift
from engine.language.condition import All, Condition, Leaf, Not
from engine.language.evaluate import leaf_holds

Predicate = ColumnElement[bool]
CHAIN = 64  # terms joined by one AND or OR before they are grouped in parentheses


class SqlRenderer:
    """Renders conditions for one table, config, evaluation date and SQL dialect."""

    def __init__(self, table: sa.Table, config: Config, today: dt.date, dialect: str,
                 events: sa.Table | None = None) -> None:
        self.c = table.c
        self.events = events
        self.config = config
        self.today = today
        self.postgres = dialect == "postgresql"
        self._stages: list[Predicate] | None = None

    def render(self, cond: Condition) -> Predicate:
        if isinstance(cond, Leaf):
            return self._leaf(cond)
        if isinstance(cond, Not):
            return sa.not_(self.truth(cond.item))
        parts = [self.render(item) for item in cond.items]
        return all_of(parts) if isinstance(cond, All) else any_of(parts)

    def truth(self, cond: Condition) -> Predicate:
        """A predicate that is never NULL, for negating or selecting as a boolean column.

        COALESCE is only added where NULL can occur: it hides the column from the planner,
        which then cannot use an index for it.
        """
        rendered = self.render(cond)
        return sa.func.coalesce(rendered, sa.false()) if self._nullable(cond) else rendered

    def _nullable(self, cond: Condition) -> bool:
        if isinstance(cond, Not):
            return False
        if isinstance(cond, Leaf):
            return cond.op != "exists"
        return any(self._nullable(item) for item in cond.items)

    def _leaf(self, leaf: Leaf) -> Predicate:
        name = leaf.field
        if name == "tier":
            return derived.tier(self.c.arpu, self.config.tiers, leaf, self.today)
        if name == "stage":
            return self._finite(leaf, self.config.stage_names, self._stage_is)
        if name == "days_to_birthday":
            return derived.birthday(self.c.birthday, leaf, self.today, self.postgres)
        if name == "tenure_days":
            return derived.tenure(self.c.joined_on, leaf, self.today)
        if name.startswith("event."):
            return self._event(leaf)
        if name.startswith("attr."):
            return self._compare(leaf, self._json(self.c.attrs, name[5:], leaf.ftype))
        column = self.c[name]
        if leaf.ftype is FieldType.LIST:
            return self._list(leaf, column)
        return self._compare(leaf, column)

    def _compare(self, leaf: Leaf, col: Any) -> Predicate:
        op, lit = leaf.op, leaf.value
        if op == "exists":
            return col.is_not(None) if lit else col.is_(None)
        as_text = leaf.ftype is FieldType.DATE and "." in leaf.field
        if as_text:
            lit = _iso(lit)
        if op in ("within_last", "within_next", "older_than"):
            return self._relative(op, lit, col, as_text)
        compare: dict[str, Callable[[], Predicate]] = {
            "eq": lambda: col == lit, "ne": lambda: col != lit,
            "lt": lambda: col < lit, "lte": lambda: col <= lit,
            "gt": lambda: col > lit, "gte": lambda: col >= lit,
            "in": lambda: col.in_(list(lit)),
            "not_in": lambda: sa.and_(col.is_not(None), col.not_in(list(lit))),
            "between": lambda: sa.and_(col >= lit[0], col <= lit[1]),
        }
        return compare[op]()

    def _relative(self, op: str, days: int, col: Any, as_text: bool) -> Predicate:
        today = self.today
        fmt: Callable[[dt.date], Any] = _iso if as_text else (lambda d: d)
        if op == "within_last":
            return sa.and_(col >= fmt(shift(today, -days)), col <= fmt(today))
        if op == "within_next":
            return sa.and_(col >= fmt(today), col <= fmt(shift(today, days)))
        return col < fmt(shift(today, -days))

    def _event(self, leaf: Leaf) -> Predicate:
        """Event fields for replaying stored events; `event.at` as local-date instant bounds."""
        if self.events is None:
            raise ValueError(f"field {leaf.field} exists only for events; a sweep cannot use it")
        ev = self.events.c
        name = leaf.field[len("event."):]
        if name.startswith("data."):
            return self._compare(leaf, self._json(ev.data, name[5:], leaf.ftype))
        if name != "at":
            return self._compare(leaf, ev[name])
        if leaf.op == "exists":
            return sa.true() if leaf.value else sa.false()
        return self._local_dates(leaf, ev.at)

    def _local_dates(self, leaf: Leaf, col: Any) -> Predicate:
        """A date condition on an instant column: the local date's bounds as UTC instants."""
        tz = self.config.timezone

        def start(day: dt.date) -> dt.datetime:
            """Local midnight in UTC; at the ends of the calendar, the end itself."""
            try:
                return dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
            except OverflowError:
                edge = dt.datetime.min if day.year == dt.MINYEAR else dt.datetime.max
                return edge.replace(tzinfo=dt.UTC)

        def after(day: dt.date, days: int = 0) -> dt.datetime:
            """Start of the local day `days + 1` after `day`: the end of an inclusive range."""
            return start(shift(day, days + 1))

        def on(day: dt.date) -> Predicate:
            return sa.and_(col >= start(day), col < after(day))

        op, lit = leaf.op, leaf.value
        today = self.today

        def back(days: int) -> dt.datetime:
            return start(shift(today, -days))

        bounds: dict[str, Callable[[], Predicate]] = {
            "eq": lambda: on(lit), "ne": lambda: sa.not_(on(lit)),
            "lt": lambda: col < start(lit), "lte": lambda: col < after(lit),
            "gt": lambda: col >= after(lit), "gte": lambda: col >= start(lit),
            "in": lambda: any_of([on(d) for d in lit]),
            "not_in": lambda: all_of([sa.not_(on(d)) for d in lit]),
            "between": lambda: sa.and_(col >= start(lit[0]), col < after(lit[1])),
            "within_last": lambda: sa.and_(col >= back(lit), col < after(today)),
            "within_next": lambda: sa.and_(col >= start(today), col < after(today, lit)),
            "older_than": lambda: col < back(lit),
        }
        return bounds[op]()

    def _json(self, column: Any, name: str, ftype: FieldType) -> Any:
        element = column[name]
        if ftype is FieldType.NUMBER:
            return element.as_float()
        if ftype is FieldType.BOOL:
            return element.as_boolean()
        text = element.as_string()
        return text.collate("C") if self.postgres else text

    def _list(self, leaf: Leaf, col: Any) -> Predicate:
        if leaf.op == "exists":
            return col.is_not(None) if leaf.value else col.is_(None)
        items = (leaf.value,) if leaf.op == "contains" else leaf.value
        found = [self._has(col, item) for item in items]
        return any_of(found) if leaf.op == "contains_any" else all_of(found)

    def _has(self, col: Any, item: str) -> Predicate:
        needle = f";{item};"
        position = sa.func.strpos if self.postgres else sa.func.instr
        return position(col, needle) > 0

    def _finite(self, leaf: Leaf, domain: Iterable[str],
                member: Callable[[str], Predicate]) -> Predicate:
        """A never-missing field with few values: the leaf picks the values it holds for."""
        values = list(domain)
        chosen = [v for v in values if leaf_holds(leaf, v, self.today)]
        if len(chosen) == len(values):
            return sa.true()
        return sa.or_(sa.false(), *(member(v) for v in chosen))

    def _stage_is(self, name: str) -> Predicate:
        if self._stages is None:
            self._stages = [sa.true() if s.when is None else self.truth(s.when)
                            for s in self.config.lifecycle]
        index = self.config.stage_names.index(name)
        earlier = [sa.not_(p) for p in self._stages[:index]]
        own = self.config.lifecycle[index].when
        return sa.and_(*earlier, sa.true() if own is None else self.render(own))


class _Group(Grouping[bool]):
    """Parentheses that stay: a plain Grouping passes its `operator` through, and an
    enclosing AND or OR of the same kind would merge its terms back into one chain."""

    operator = None
    inherit_cache = True


def any_of(parts: list[Predicate]) -> Predicate:
    return _balanced(sa.or_, parts)


def all_of(parts: list[Predicate]) -> Predicate:
    return _balanced(sa.and_, parts)


def _balanced(join: Callable[..., Predicate], parts: list[Predicate]) -> Predicate:
    """`a OR b OR ...` as a tree of parenthesised groups of at most CHAIN terms.

    SQLite parses a chain of N terms into an expression tree N deep and refuses depths over
    1,000; a condition list may hold more terms than that (engine.limits), so long chains are
    grouped, which keeps the depth logarithmic and the meaning (AND and OR are associative in
    three-valued logic too).
    """
    while len(parts) > CHAIN:
        parts = [_Group(join(*parts[i:i + CHAIN])) for i in range(0, len(parts), CHAIN)]
    return join(*parts)


def _iso(value: Any) -> Any:
    """Dates as the `YYYY-MM-DD` text JSON attributes hold (element-wise for lists)."""
    if isinstance(value, tuple):
        return tuple(_iso(v) for v in value)
    return value.isoformat() if isinstance(value, dt.date) else value
