"""A supervisor's board (督办): each supervised manager's open and overdue tasks, and how
their calls went this week (connect rate 接通率, success rate 成功率).

Reads only, in a handful of GROUP BY queries however long the queues are. The edges
(`GET /supervision`, the console's supervision page) decide whose managers a user may see
(engine.tasks.supervision) and render what this returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TypedDict
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import iso
from adapters.db.schema import tasks
from engine.tasks import task as tk
from engine.tasks.supervision import Supervision, rounded_rate, week_of

# A result that reached the customer on a call (they talked), and one that won them.
CONNECTED = tuple(s for s, stage in tk.STAGE.items() if stage >= tk.STAGE["connected"])
SUCCEEDED = tk.CLOSING


class ManagerLoad(TypedDict):
    """One manager's line on the board; rates are None when no result came this week."""

    manager: str
    team: str | None
    open: int
    overdue: int
    warning: bool
    results: int
    connected: int
    succeeded: int
    connect_rate: float | None
    success_rate: float | None


class Board(TypedDict):
    week_start: str | None
    week_end: str | None
    overdue_warning: int
    managers: list[ManagerLoad]


def route_of(manager: str) -> str:
    return f"{tk.PERSON_ROUTE}{manager}"


def overdue_clause(supervision: Supervision, channels: Collection[str],
                   now: dt.datetime) -> sa.ColumnElement[bool]:
    """A waiting task past its channel's SLA: one term per channel the config names, the
    default SLA for the rest."""
    named = sorted(set(supervision.sla) & set(channels))
    terms = [sa.and_(tasks.c.channel == ch, tasks.c.due_at < supervision.overdue_since(ch, now))
             for ch in named]
    rest = tasks.c.due_at < now - supervision.default_sla
    terms.append(sa.and_(tasks.c.channel.not_in(named), rest) if named else rest)
    return sa.and_(tasks.c.state.in_(tk.OPEN), sa.or_(*terms))


def board(conn: Connection, supervision: Supervision, channels: Collection[str],
          managers: Collection[str], now: dt.datetime, zone: ZoneInfo) -> Board:
    """The board for `managers` (ids, sorted), at `now`; the week is the configured zone's
    Monday-to-Monday holding `now`. `channels`: config.yaml's, for the SLA terms."""
    wanted = sorted(managers)
    routes = [route_of(m) for m in wanted]
    start, end = week_of(now, zone)
    queue: dict[str, tuple[int, int]] = {}
    overdue = sa.func.sum(sa.case((overdue_clause(supervision, channels, now), 1), else_=0))
    for route, n_open, n_overdue in conn.execute(
            sa.select(tasks.c.route, sa.func.count(), overdue)
            .where(tasks.c.route.in_(routes), tasks.c.state.in_(tk.OPEN))
            .group_by(tasks.c.route)):
        queue[route] = (n_open, int(n_overdue or 0))
    done: dict[str, tuple[int, int, int]] = {}
    for route, n, n_connected, n_succeeded in conn.execute(
            sa.select(tasks.c.route, sa.func.count(),
                      sa.func.sum(sa.case((tasks.c.state.in_(CONNECTED), 1), else_=0)),
                      sa.func.sum(sa.case((tasks.c.state.in_(SUCCEEDED), 1), else_=0)))
            .where(tasks.c.route.in_(routes), tasks.c.state.in_(tk.RESULTS),
                   tasks.c.result_at >= start, tasks.c.result_at < end)
            .group_by(tasks.c.route)):
        done[route] = (n, int(n_connected or 0), int(n_succeeded or 0))
    lines = []
    for manager, route in zip(wanted, routes, strict=True):
        n_open, n_overdue = queue.get(route, (0, 0))
        n, n_connected, n_succeeded = done.get(route, (0, 0, 0))
        lines.append(ManagerLoad(
            manager=manager, team=supervision.team_of(manager), open=n_open,
            overdue=n_overdue, warning=supervision.warns(n_overdue), results=n,
            connected=n_connected, succeeded=n_succeeded,
            connect_rate=rounded_rate(n_connected, n),
            success_rate=rounded_rate(n_succeeded, n)))
    return Board(week_start=iso(start), week_end=iso(end),
                 overdue_warning=supervision.overdue_warning, managers=lines)
