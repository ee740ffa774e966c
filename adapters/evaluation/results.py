"""A ticket's results: goal conversions in treatment vs control, uplift, funnel, cost.

Intention-to-treat (DESIGN §6): every entry of the ticket counts in its group whether or not a
task reached the customer, and each entry's goal window opens when it entered, which for a
scheduled ticket is when the ticket started executing. Only goal events are conversions; an
adapter's `converted` result shows in the funnel, never in uplift. A standing ticket's
entries arrive over weeks, so its results are also cut into weekly cohorts by the ISO week
(configured timezone) of entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import entries, events, tasks
from adapters.evaluation.variants import variant_results
from engine.config import Config
from engine.measurement.kpi import Funnel, cost_of, rate, unpriced
from engine.measurement.units import in_units
from engine.measurement.uplift import uplift
from engine.playbooks.playbook import Goal, Playbook

GROUPS = ("treatment", "control")
DAY = dt.timedelta(days=1)


class Entry(NamedTuple):
    id: int
    grp: str
    entered_at: dt.datetime


def results(conn: Connection, config: Config, playbook: Playbook, ticket_id: int,
            now: dt.datetime, standing: bool = False) -> dict[str, Any]:
    """The results stored when a ticket closes (and computed live for a standing ticket).
    Conversions after `now` are not seen yet."""
    entered = _entries(conn, ticket_id)
    steps, channels = _funnel(conn, ticket_id, playbook)
    out: dict[str, Any] = {"evaluated_at": now.isoformat(), "goal": None, "timeline": [],
                           "cohorts": [], "funnel": steps, "channels": channels}
    converted: dict[int, dt.datetime] = {}
    if playbook.goal is not None and entered:
        converted = _conversions(conn, ticket_id, playbook.goal, entered, now)
        out["goal"] = _goal(playbook.goal, entered, converted)
        out["timeline"] = _timeline(playbook.goal, entered, converted)
        if standing:
            out["cohorts"] = _cohorts(config, playbook.goal, entered, converted, now)
    out["cost"] = _cost(config, channels, out["goal"])
    split = variant_results(conn, ticket_id, playbook, converted)
    if split is not None:
        out["variants"] = split
    return out


def cohorts(conn: Connection, config: Config, goal: Goal, ticket_id: int,
            now: dt.datetime) -> list[dict[str, Any]]:
    """A standing ticket's weekly cohorts up to `now` (as its report shows them), for the
    pooled readout, which pools the complete ones (adapters/evaluation/readouts.py)."""
    entered = _entries(conn, ticket_id)
    if not entered:
        return []
    return _cohorts(config, goal, entered, _conversions(conn, ticket_id, goal, entered, now),
                    now)


def _entries(conn: Connection, ticket_id: int) -> list[Entry]:
    rows = conn.execute(sa.select(entries.c.id, entries.c.grp, entries.c.entered_at)
                        .where(entries.c.ticket_id == ticket_id, entries.c.grp.in_(GROUPS))
                        .order_by(entries.c.id))
    return [Entry(*row) for row in rows]


def _conversions(conn: Connection, ticket_id: int, goal: Goal, entered: Sequence[Entry],
                 now: dt.datetime) -> dict[int, dt.datetime]:
    """Each entry's first goal event inside its own window [entered_at, entered_at + within]."""
    upper = min(now, max(e.entered_at for e in entered) + goal.within)
    rows = conn.execute(
        sa.select(entries.c.id, entries.c.entered_at, events.c.at)
        .join(events, events.c.customer_id == entries.c.customer_id)
        .where(entries.c.ticket_id == ticket_id, entries.c.grp.in_(GROUPS),
               events.c.type == goal.event, events.c.at >= entries.c.entered_at,
               events.c.at <= upper))
    first: dict[int, dt.datetime] = {}
    for entry_id, entered_at, at in rows:
        if at <= entered_at + goal.within and (entry_id not in first or at < first[entry_id]):
            first[entry_id] = at
    return first


def group_counts(entered: Iterable[Entry], converted: dict[int, Any]) -> dict[str, dict[str, Any]]:
    counts = {grp: [0, 0] for grp in GROUPS}
    for entry in entered:
        counts[entry.grp][0] += 1
        counts[entry.grp][1] += entry.id in converted
    return {grp: {"members": n, "conversions": hits, "rate": rate(hits, n)}
            for grp, (n, hits) in counts.items()}


