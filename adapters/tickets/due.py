"""Which scheduled sweeps are due: a fired window of a playbook's schedule that has no ticket.

A sweep's window is keyed by the schedule's fire instant (the latest at or before the sweep),
never by the moment the sweep ran, so every process that looks at the same fire agrees on the
key, and the unique (playbook, window_key) of the tickets table is the record that a window was
swept. That record makes sweeps resumable per playbook: whoever comes next (a successor holding
the lease, the same scheduler restarted, `tend sweep`) plans exactly the windows still
missing, and nothing twice. Missed fires of one playbook coalesce into its latest: an older
window's ticket would only be superseded by the newer one at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import tickets
from engine.config import Config
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook
from engine.playbooks.schedule import Schedule


@dataclass(frozen=True)
class Window:
    """One fire of one playbook's schedule."""

    playbook: Playbook
    fire: dt.datetime

    @property
    def key(self) -> str:
        return window_key(self.fire)


def schedule_of(playbook: Playbook, config: Config) -> Schedule:
    """The playbook's schedule in the config timezone (the loader refused any other kind)."""
    if playbook.trigger.schedule is None:
        raise ValueError(f"playbook {playbook.id!r} has no schedule")
    return Schedule(playbook.trigger.schedule, config.timezone)


def fire_time(playbook: Playbook, config: Config, at: dt.datetime) -> dt.datetime | None:
    """The latest fire at or before `at`: the window `at` falls in (None: no fire yet)."""
    return schedule_of(playbook, config).latest(at)


def window_key(fire: dt.datetime) -> str:
    return fire.astimezone(dt.UTC).isoformat()


def due(conn: Connection, config: Config, library: Library, at: dt.datetime,
        grace: dt.timedelta | None = None, only: str | None = None) -> list[Window]:
    """The unswept latest windows at `at`, by playbook id; with `grace`, only fires that late."""
    windows = []
    for playbook in sorted(library.playbooks.values(), key=lambda p: p.id):
        if playbook.trigger.schedule is None or only not in (None, playbook.id):
            continue
        fire = fire_time(playbook, config, at)
        if fire is not None and (grace is None or fire >= at - grace):
            windows.append(Window(playbook, fire))
    if not windows:
        return []
    swept = {(row.playbook, row.window_key) for row in conn.execute(
        sa.select(tickets.c.playbook, tickets.c.window_key).where(
            tickets.c.playbook.in_([w.playbook.id for w in windows]),
            tickets.c.window_key.in_({w.key for w in windows})))}
    return [w for w in windows if (w.playbook.id, w.key) not in swept]
