"""`tend simulate`: the whole loop on synthetic customers, a simulated day at a time.

Nothing here decides what a ticket does: each day runs the service functions the scheduler,
approvers and adapters would call. Tickets that have reached the end of their goal window
are evaluated and closed (adapters.tickets.service.advance); every scheduled playbook whose cron
fires
that day is planned at its fire time (adapters.tickets.due.fire_time,
adapters.tickets.service.plan);
each planned ticket is approved or rejected, level by level, by one simulated person per
role (adapters.tickets.service.approve/reject); each channel's due tasks are pulled and answered by
the simulated customers (adapters.tasks.service.pull/report, engine.measurement.simulation.World);
and the day's goal events are stored (adapters.intake.event_import.store_events): the customers'
own, and those of customers a contact persuaded. Event-triggered playbooks are not simulated (no
trigger events are made).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.db.schema import customers, tasks
from adapters.db.schema import tickets as ticket_table
from adapters.evaluation import readouts
from adapters.intake.customer_import import import_customers
from adapters.intake.demo_files import demo_spec, write_demo
from adapters.intake.event_import import store_events
from adapters.simulation.verdicts import VerdictLog
from adapters.simulation.verdicts import render as render_verdicts
from adapters.tasks import service as task_pull
from adapters.tickets import service as tickets
from adapters.tickets.due import fire_time
from engine.config import Config
from engine.demo import customer_id
from engine.errors import Problem, ValidationError
from engine.event import Event
from engine.measurement.simulation import DAY, Behaviour, World, natural_times
from engine.measurement.units import pts
from engine.playbooks.library import Library
from engine.tasks import task as tk
from engine.tickets.ticket import SYSTEM
from engine.tickets.users import User

AUTO_COMMENT = "auto-approved by tend simulate --auto-approve"
PULL = 500
Approver = Callable[[dict[str, Any]], bool]  # True: approve the planned ticket


@dataclass(frozen=True)
class TicketOutcome:
    id: int
    playbook: str
    state: str
    has_goal: bool  # the playbook has one (a closed ticket with nobody in it has no results)
    true_uplift: float | None  # the model's, for a closed ticket with a goal
    goal: dict[str, Any] | None  # results.goal of a closed ticket (counts and uplift)
    cancel_reason: str | None = None  # a sweep that found nobody is cancelled on planning


@dataclass(frozen=True)
class SimulationRun:
    start: dt.datetime
    end: dt.datetime
    customers: int
    tickets: list[TicketOutcome]
    counts: Counter[str]
    verdicts: VerdictLog | None = None  # each playbook's pooled readout, looked at daily


def simulate(engine: Engine, config: Config, library: Library, behaviour: Behaviour, *,
             customers_n: int, days: int, seed: int, start: dt.date, approver: Approver,
             auto: bool, progress: Callable[[int], None] = lambda day: None) -> SimulationRun:
    """Run `days` days from local midnight of `start` on an empty, migrated database;
    `progress` hears each simulated day done."""
    begin = dt.datetime.combine(start, dt.time(), config.timezone).astimezone(dt.UTC)
    end = begin + DAY * days
    counts: Counter[str] = Counter()
    _load_customers(engine, config, customers_n, seed, start)
    natural = _natural_events(library, behaviour, customers_n, seed, begin, end)
    world = World(behaviour, f"{seed}:contacts",
                  frozenset(name for name, channel in config.channels.items() if channel.calls))
    log = VerdictLog(library, behaviour, begin)
    for day in range(days):
        today = begin + DAY * day
        with engine.begin() as conn:
            counts["tickets:closed"] += len(tickets.advance(conn, config, library, today))
        for at, playbook_id in _fires(library, config, today):
            _plan_and_decide(engine, config, library, library.playbooks[playbook_id], at,
                             approver, auto, counts, log.planned)
        with engine.begin() as conn:
            persuaded = _dispatch(conn, config, library, world, today + DAY, counts)
            counts["goal events:on their own"] += len(natural[day])
            counts["goal events:persuaded"] += len(persuaded)
            store_events(conn, [*natural[day], *persuaded], today + DAY)
        with engine.connect() as conn:
            log.look(conn, day, readouts.Reading(config, library, today + DAY))
        progress(day + 1)
    with engine.begin() as conn:
        counts["tickets:closed"] += len(tickets.advance(conn, config, library, end))
        outcomes = _outcomes(conn, library, behaviour, world)
    return SimulationRun(begin, end, customers_n, outcomes, counts, log)


def _load_customers(engine: Engine, config: Config, n: int, seed: int, at: dt.date) -> None:
    """engine.demo's customers, through the importer like any customer file."""
    with engine.connect() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(customers)):
            raise ValidationError("the database already holds customers; tend simulate "
                                  "adds synthetic ones, so give it an empty database", field="--db")
    with tempfile.TemporaryDirectory(prefix="tend-simulate-") as folder:
        files = write_demo(demo_spec(config, n, 0, seed, at), Path(folder))
        problems: list[Problem] = []
        start = dt.datetime.combine(at, dt.time(), config.timezone).astimezone(dt.UTC)
        import_customers(engine, config, files.customers, report=problems.append, strict=True,
                         now=start)
    if problems:
        raise ValidationError(problems)