def uplift_json(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    t, c = groups["treatment"], groups["control"]
    return in_units(dataclasses.asdict(uplift(t["members"], t["conversions"], c["members"],
                                              c["conversions"])))


def _goal(goal: Goal, entered: Sequence[Entry], converted: dict[int, dt.datetime]
          ) -> dict[str, Any]:
    groups = group_counts(entered, converted)
    starts = [e.entered_at for e in entered]
    return {"event": goal.event, "within_days": goal.within / DAY,
            "from": min(starts).isoformat(), "to": (max(starts) + goal.within).isoformat(),
            **groups, "uplift": uplift_json(groups)}


def _timeline(goal: Goal, entered: Sequence[Entry], converted: dict[int, dt.datetime]
              ) -> list[dict[str, Any]]:
    """Cumulative conversion rate per group by day since entry: the chart of the report."""
    days = max(1, -(-goal.within // DAY))
    new = {grp: [0] * (days + 1) for grp in GROUPS}
    size = dict.fromkeys(GROUPS, 0)
    for entry in entered:
        size[entry.grp] += 1
        if entry.id in converted:
            day = min(days, (converted[entry.id] - entry.entered_at) // DAY + 1)
            new[entry.grp][day] += 1
    line, total = [], dict.fromkeys(GROUPS, 0)
    for day in range(days + 1):
        for grp in GROUPS:
            total[grp] += new[grp][day]
        line.append({"day": day, **{grp: total[grp] for grp in GROUPS},
                     **{f"{grp}_rate": rate(total[grp], size[grp]) for grp in GROUPS}})
    return line


def _cohorts(config: Config, goal: Goal, entered: Sequence[Entry],
             converted: dict[int, dt.datetime], now: dt.datetime) -> list[dict[str, Any]]:
    """Entries by ISO week of entry; a cohort is complete once its last window has ended."""
    weeks: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    for entry in entered:
        year, week, _ = entry.entered_at.astimezone(config.timezone).isocalendar()
        weeks[(year, week)].append(entry)
    out = []
    for (year, week), members in sorted(weeks.items()):
        groups = group_counts(members, converted)
        last = max(e.entered_at for e in members)
        out.append({"week": f"{year}-W{week:02d}",
                    "starts_on": dt.date.fromisocalendar(year, week, 1).isoformat(),
                    "complete": last + goal.within <= now,
                    "window_ends": (last + goal.within).isoformat(),
                    **groups, "uplift": uplift_json(groups)})
    return out


def _funnel(conn: Connection, ticket_id: int, playbook: Playbook
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per step (in the playbook's order) and per channel: tasks at each funnel stage."""
    by_step: dict[tuple[str, str], Funnel] = {(s.id, s.channel): Funnel() for s in playbook.steps}
    sent_once = sa.case((tasks.c.attempts > 0, 1), else_=0)
    rows = conn.execute(sa.select(tasks.c.step, tasks.c.channel, tasks.c.state, sent_once,
                                  sa.func.count())
                        .where(tasks.c.ticket_id == ticket_id)
                        .group_by(tasks.c.step, tasks.c.channel, tasks.c.state, sent_once))
    for step, channel, state, attempted, n in rows:
        by_step.setdefault((step, channel), Funnel()).add(state, attempted, n)
    by_channel: dict[str, Funnel] = {}
    for (_, channel), funnel in by_step.items():
        by_channel.setdefault(channel, Funnel()).merge(funnel)
    steps = [{"step": step, "channel": channel, **f.counts, "states": f.states}
             for (step, channel), f in by_step.items()]
    channels = [{"channel": channel, **f.counts, "states": f.states}
                for channel, f in by_channel.items()]
    return steps, channels


def _cost(config: Config, channels: Sequence[dict[str, Any]], goal: dict[str, Any] | None
          ) -> dict[str, Any]:
    """Cost of the tasks sent at config.yaml's channel prices, per goal conversion and per
    conversion over what control's rate predicts (the incremental ones)."""
    prices = {name: ch.cost for name, ch in config.channels.items()}
    sent = {c["channel"]: c["sent"] for c in channels}
    total = cost_of(sent, prices)
    out: dict[str, Any] = {"total": total, "unpriced_channels": unpriced(
        (c for c, n in sent.items() if n), prices),
        "per_conversion": None, "per_incremental_conversion": None}
    if total is None or goal is None:
        return out
    treated = goal["treatment"]
    if treated["conversions"]:
        out["per_conversion"] = total / treated["conversions"]
    control_rate = goal["control"]["rate"]
    if control_rate is not None:
        extra = treated["conversions"] - control_rate * treated["members"]
        if extra > 0:
            out["per_incremental_conversion"] = total / extra
    return out
