"""Hypothesis strategies for differential tests: typed conditions, facts and customer records.

Every backend of the condition compiler is held to `engine.language.evaluate.holds`. Random values
rarely land on the places backends get wrong, so literals and values are drawn from shared
pools of boundary values as often as at random: numbers equal to the literals and one ulp
away, -0.0, tiny and huge floats; dates at today ± N and ± N ± 1 for the durations the date
operators use, 29 February; strings that differ by a trailing space or punctuation, non-ASCII
and characters JSON escapes. Strings never hold NUL or lone surrogates, which no database column
can store, so the SQL backend's test can insert the same records.

Import it as `strategies` (tests/ is on sys.path through tests/conftest.py, like `support`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from engine.formats.values import FieldType
from engine.language.condition import (
    DATE_OPS,
    OPS_BY_TYPE,
    All,
    AnyOf,
    Condition,
    Leaf,
    Not,
    fields_of,
)
from engine.language.condition import leaves as leaves_of
from engine.language.fields import CUSTOMER_FIELDS, Catalog

settings.register_profile("differential", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("differential-long", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
DIFFERENTIAL = settings.get_profile(os.environ.get("TEND_DIFFERENTIAL_PROFILE", "differential"))
"""Settings for differential tests; TEND_DIFFERENTIAL_PROFILE=differential-long runs longer."""

NUMBERS = (-1e16, -300.0, -30.0, -1.0, -1e-05, -0.0, 0.0, 5e-324, 1e-05, 0.1, 0.6, 1.0,
           29.0, 30.0, 31.0, 50.0, 80.0, 150.0, 300.0, 365.0, 1e16, 1.7976931348623157e308)
STRINGS = ("", " ", "!", "a", "A", "ab", "ab!", "ab c", "ab\t", "abc", "b", "Z", "z", "é",
           "e\u0301", "ß", "中文", "😀", '"', "\\", 'a"b', "\n", "\x7f", "\u00a0", "\uffff",
           "\U0010ffff", "gold", "growth")
TAGS = ("vip", "VIP", "do_not_winback", "é", "a b", "中文", 'x"y', "\\", "😀")
DURATIONS = (0, 1, 2, 7, 29, 30, 31, 90, 365, 366, 999_999_999)
ALPHABET = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
TAG_ALPHABET = st.characters(exclude_categories=("Cs", "Zs", "Cc"),
                             exclude_characters=";")


def days() -> st.SearchStrategy[dt.date]:
    """Evaluation dates, leap days and year ends among them."""
    special = [dt.date(2024, 2, 28), dt.date(2024, 2, 29), dt.date(2024, 3, 1),
               dt.date(2023, 2, 28), dt.date(2023, 3, 1), dt.date(2025, 12, 31),
               dt.date(2100, 2, 28)]
    return st.one_of(st.sampled_from(special),
                     st.dates(dt.date(1990, 1, 1), dt.date(2200, 12, 31)))


def numbers() -> st.SearchStrategy[float]:
    pool = st.sampled_from(NUMBERS)
    nudged = st.one_of(pool.map(lambda x: math.nextafter(x, math.inf)),
                       pool.map(lambda x: math.nextafter(x, -math.inf)))
    return st.one_of(pool, nudged.filter(math.isfinite),
                     st.floats(allow_nan=False, allow_infinity=False))


def strings() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(STRINGS), st.text(ALPHABET, max_size=6))


def tags() -> st.SearchStrategy[str]:
    """A tag as the importer keeps it: no `;`, no surrounding space, not empty."""
    return st.one_of(st.sampled_from(TAGS), st.text(TAG_ALPHABET, min_size=1, max_size=5))


def dates_near(today: dt.date) -> st.SearchStrategy[dt.date]:
    """today ± N and ± N ± 1 for the operators' durations, else any date."""
    offsets = st.builds(lambda n, sign, step: sign * n + step, st.sampled_from(DURATIONS),
                        st.sampled_from((-1, 1)), st.sampled_from((-1, 0, 1)))
    return st.one_of(offsets.map(lambda days: _shift(today, days)), st.dates())


def _shift(day: dt.date, days: int) -> dt.date:
    ordinal = min(max(day.toordinal() + days, 1), dt.date.max.toordinal())
    return dt.date.fromordinal(ordinal)


def values(ftype: FieldType, today: dt.date,
           choices: tuple[str, ...] | None = None) -> st.SearchStrategy[Any]:
    """A present value of a field of type `ftype` (lists may be empty: that is missing)."""
    if choices:
        return st.sampled_from(choices)
    if ftype is FieldType.NUMBER:
        return numbers()
    if ftype is FieldType.STRING:
        return strings()
    if ftype is FieldType.DATE:
        return dates_near(today)
    if ftype is FieldType.BOOL:
        return st.booleans()
    return st.lists(tags(), max_size=4, unique=True).map(lambda items: tuple(sorted(items)))


def leaves(catalog: Catalog, today: dt.date) -> st.SearchStrategy[Condition]:
    """Leaves over every field of `catalog` with every operator its type allows."""
    names = sorted(catalog.types)
    return st.sampled_from(names).flatmap(lambda name: _leaf(catalog, name, today))


def _leaf(catalog: Catalog, name: str, today: dt.date) -> st.SearchStrategy[Condition]:
    ftype = catalog.types[name]
    scalar = (tags() if ftype is FieldType.LIST
              else values(ftype, today, catalog.choices.get(name)))

    def literal(op: str) -> st.SearchStrategy[Any]:
        if op == "exists":
            return st.booleans()
        if op in DATE_OPS:
            return st.sampled_from(DURATIONS)
        if op in ("in", "not_in", "contains_any", "contains_all"):
            return st.lists(scalar, min_size=1, max_size=4).map(tuple)
        if op == "between":
            return st.tuples(scalar, scalar).map(lambda pair: tuple(sorted(pair)))
        return scalar

    return st.sampled_from(OPS_BY_TYPE[ftype]).flatmap(
        lambda op: literal(op).map(lambda value: Leaf(name, op, value, ftype)))


