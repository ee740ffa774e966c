"""`tend scheduler`: cron sweeps of the scheduled playbooks, with one active scheduler at a time.

APScheduler job stores must never be shared between schedulers, so each process keeps its jobs
in memory and the database decides who acts: a lease row that the active scheduler renews.
A second process waits, renewing nothing, and takes over once the lease expires. Sweeps are
idempotent anyway (one ticket per playbook and fire time), so an overlap during a deploy or a
lease handover opens nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from adapters import event_matches, notify, snapshots, tickets
from adapters.tables import scheduler_lease
from adapters.tables import tickets as ticket_table
from engine.config import Config
from engine.errors import TendError
from engine.library import Library, load_library
from engine.playbook import Playbook

LEASE = "scheduler"
ONE_SECOND = dt.timedelta(seconds=1)
LOOKBACKS = tuple(dt.timedelta(days=d) for d in (1 / 24, 1, 32, 367))
log = logging.getLogger("tend.scheduler")
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


def fire_time(playbook: Playbook, config: Config, now: dt.datetime) -> dt.datetime:
    """The latest scheduled instant at or before `now`: the sweep's window key.

    Both schedulers of a handover compute the same instant for the same tick, whatever second
    their job actually ran at, so the (playbook, window) row makes the second sweep a no-op.
    """
    trigger = CronTrigger.from_crontab(playbook.trigger.schedule or "", timezone=config.timezone)
    for lookback in LOOKBACKS:
        last, probe = None, trigger.get_next_fire_time(None, now - lookback)
        while probe is not None and probe <= now:
            last, probe = probe, trigger.get_next_fire_time(probe, probe + ONE_SECOND)
        if last is not None:
            return last.astimezone(dt.UTC)
    return now


class Scheduler:
    """One scheduler process: the cron jobs, the lease, library reloads and ticket advances."""

    def __init__(self, engine: Engine, config: Config, holder: str,
                 ttl: dt.timedelta = dt.timedelta(seconds=30), clock: Clock = utcnow) -> None:
        self.send = notify.make_sender(config.notifier, lambda: clock().timestamp())
        self.engine = engine
        self.config = config
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.leader = False
        self.library: Library | None = None
        self.jobs = BackgroundScheduler(timezone=config.timezone)

    def tick(self) -> None:
        """Renew (or wait for) the lease, reload the library, move tickets along in time,
        tell approvers what waits for them (adapters/notify.py), and keep the month's
        customer snapshot (adapters/snapshots.py)."""
        now = self.clock()
        with self.engine.begin() as conn:
            leader = hold_lease(conn, self.holder, now, self.ttl)
        if leader != self.leader:
            log.info("scheduler %s %s the lease", self.holder, "holds" if leader else "lost")
        self.leader = leader
        self._reload()
        if self.leader and self.library is not None:
            with self.engine.begin() as conn:
                tickets.advance(conn, self.config, self.library, now)
                self._plan_standing(conn, self.library, now)
                event_matches.plan_days(conn, self.config, self.library, now)
            notify.notify(self.engine, self.config.notifier, self.send, now)
            snapshots.monthly(self.engine, self.config, now)  # the churn model's history

    def _plan_standing(self, conn: Connection, library: Library, now: dt.datetime) -> None:
        plan_standing(conn, self.config, library, now)

    def sweep(self, playbook_id: str) -> dict[str, Any] | None:
        """The job of one playbook: a ticket for this fire time, unless one exists already."""
        if not self.leader or self.library is None:
            return None
        playbook = self.library.playbooks.get(playbook_id)
        if playbook is None or playbook.trigger.schedule is None:
            return None
        at = fire_time(playbook, self.config, self.clock())
        with self.engine.begin() as conn:
            return tickets.plan(conn, self.config, self.library, playbook, at, "schedule",
                                "scheduler", window_key=at.isoformat())

    def _reload(self) -> None:
        """All-or-nothing: a library with any error leaves the running jobs as they are."""
        try:
            library = load_library(None, None, self.config)
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
                    self.sweep, CronTrigger.from_crontab(playbook.trigger.schedule,
                                                         timezone=self.config.timezone),
                    args=[playbook.id], id=playbook.id, replace_existing=True, coalesce=True,
                    max_instances=1, misfire_grace_time=300)

    def run(self, stop: threading.Event, every: float = 5.0) -> None:
        self.tick()
        self.jobs.start()
        try:
            while not stop.wait(every):
                try:
                    self.tick()
                except sa.exc.DBAPIError as exc:
                    self.leader = False
                    log.warning("database unavailable, not leading: %s", exc.orig)
        finally:
            self.jobs.shutdown(wait=False)


def plan_standing(conn: Connection, config: Config, library: Library,
                  now: dt.datetime) -> list[dict[str, Any]]:
    """A new version of an event-triggered playbook gets its standing ticket to approve
    (one that gathers its matches by day gets a ticket per day instead). This is the only way
    an event playbook's ticket is opened: one planned by hand is refused (adapters.tickets)."""
    opened = []
    for playbook in sorted(library.playbooks.values(), key=lambda p: p.id):
        if (playbook.trigger.event and not event_matches.gathers(library, playbook)
                and not _has_live_ticket(conn, playbook)):
            ticket = tickets.plan(conn, config, library, playbook, now, "event", "scheduler",
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