def _natural_events(library: Library, behaviour: Behaviour, n: int, seed: int,
                    begin: dt.datetime, end: dt.datetime) -> dict[int, list[Event]]:
    """Every customer's own goal events over the run, by day: they come whatever we do."""
    rng = Random(f"{seed}:natural")  # apart from engine.demo's and the World's streams
    goals = sorted({p.goal.event for p in library.playbooks.values() if p.goal})
    by_day: dict[int, list[Event]] = defaultdict(list)
    for index in range(n):
        cid = customer_id(index)
        for goal in goals:
            for i, at in enumerate(natural_times(rng, behaviour.rate(goal), begin, end)):
                by_day[(at - begin) // DAY].append(Event(f"sim:{goal}:{cid}:{i}", cid, goal,
                                                         at, {}))
    return by_day


def _fires(library: Library, config: Config, day: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """The scheduled playbooks whose cron fires during the day starting at `day`, in order."""
    fires = []
    for playbook in library.playbooks.values():
        if playbook.trigger.schedule:
            at = fire_time(playbook, config, day + DAY - dt.timedelta(microseconds=1))
            if at is not None and at >= day:
                fires.append((at, playbook.id))
    return sorted(fires)


def _plan_and_decide(engine: Engine, config: Config, library: Library, playbook: Any,
                     at: dt.datetime, approver: Approver, auto: bool,
                     counts: Counter[str],
                     on_plan: Callable[[dict[str, Any], dt.datetime], None] = lambda t, at: None
                     ) -> None:
    with engine.begin() as conn:
        ticket = tickets.plan(conn, config, library, playbook, at, "schedule", SYSTEM,
                              window_key=at.isoformat())
    if ticket is None:
        return
    on_plan(ticket, at)
    counts["tickets:planned"] += 1
    approve = auto or approver(ticket)
    while ticket["state"] == "planned":
        level = next(lv for lv in ticket["levels"] if lv["level"] == ticket["next_level"])
        # one person per level: nobody approves two levels of one ticket
        person = User(f"simulated-{level['role']}-{level['level']}", frozenset({level["role"]}))
        with engine.begin() as conn:
            if approve:
                ticket = tickets.approve(conn, config, library, ticket["id"], person,
                                         AUTO_COMMENT if auto else "approved at the prompt",
                                         at)
            else:
                ticket = tickets.reject(conn, config, library, ticket["id"], person,
                                        "rejected at the tend simulate prompt", at)
    counts["tickets:rejected" if ticket["state"] == "rejected" else "tickets:approved"] += 1


def _dispatch(conn: Connection, config: Config, library: Library, world: World,
              until: dt.datetime, counts: Counter[str]) -> list[Event]:
    """Every task due by `until`, sent when it is due: each channel (whatever adapter
    config.yaml binds it to) pulls at that instant, so the contact policy judges the real
    hour (a task due in quiet hours is held to their end, then sent), and the customer
    answers then. Returns the goal events of those the contacts persuaded."""
    playbook_of: dict[int, str] = {}
    persuaded: list[Event] = []
    done: dt.datetime | None = None
    while (now := _next_due(conn, until)) is not None and (done is None or now > done):
        for channel in sorted(config.channels):
            while pulled := task_pull.pull(conn, channel, PULL, config.task_lease, now,
                                           config.policy):
                for shape in pulled:
                    if shape["state"] == tk.CANCELLED:
                        continue
                    row = task_pull.task(conn, shape["id"])
                    if row.ticket_id not in playbook_of:
                        playbook_of[row.ticket_id] = _playbook(conn, row.ticket_id)
                    persuaded.extend(_answer(conn, library, world, row,
                                             playbook_of[row.ticket_id], now, counts))
        done = now  # a task the policy left due at `now` waits for the next day
    return persuaded


def _next_due(conn: Connection, until: dt.datetime) -> dt.datetime | None:
    found: dt.datetime | None = conn.scalar(
        sa.select(sa.func.min(tasks.c.due_at))
        .where(tasks.c.state == tk.PENDING, tasks.c.due_at <= until))
    return found


def _answer(conn: Connection, library: Library, world: World, row: Any, playbook_id: str,
            now: dt.datetime, counts: Counter[str]) -> list[Event]:
    contact = world.contact(row.ticket_id, row.customer_id, playbook_id, row.channel, now)
    task_pull.record_result(conn, row, contact.status, now, {"simulated": True}, now)
    counts[f"task results:{contact.status}"] += 1
    goal = library.playbooks[playbook_id].goal
    if contact.goal_at is None or goal is None:
        return []
    return [Event(f"sim:{goal.event}:{row.customer_id}:t{row.id}", row.customer_id,
                  goal.event, contact.goal_at, {})]


def _playbook(conn: Connection, ticket_id: int) -> str:
    return str(conn.scalar(sa.select(ticket_table.c.playbook)
                           .where(ticket_table.c.id == ticket_id)))


def _outcomes(conn: Connection, library: Library, behaviour: Behaviour,
              world: World) -> list[TicketOutcome]:
    outcomes = []
    for row in conn.execute(sa.select(ticket_table).order_by(ticket_table.c.id)):
        playbook = library.playbooks.get(row.playbook)
        goal = (row.results or {}).get("goal") if row.state == "closed" else None
        true = None
        if goal is not None and playbook is not None and playbook.goal is not None \
                and goal["treatment"]["members"]:
            end = row.started_at + playbook.goal.within - behaviour.lag
            share = world.reached(row.id, end) / goal["treatment"]["members"]
            true = behaviour.true_uplift(row.playbook, playbook.goal.event,
                                         playbook.goal.within, share)
        outcomes.append(TicketOutcome(row.id, row.playbook, row.state,
                                      bool(playbook and playbook.goal), true, goal,
                                      row.cancel_reason))
    return outcomes


def _pts(value: float | None) -> str:
    return "n/a" if value is None else pts(value)


def render(run: SimulationRun, config: Config) -> list[str]:
    """The summary a person reads: what happened, then per evaluated ticket the truth next to
    the measurement."""
    zone = config.timezone
    lines = [f"simulated {run.customers:,} customers from {run.start.astimezone(zone):%Y-%m-%d}"
             f" to {run.end.astimezone(zone):%Y-%m-%d}"]
    for group in ("tickets", "task results", "goal events"):
        found = [(key.partition(":")[2], n) for key, n in run.counts.items()
                 if key.startswith(group + ":")]
        found.sort(key=lambda item: -item[1])
        lines.append(f"  {group}: " + (", ".join(f"{n:,} {what}" for what, n in found)
                                       or "none"))
    shown = [t for t in run.tickets if t.goal is not None and t.goal["treatment"]["members"]
             and t.goal["control"]["members"]]
    if shown:
        lines.append(f"{'ticket':>6}  {'playbook':<18} {'treatment':>13} {'control':>11} "
                     f"{'true effect':>12}  {'measured uplift [95% CI]':<32} verdict")
    for t in shown:
        goal = t.goal or {}
        treated, held, measured = goal["treatment"], goal["control"], goal["uplift"]
        ci = (f"[{_pts(measured['low'])}, {_pts(measured['high'])}]"
              if measured["low"] is not None else "")
        lines.append(f"{t.id:>6}  {t.playbook:<18} "
                     f"{treated['conversions']:>5}/{treated['members']:<7} "
                     f"{held['conversions']:>4}/{held['members']:<6} "
                     f"{_pts(t.true_uplift):>12}  {_pts(measured['absolute']) + ' ' + ci:<32} "
                     f"{measured['verdict']}")
    rest = Counter(_why_not_shown(t) for t in run.tickets if t not in shown)
    if rest:
        lines.append("not listed: " + ", ".join(f"{n} {why}" for why, n in sorted(rest.items())))
    if run.verdicts is not None:
        lines.extend(render_verdicts(run.verdicts))
    return lines


def _why_not_shown(t: TicketOutcome) -> str:
    if t.state in ("executing", "evaluating"):
        return "still in their goal window at the end"
    if t.state == "cancelled" and (t.cancel_reason or "").startswith("empty audience"):
        return "cancelled with nobody in them"
    if t.state != "closed":
        return t.state
    if not t.has_goal:
        return "closed without a goal to measure"
    if t.goal is None:
        return "closed with nobody in them"
    return "closed with an empty group (nothing to compare)"