def conditions(catalog: Catalog, today: dt.date,
               max_leaves: int = 8) -> st.SearchStrategy[Condition]:
    """Typed trees of all / any / not over `leaves`, nested a few levels."""
    def branches(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
        items = st.lists(children, min_size=1, max_size=3).map(tuple)
        return st.one_of(items.map(All), items.map(AnyOf), children.map(Not))

    return st.recursive(leaves(catalog, today), branches, max_leaves=max_leaves)


def literals(cond: Condition | None, today: dt.date) -> dict[str, tuple[Any, ...]]:
    """The values at which `cond`'s leaves change, per field: literals, and the ends of the
    windows of date operators.
    """
    found: dict[str, tuple[Any, ...]] = {}
    for leaf in leaves_of(cond) if cond is not None else []:
        if leaf.op == "exists":
            continue
        if leaf.op in DATE_OPS:
            sign = 1 if leaf.op == "within_next" else -1
            more: tuple[Any, ...] = (today, _shift(today, sign * leaf.value))
        else:
            more = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
        found[leaf.field] = found.get(leaf.field, ()) + more
    return found


def near(ftype: FieldType, today: dt.date, choices: tuple[str, ...] | None,
         targets: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """A present value, often equal or next to one of `targets` (a condition's literals)."""
    anywhere = values(ftype, today, choices)
    if not targets:
        return anywhere
    if ftype is FieldType.LIST:
        items = st.one_of(st.sampled_from(targets), tags())
        return st.lists(items, max_size=4, unique=True).map(lambda found: tuple(sorted(found)))
    beside = st.sampled_from(targets).flatmap(lambda lit: st.sampled_from(_neighbours(lit)))
    return st.one_of(beside, beside, beside, anywhere)


def _neighbours(lit: Any) -> list[Any]:
    if isinstance(lit, bool):
        return [lit]
    if isinstance(lit, float):
        near = [lit, math.nextafter(lit, math.inf), math.nextafter(lit, -math.inf), -lit]
        return [x for x in near if math.isfinite(x)]
    if isinstance(lit, dt.date):
        return [lit, _shift(lit, -1), _shift(lit, 1)]
    if not lit:
        return [lit, " ", "!", '"', "a"]
    bumped = [lit[:-1] + chr(code) for code in (ord(lit[-1]) - 1, ord(lit[-1]) + 1)
              if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF]
    prefixes = [lit[:size] for size in range(len(lit))]
    longer = [lit + tail for tail in (" ", "!", "\t", '"', "\\", "a", "é")]
    return [lit, *prefixes, *longer, lit[:-1] + '"', lit[:-1] + "\\", *bumped]


@st.composite
def facts(draw: st.DrawFn, catalog: Catalog, today: dt.date,
          aim: Condition | None = None) -> dict[str, Any]:
    """A flat field → value mapping, any value missing (None); with `aim`, values often near
    its literals and only for its fields, the rest being irrelevant to it.
    """
    targets = literals(aim, today)
    names = sorted(fields_of(aim) if aim is not None else catalog.types)
    return {name: draw(_maybe(near(catalog.types[name], today, catalog.choices.get(name),
                                   targets.get(name, ()))))
            for name in names}


def _maybe(present: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Missing one time in four."""
    return st.one_of(st.none(), present, present, present)


@st.composite
def customers(draw: st.DrawFn, attributes: Mapping[str, FieldType], today: dt.date,
              aim: Condition | None = None) -> dict[str, Any]:
    """A raw customer record (docs/ARCHITECTURE.md): dates as date, numbers as float, tags as
    sorted tuples, extra columns in `attrs`, missing as None or absent; values often aimed at
    the literals of `aim`; ids from a small alphabet, so a list is easily made unique by id.
    """
    targets = literals(aim, today)
    record: dict[str, Any] = {}
    for name, ftype in CUSTOMER_FIELDS.items():
        value = draw(_maybe(near(ftype, today, None, targets.get(name, ()))))
        record[name] = None if value == () else value
    record["id"] = draw(st.text("abcdefgh0123456789", min_size=1, max_size=8))
    joined = targets.get("joined_on", ()) + _days_from(today, targets.get("tenure_days"), -1)
    record["joined_on"] = draw(near(FieldType.DATE, today, None, joined))
    birthdays = _days_from(today, targets.get("days_to_birthday"), 1)
    record["birthday"] = draw(_maybe(st.one_of(_birthdays(today),
                                               near(FieldType.DATE, today, None, birthdays))))
    record["attrs"] = {}
    for name, ftype in attributes.items():
        value = draw(_maybe(near(ftype, today, None, targets.get(f"attr.{name}", ()))))
        if value is not None:
            record["attrs"][name] = value
    return record


def _days_from(today: dt.date, counts: tuple[float, ...] | None,
               sign: int) -> tuple[dt.date, ...]:
    """The dates `count` days from today: where a computed day count meets its literal."""
    return tuple(_shift(today, sign * int(count)) for count in counts or ()
                 if abs(count) < 1e7)


def _birthdays(today: dt.date) -> st.SearchStrategy[dt.date]:
    """29 February of a leap year, or a date near today (its anniversary is near too)."""
    leap = st.sampled_from((1988, 2000, 2004)).map(lambda year: dt.date(year, 2, 29))
    return st.one_of(leap, dates_near(today))
