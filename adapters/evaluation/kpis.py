"""KPIs over time: the entries of a period, their goal conversions, tasks and churn, grouped by
playbook, channel, manager or tier (definitions in docs/EVALUATION.md, arithmetic in
engine/measurement/kpi.py).

A period is a range of local calendar days (configured timezone), both ends included. An
entry belongs to it when it entered on one of those days; its outcomes (goal events, churn)
are seen up to the end of the last day, so a window still open then is counted as it stands
and reported in `open_windows`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlalchemy.engine import Connection

from adapters.db.schema import customers, entries, events, playbook_versions, tasks, tickets
from engine.config import Config
from engine.errors import ValidationError
from engine.formats.values import parse_date, parse_duration
from engine.language.customer import tier_of
from engine.measurement.kpi import EntryFacts, Group
from engine.measurement.units import pts

DIMENSIONS = ("playbook", "channel", "manager", "tier")
DEFAULT_DAYS = 30
NO_MANAGER = "(none)"
ALL = "all"


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    start: dt.datetime  # first day's local midnight, as an instant
    end: dt.datetime    # the midnight after the last day


def period(first: str | None, last: str | None, config: Config, now: dt.datetime,
           first_name: str = "from", last_name: str = "to") -> Period:
    """The days from `first` to `last` (defaults: the 30 days up to today)."""
    last_day = _day(last, last_name) if last else config.today(now)
    first_day = _day(first, first_name) if first else last_day - dt.timedelta(DEFAULT_DAYS - 1)
    if first_day > last_day:
        raise ValidationError(f"{first_day} is after {last_name} {last_day}", field=first_name)
    try:
        start, end = (dt.datetime.combine(day, dt.time(), config.timezone).astimezone(dt.UTC)
                      for day in (first_day, last_day + dt.timedelta(1)))
    except OverflowError:
        raise ValidationError(f"{last_day} is too far in the future", field=last_name) from None
    return Period(first_day, last_day, start, end)


def _day(text: str, name: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValidationError(str(exc), field=name) from None


def kpis(conn: Connection, config: Config, by: str, span: Period) -> dict[str, Any]:
    """One row per value of `by`, and a total row counting every entry once."""
    if by not in DIMENSIONS:
        raise ValidationError(f"expected one of {', '.join(DIMENSIONS)}, got {by!r}", field="by")
    rows = conn.execute(
        sa.select(entries.c.id, entries.c.ticket_id, entries.c.playbook, entries.c.customer_id,
                  entries.c.grp, entries.c.entered_at, tickets.c.version, customers.c.manager,
                  customers.c.arpu, customers.c.churned_on)
        .select_from(entries.join(tickets, tickets.c.id == entries.c.ticket_id)
                     .outerjoin(customers, customers.c.id == entries.c.customer_id))
        .where(entries.c.entered_at >= span.start, entries.c.entered_at < span.end,
               entries.c.grp.in_(("treatment", "control")))).all()
    goals = _goals(conn, {row.playbook for row in rows})
    converted = _conversions(conn, span, rows, goals)
    ticket_channels: dict[int, set[str]] = defaultdict(set)
    groups: dict[str, Group] = defaultdict(Group)
    total = Group()
    keys_of: dict[int, list[str]] = {}
    entry_tasks = _tasks(conn, span)
    for task in entry_tasks:
        ticket_channels[task.ticket_id].add(task.channel)
    for row in rows:
        goal = goals.get((row.playbook, row.version))
        facts = EntryFacts(
            customer_id=row.customer_id, grp=row.grp,
            entered_on=config.today(row.entered_at),
            converted=None if goal is None else row.id in converted,
            window_open=goal is not None and row.entered_at + goal[1] > span.end,
            churned_on=row.churned_on)
        keys = _keys(by, row, config, ticket_channels)
        keys_of[row.id] = keys
        total.add_entry(facts)
        for key in keys:
            groups[key].add_entry(facts)
    for task in entry_tasks:
        total.add_task(task.customer_id, task.channel, task.state, task.attempts)
        for key in keys_of.get(task.entry_id, ()):
            if by != "channel" or key == task.channel:
                groups[key].add_task(task.customer_id, task.channel, task.state, task.attempts)
    prices = {name: ch.cost for name, ch in config.channels.items()}
    return {"by": by, "from": span.first.isoformat(), "to": span.last.isoformat(),
            "rows": [{by: key, **groups[key].summary(prices, span.last)}
                     for key in sorted(groups)],
            "total": {by: ALL, **total.summary(prices, span.last)}}


Goals = Mapping[tuple[str, int], tuple[str, dt.timedelta] | None]


def _goals(conn: Connection, playbooks: set[str]) -> Goals:
    table = playbook_versions
    found = conn.execute(sa.select(table.c.playbook, table.c.version, table.c.text)
                         .where(table.c.playbook.in_(sorted(playbooks))))
    return {(name, version): _goal(text) for name, version, text in found}


def _goal(text: str) -> tuple[str, dt.timedelta] | None:
    """(event, within) of a stored playbook version; it was valid when stored."""
    try:
        doc = YAML(typ="safe").load(text)
        goal = doc.get("goal") if isinstance(doc, dict) else None
        return (goal["event"], parse_duration(goal["within"])) if goal else None
    except (YAMLError, KeyError, TypeError, ValueError):
        return None


def _conversions(conn: Connection, span: Period, rows: Iterable[Any], goals: Goals) -> set[int]:
    """Entries with a goal event of their playbook version inside their window, up to the
    period's end."""
    wanted = {row.id: goal for row in rows
              if (goal := goals.get((row.playbook, row.version))) is not None}
    types = sorted({goal[0] for goal in wanted.values() if goal})
    if not types:
        return set()
    found = set()
    for entry_id, entered_at, kind, at in conn.execute(
            sa.select(entries.c.id, entries.c.entered_at, events.c.type, events.c.at)
            .join(events, events.c.customer_id == entries.c.customer_id)
            .where(entries.c.entered_at >= span.start, entries.c.entered_at < span.end,
                   events.c.type.in_(types), events.c.at >= entries.c.entered_at,
                   events.c.at < span.end)):
        goal = wanted.get(entry_id)
        if goal and kind == goal[0] and at <= entered_at + goal[1]:
            found.add(entry_id)
    return found


