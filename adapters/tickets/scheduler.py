"""`tend scheduler`: cron sweeps of the scheduled playbooks, with one active scheduler at a time.

APScheduler job stores must never be shared between schedulers, so each process keeps its jobs
in memory and the database decides who acts: a lease row that the active scheduler renews.
A second process waits, renewing nothing, and takes over once the lease expires. Sweeps are
idempotent anyway (one ticket per playbook and fire time), so an overlap during a deploy or a
lease handover opens nothing twice.

Nor is a fire lost: whenever a process gains the lease (on start, after a handover, after the
database came back) it sweeps every playbook whose latest fire within `misfire_grace` has no
ticket yet (adapters/tickets/due.py), one transaction per playbook. A scheduler killed after
planning 3
of 7 playbooks leaves 4 windows without a record, and its successor plans exactly those.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from adapters.db.outage import Backoff, Sleep, detail, unreachable
from adapters.db.schema import scheduler_lease
from adapters.db.schema import tickets as ticket_table
from adapters.evaluation import snapshots
from adapters.intake import assignment
from adapters.tickets import card as approval
from adapters.tickets import daily as event_matches
from adapters.tickets import due
from adapters.tickets import notices as notify
from adapters.tickets import service as tickets
from engine.clock import Clock, system_clock
from engine.config import Config
from engine.errors import TendError
from engine.playbooks.library import Library, load_library
from engine.playbooks.playbook import Playbook
from engine.playbooks.schedule import Schedule

LEASE = "scheduler"
ONE_MICROSECOND = dt.timedelta(microseconds=1)
SWEEP_TRIES = 9  # with the default backoff, about two minutes: within misfire_grace_time
log = logging.getLogger("tend.scheduler")


def hold_lease(conn: Connection, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """Take or renew the lease; True when `holder` has it until now + ttl."""
    table = scheduler_lease
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    expires = now + ttl
    stmt = dialect.insert(table).values(name=LEASE, holder=holder, expires_at=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name], set_={"holder": holder, "expires_at": expires},
        where=sa.or_(table.c.holder == holder, table.c.expires_at < now))
    conn.execute(stmt)
    current = conn.scalar(sa.select(table.c.holder).where(table.c.name == LEASE))
    return bool(current == holder)


class CrontabTrigger(BaseTrigger):
    """An APScheduler trigger firing when crontab(5) would (engine/playbooks/schedule.py), because
    APScheduler 3's own CronTrigger numbers weekdays from Monday and ANDs the day fields."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None,
                           now: dt.datetime) -> dt.datetime | None:
        if previous_fire_time is None:  # the first fire at or after now
            return self.schedule.following(now - ONE_MICROSECOND)
        return self.schedule.following(previous_fire_time)


