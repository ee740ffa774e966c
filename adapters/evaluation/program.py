"""The program report (`tend program`, `GET /program/report`, the console's Program page):
the reads behind engine/measurement/program.py, which compares everyone the marketing playbooks
treated in a period with the global control group.

The period is `[from, to)`: local days of the configured timezone, `to` excluded. A ticket
belongs to it when it started executing inside it; only sweeps count (scheduled and manual
tickets), of playbooks not exempt from the global control (`class` other than care and
service). Standing tickets are left out of both arms: a global-control customer an event would
have entered leaves no row, so their treated would have no twin. Conversions are seen up to
`now` (windows still open are counted in `open_windows`).
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

from adapters.db.schema import (
    contacts,
    customers,
    entries,
    events,
    playbook_versions,
    tasks,
    ticket_members,
    tickets,
)
from engine.config import Config
from engine.errors import ValidationError
from engine.formats.values import parse_date, parse_duration
from engine.measurement.kpi import cost_of, stages_reached, unpriced
from engine.measurement.program import (
    GLOBAL_CONTROL,
    TREATED,
    Membership,
    ProgramReport,
    Spent,
    program_report,
    twin_treated,
)
from engine.playbooks.selection import EXEMPT_CLASSES

CHUNK = 500  # ticket ids per IN list: daily sweeps of a dozen playbooks over a quarter
SWEEPS = ("schedule", "manual")


@dataclass(frozen=True)
class Period:
    first: dt.date
    end: dt.date            # excluded
    start: dt.datetime      # first's local midnight, as an instant
    stop: dt.datetime       # end's local midnight


@dataclass(frozen=True)
class Version:
    goal: tuple[str, dt.timedelta] | None
    holdout: float


def period(first: str | None, end: str | None, config: Config, first_name: str = "from",
           end_name: str = "to") -> Period:
    """`[first, end)`; both are required, `end` after `first`. Errors name the parameter."""
    first_day, end_day = _day(first, first_name), _day(end, end_name)
    if end_day <= first_day:
        raise ValidationError(f"must be after {first_name} {first_day} (the period is "
                              f"[{first_name}, {end_name}), {end_name} excluded), got {end_day}",
                              field=end_name)
    return Period(first_day, end_day, _midnight(first_day, first_name, config),
                  _midnight(end_day, end_name, config))


def _midnight(day: dt.date, name: str, config: Config) -> dt.datetime:
    """The day's local midnight as an instant; the first and last days of the calendar may
    have none in UTC."""
    try:
        return dt.datetime.combine(day, dt.time(), config.timezone).astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(f"{day} is out of range", field=name) from None


def _day(text: str | None, name: str) -> dt.date:
    if not text:
        raise ValidationError("missing: a date YYYY-MM-DD is required", field=name)
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValidationError(str(exc), field=name) from None


def report(conn: Connection, config: Config, offer_prices: Mapping[str, float | None],
           span: Period, now: dt.datetime) -> ProgramReport:
    """Load the period's sweeps, their treated and set-aside members, goal events, churn
    dates and costs, and compare the arms (engine/measurement/program.py)."""
    started = _tickets(conn, span)
    versions = _versions(conn, {(p, v) for p, v, _ in started.values()})
    members: list[Membership] = []
    ids = sorted(started)
    for chunk in _chunks(ids):
        for ticket_id, cid, at in conn.execute(
                sa.select(entries.c.ticket_id, entries.c.customer_id, entries.c.entered_at)
                .where(entries.c.ticket_id.in_(chunk), entries.c.grp == "treatment")):
            members.append(_member(cid, TREATED, at, started[ticket_id], versions))
        for ticket_id, cid in conn.execute(
                sa.select(ticket_members.c.ticket_id, ticket_members.c.customer_id)
                .where(ticket_members.c.ticket_id.in_(chunk),
                       ticket_members.c.grp == "suppressed",
                       ticket_members.c.reason == GLOBAL_CONTROL)):
            playbook, version, at = started[ticket_id]
            if twin_treated(playbook, cid, versions[playbook, version].holdout):
                members.append(_member(cid, GLOBAL_CONTROL, at, started[ticket_id], versions))
    types = sorted({v.goal[0] for v in versions.values() if v.goal})
    goal_times, churned = _outcomes(conn, ids, types, span, now)
    return program_report(
        span.first, span.end, now, config.global_control, members, goal_times,
        {m.customer_id: churned.get(m.customer_id) for m in members}, config.today(now),
        config.today, _spent(conn, config, offer_prices, ids))


def _tickets(conn: Connection, span: Period) -> dict[int, tuple[str, int, dt.datetime]]:
    rows = conn.execute(
        sa.select(tickets.c.id, tickets.c.playbook, tickets.c.version, tickets.c.started_at)
        .where(tickets.c.started_at >= span.start, tickets.c.started_at < span.stop,
               tickets.c.trigger.in_(SWEEPS),
               tickets.c.contact_class.not_in(sorted(EXEMPT_CLASSES))))
    return {ticket_id: (playbook, version, at) for ticket_id, playbook, version, at in rows}


def _versions(conn: Connection, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], Version]:
    table = playbook_versions
    found: dict[tuple[str, int], Version] = {}
    for name in sorted({p for p, _ in wanted}):
        for version, text in conn.execute(sa.select(table.c.version, table.c.text)
                                          .where(table.c.playbook == name)):
            if (name, version) in wanted:
                found[name, version] = _version(text)
    return {key: found.get(key, Version(None, 0.0)) for key in wanted}


def _version(text: str) -> Version:
    """Goal and holdout of a stored playbook version (it was valid when stored)."""
    try:
        doc = YAML(typ="safe").load(text)
    except YAMLError:
        return Version(None, 0.0)
    doc = doc if isinstance(doc, dict) else {}
    goal = doc.get("goal")
    try:
        parsed = (goal["event"], parse_duration(goal["within"])) if goal else None
    except (KeyError, TypeError, ValueError):
        parsed = None
    holdout = doc.get("holdout", 0.0)
    return Version(parsed, float(holdout) if isinstance(holdout, int | float) else 0.0)


def _member(cid: str, arm: str, at: dt.datetime, ticket: tuple[str, int, dt.datetime],
            versions: Mapping[tuple[str, int], Version]) -> Membership:
    playbook, version, _ = ticket
    goal = versions[playbook, version].goal
    return Membership(cid, arm, playbook, at, goal[0] if goal else None,
                      goal[1] if goal else None)


def _outcomes(conn: Connection, ids: list[int], types: list[str], span: Period,
              now: dt.datetime) -> tuple[dict[tuple[str, str], list[dt.datetime]],
                                         dict[str, dt.date | None]]:
    """The members' goal events (of the period's goal types, from its start up to now) and
    their churn dates, read through the memberships so only members are read."""
    times: dict[tuple[str, str], set[dt.datetime]] = defaultdict(set)
    churned: dict[str, dt.date | None] = {}
    for chunk in _chunks(ids):
        for who in _member_ids(chunk):
            if types:
                for cid, kind, at in conn.execute(
                        sa.select(events.c.customer_id, events.c.type, events.c.at).distinct()
                        .join(who, who.c.customer_id == events.c.customer_id)
                        .where(events.c.type.in_(types), events.c.at >= span.start,
                               events.c.at <= now)):
                    times[cid, kind].add(at)
            churned.update((cid, gone) for cid, gone in conn.execute(
                sa.select(customers.c.id, customers.c.churned_on).distinct()
                .join(who, who.c.customer_id == customers.c.id)))
    return {key: sorted(found) for key, found in times.items()}, churned


def _member_ids(chunk: list[int]) -> Iterable[Any]:
    yield (sa.select(entries.c.customer_id)
           .where(entries.c.ticket_id.in_(chunk), entries.c.grp == "treatment")
           .distinct().subquery())
    yield (sa.select(ticket_members.c.customer_id)
           .where(ticket_members.c.ticket_id.in_(chunk), ticket_members.c.grp == "suppressed",
                  ticket_members.c.reason == GLOBAL_CONTROL).distinct().subquery())


def _spent(conn: Connection, config: Config, offer_prices: Mapping[str, float | None],
           ids: list[int]) -> Spent:
    """Tasks sent for the period's sweeps at config.yaml's channel prices, and offers handled
    in contacts naming those tickets at the library's offer prices."""
    sent: dict[str, int] = defaultdict(int)
    handled: dict[str, int] = defaultdict(int)
    attempted = sa.case((tasks.c.attempts > 0, 1), else_=0)
    for chunk in _chunks(ids):
        for channel, state, tried, n in conn.execute(
                sa.select(tasks.c.channel, tasks.c.state, attempted, sa.func.count())
                .where(tasks.c.ticket_id.in_(chunk))
                .group_by(tasks.c.channel, tasks.c.state, attempted)):
            if "sent" in stages_reached(state, tried):
                sent[channel] += n
        for offer, n in conn.execute(
                sa.select(contacts.c.offer, sa.func.count())
                .where(contacts.c.ticket_id.in_(chunk), contacts.c.offer.is_not(None),
                       contacts.c.outcome == "handled")
                .group_by(contacts.c.offer)):
            handled[offer] += n
    prices = {name: ch.cost for name, ch in config.channels.items()}
    offers = [n * price for offer, n in handled.items()
              if (price := offer_prices.get(offer)) is not None]
    return Spent(cost_of(sent, prices), sum(offers) if offers else None,
                 tuple(unpriced((c for c, n in sent.items() if n), prices)),
                 tuple(sorted(o for o in handled if offer_prices.get(o) is None)))


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]
