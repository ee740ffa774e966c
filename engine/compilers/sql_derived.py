"""The derived customer fields in SQL, for engine/compilers/sql.py's renderer: each becomes bounds
on the stored column it is computed from, so a sweep's predicate can use that column's index.

`tier` becomes ranges of `arpu` (adjacent tiers merged), `days_to_birthday` the set of `MM-DD`
values whose distance from today the leaf accepts, `tenure_days` bounds of `joined_on`. The
leaf itself decides which values it holds for (engine/language/evaluate.py's `leaf_holds`), so the
SQL and the reference evaluator cannot disagree on an operator.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.language.condition import Leaf
from engine.language.customer import Tier, days_to_birthday
from engine.language.evaluate import leaf_holds

Predicate = ColumnElement[bool]
_LEAP_YEAR = 2000
MONTH_DAYS = tuple(dt.date(_LEAP_YEAR, 1, 1) + dt.timedelta(days=i) for i in range(366))


def tier(arpu: Any, tiers: Sequence[Tier], leaf: Leaf, today: dt.date) -> Predicate:
    """Chosen tiers as `arpu` ranges, adjacent tiers merged into one range."""
    chosen = [i for i, t in enumerate(tiers) if leaf_holds(leaf, t.name, today)]
    runs: list[list[int]] = []
    for i in chosen:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return sa.or_(sa.false(), *(_arpu_range(arpu, tiers, run[0], run[-1]) for run in runs))


def _arpu_range(arpu: Any, tiers: Sequence[Tier], highest: int, lowest: int) -> Predicate:
    """Customers whose tier lies between tiers[highest] and tiers[lowest] (indexes)."""
    below = arpu < tiers[highest - 1].min_arpu if highest > 0 else None
    if lowest == len(tiers) - 1:
        return sa.true() if below is None else sa.or_(arpu.is_(None), below)
    at_least = arpu >= tiers[lowest].min_arpu
    return at_least if below is None else sa.and_(at_least, below)


def birthday(col: Any, leaf: Leaf, today: dt.date, postgres: bool) -> Predicate:
    """days_to_birthday as the `MM-DD` days of the year whose distance the leaf accepts."""
    if leaf.op == "exists":
        return col.is_not(None) if leaf.value else col.is_(None)
    keys = [d.strftime("%m-%d") for d in MONTH_DAYS
            if leaf_holds(leaf, float(days_to_birthday(d, today)), today)]
    if not keys:
        return sa.false()
    if len(keys) == len(MONTH_DAYS):
        return col.is_not(None)
    month_day = (sa.func.to_char(col, "MM-DD") if postgres
                 else sa.func.substr(col, 6, 5))
    return month_day.in_(keys)


def tenure(col: Any, leaf: Leaf, today: dt.date) -> Predicate:
    """tenure_days = today - joined_on, an integer: numeric bounds become date bounds."""
    op, lit = leaf.op, leaf.value
    if op == "exists":
        return col.is_not(None) if lit else col.is_(None)
    if op in ("eq", "ne", "in", "not_in"):
        values = [lit] if op in ("eq", "ne") else list(lit)
        dates = [d for v in values if float(v).is_integer()
                 for d in [_joined_for(today, int(v))] if d]
        if op in ("eq", "in"):
            return col.in_(dates) if dates else sa.false()
        return sa.and_(col.is_not(None), col.not_in(dates)) if dates else col.is_not(None)
    if op == "between":
        low, high = math.ceil(lit[0]), math.floor(lit[1])
    elif op in ("lt", "lte"):
        low, high = None, (math.ceil(lit) - 1 if op == "lt" else math.floor(lit))
    else:
        low, high = (math.floor(lit) + 1 if op == "gt" else math.ceil(lit)), None
    return _tenure_range(col, today, low, high)


def _tenure_range(col: Any, today: dt.date, low: int | None, high: int | None) -> Predicate:
    """low ≤ tenure ≤ high as joined_on bounds, clamped to the dates that exist."""
    parts: list[Predicate] = [col.is_not(None)]
    if low is not None and high is not None and low > high:
        return sa.false()
    if high is not None:
        earliest = _joined_for(today, high)
        if earliest is None and high < 0:
            return sa.false()
        if earliest is not None:
            parts.append(col >= earliest)
    if low is not None:
        latest = _joined_for(today, low)
        if latest is None and low > 0:
            return sa.false()
        if latest is not None:
            parts.append(col <= latest)
    return sa.and_(*parts)


def _joined_for(today: dt.date, tenure: int) -> dt.date | None:
    """The joined_on date of a given tenure, or None when no such date exists."""
    try:
        return today - dt.timedelta(days=tenure)
    except OverflowError:
        return None