class Scheduler:
    """One scheduler process: the cron jobs, the lease, library reloads and ticket advances."""

    def __init__(self, engine: Engine, config: Config, holder: str,
                 ttl: dt.timedelta = dt.timedelta(seconds=30), clock: Clock = system_clock,
                 outage: Backoff | None = None, sleep: Sleep = time.sleep) -> None:
        self.send = notify.make_sender(config.notifier, lambda: clock().timestamp())
        self.engine = engine
        self.config = config
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.leader = False
        self.library: Library | None = None
        self.jobs = BackgroundScheduler(timezone=config.timezone)
        self.outage = outage or Backoff("scheduler")  # waits while the database is down
        self.sleep = sleep  # between a sweep's tries (a job thread: no stop event there)
        self.assigned_on: dt.date | None = None  # the local day assignment last ran

    def tick(self) -> None:
        """Renew (or wait for) the lease, reload the library, move tickets along in time,
        tell approvers what waits for them (adapters/tickets/notices.py), keep the month's
        customer snapshot (adapters/evaluation/snapshots.py) and, once a local day, give
        managers to customers without one (adapters/intake/assignment.py)."""
        now = self.clock()
        with self.engine.begin() as conn:
            leader = hold_lease(conn, self.holder, now, self.ttl)
        if leader != self.leader:
            log.info("scheduler %s %s the lease", self.holder, "holds" if leader else "lost")
        gained, self.leader = leader and not self.leader, leader
        self._reload()
        if gained:
            self.sweep_due()
        if self.leader and self.library is not None:
            with self.engine.begin() as conn:
                tickets.advance(conn, self.config, self.library, now)
                self._plan_standing(conn, self.library, now)
                event_matches.plan_days(conn, self.config, self.library, now)
            library = self.library
            notify.notify(self.engine, self.config.notifier, self.send, now,
                          lambda conn, ticket_id: approval.card(conn, self.config, library,
                                                                ticket_id))
            snapshots.monthly(self.engine, self.config, now)  # the churn model's history
            if self.assigned_on != self.config.today(now):  # 划配, once a local day
                assignment.daily(self.engine, self.config, now)
                self.assigned_on = self.config.today(now)

    def _plan_standing(self, conn: Connection, library: Library, now: dt.datetime) -> None:
        plan_standing(conn, self.config, library, now)

    def sweep(self, playbook_id: str) -> dict[str, Any] | None:
        """The cron job of one playbook: a ticket for its fire, unless that window has one.
        A database outage at fire time is waited out (SWEEP_TRIES, with the scheduler's
        backoff) so that a short one loses no ticket; planning a window twice opens nothing."""
        for attempt in range(1, SWEEP_TRIES + 1):
            try:
                opened = self.sweep_due(playbook_id)
            except sa.exc.DBAPIError as exc:
                if not unreachable(exc) or attempt == SWEEP_TRIES:
                    raise
                self.outage.failed(exc, self.sleep)
            else:
                return opened[0] if opened else None
        return None

    def sweep_due(self, only: str | None = None) -> list[dict[str, Any]]:
        """Plan every window still due within the misfire grace (of `only`, if given), each in
        its own transaction, so whatever is planned stays planned if the process dies next.
        A playbook that cannot be planned is logged and does not hold up the others."""
        if not self.leader or self.library is None:
            return []
        library, now = self.library, self.clock()
        with self.engine.connect() as conn:
            windows = due.due(conn, self.config, library, now, self.config.misfire_grace, only)
        opened = []
        for window in windows:
            try:
                ticket = self._plan(library, window, now)
            except TendError as exc:
                log.warning("playbook %s, window %s not planned: %s", window.playbook.id,
                            window.key, exc.message)
                continue
            if ticket is not None:
                opened.append(ticket)
        return opened

    def _plan(self, library: Library, window: due.Window,
              now: dt.datetime) -> dict[str, Any] | None:
        with self.engine.begin() as conn:
            return tickets.plan(conn, self.config, library, window.playbook, now, "schedule",
                                "scheduler", window_key=window.key)

    def _reload(self) -> None:
        """All-or-nothing: a library with any error leaves the running jobs as they are."""
        try:
            library = load_library(self.config)
        except TendError as exc:
            if self.library is None:
                raise
            log.warning("library not reloaded: %s", exc.message)
            return
        if self.library is not None and _schedules(library) == _schedules(self.library):
            self.library = library
            return
        self.library = library
        for job in self.jobs.get_jobs():
            job.remove()
        for playbook in library.playbooks.values():
            if playbook.trigger.schedule:
                self.jobs.add_job(
                    self.sweep, CrontabTrigger(due.schedule_of(playbook, self.config)),
                    args=[playbook.id], id=playbook.id, replace_existing=True, coalesce=True,
                    max_instances=1,
                    misfire_grace_time=int(self.config.misfire_grace.total_seconds()))

    def run(self, stop: threading.Event, every: float = 5.0) -> None:
        """Ticks every `every` seconds until `stop`. While the database is unreachable (at
        start too) it does not lead and retries with backoff (adapters/db/outage.py); another
        database error on the first tick (no schema) ends the run, later ones are logged."""
        waits = self.outage
        ticked = False
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except sa.exc.DBAPIError as exc:
                    self.leader = False
                    if unreachable(exc):
                        waits.failed(exc, stop.wait)
                        continue
                    if not ticked:
                        raise
                    log.warning("database error, not leading: %s", detail(exc))
                else:
                    waits.succeeded()
                if not ticked:
                    ticked = True
                    self.jobs.start()
                stop.wait(every)
        finally:
            if ticked:
                self.jobs.shutdown(wait=False)


def plan_standing(conn: Connection, config: Config, library: Library,
                  now: dt.datetime) -> list[dict[str, Any]]:
    """A new version of an event-triggered or contact-triggered playbook gets its standing
    ticket to approve (an event playbook that gathers its matches by day gets a ticket per day
    instead). This is the only way such a playbook's ticket is opened: one planned by hand is
    refused (adapters.tickets.service). A contact playbook's rehearsal is a sweep at `now`:
    who would enter if they contacted us then."""
    opened = []
    for playbook in sorted(library.playbooks.values(), key=lambda p: p.id):
        standing = ((playbook.trigger.event and not event_matches.gathers(library, playbook))
                    or playbook.trigger.contact)
        if standing and not _has_live_ticket(conn, playbook):
            trigger = "contact" if playbook.trigger.contact else "event"
            ticket = tickets.plan(conn, config, library, playbook, now, trigger, "scheduler",
                                  window_key=f"standing:v{playbook.version}")
            if ticket is not None:
                opened.append(ticket)
    return opened


def _has_live_ticket(conn: Connection, playbook: Playbook) -> bool:
    live = ("planned", "approved", "executing")
    found = conn.scalar(sa.select(ticket_table.c.id).where(
        ticket_table.c.playbook == playbook.id, ticket_table.c.version == playbook.version,
        ticket_table.c.state.in_(live)).limit(1))
    return found is not None


def _schedules(library: Library) -> set[tuple[str, int, str]]:
    return {(p.id, p.version, p.trigger.schedule) for p in library.playbooks.values()
            if p.trigger.schedule}