def _tasks(conn: Connection, span: Period) -> list[Any]:
    return list(conn.execute(
        sa.select(tasks.c.entry_id, tasks.c.ticket_id, tasks.c.customer_id, tasks.c.channel,
                  tasks.c.state, tasks.c.attempts)
        .join(entries, entries.c.id == tasks.c.entry_id)
        .where(entries.c.entered_at >= span.start, entries.c.entered_at < span.end)))


def _keys(by: str, row: Any, config: Config,
          ticket_channels: Mapping[int, set[str]]) -> list[str]:
    """The rows an entry counts in; by channel, every channel its ticket used (a control
    entry too: it stands for what that channel was compared against)."""
    if by == "playbook":
        return [row.playbook]
    if by == "manager":
        return [row.manager or NO_MANAGER]
    if by == "tier":
        return [tier_of(row.arpu, config.tiers)]
    return sorted(ticket_channels.get(row.ticket_id, ()))


def render(found: Mapping[str, Any]) -> str:
    """A table a person reads in a terminal."""
    by = found["by"]
    head = (f"{by:<16} {'treated':>8} {'control':>8} {'success':>8} {'ctl succ':>8} "
            f"{'uplift':>10} {'verdict':<18} {'churn T':>8} {'churn U':>8} {'connect':>8} "
            f"{'mkt succ':>8} {'contacts':>8} {'cost':>10}")
    lines = [f"KPIs by {by}, entries from {found['from']} to {found['to']}", head]
    for row in [*found["rows"], found["total"]]:
        u = row["uplift"]
        lines.append(
            f"{str(row[by])[:16]:<16} {row['entries']['treatment']:>8,} "
            f"{row['entries']['control']:>8,} {_pct(row['retention_success_rate']):>8} "
            f"{_pct(row['control_success_rate']):>8} {_pts(u['absolute']):>10} "
            f"{u['verdict']:<18} {_pct(row['churn']['targeted']['rate']):>8} "
            f"{_pct(row['churn']['untargeted']['rate']):>8} {_pct(row['connect_rate']):>8} "
            f"{_pct(row['marketing_success_rate']):>8} "
            f"{_num(row['contacts_per_customer']):>8} {_num(row['cost']):>10}")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _pts(value: float | None) -> str:
    """An uplift: a difference of rates, in percentage points (engine.measurement.units)."""
    return "-" if value is None else pts(value)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
