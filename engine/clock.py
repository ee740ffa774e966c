"""Now is an input (DESIGN.md §11): one clock is handed to the app, the CLI, the scheduler and
the workers, and nothing else reads the wall clock.

Quiet hours, capacity days, cooldowns, SLAs and cron windows all turn on "now"; a module that
read the wall clock itself behaved differently at 23:30 in Shanghai than at noon, and a test
suite that passed in the morning failed at night. A clock is any `() -> aware UTC datetime`;
`system_clock` is the only reader of the real time.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from engine.errors import ValidationError
from engine.formats.values import parse_instant

Clock = Callable[[], dt.datetime]
START_VARIABLE = "TEND_CLOCK_START"


def system_clock() -> dt.datetime:
    """The wall clock, in UTC: the default for every process."""
    return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until moved: tests pin "now" with it."""

    def __init__(self, instant: dt.datetime) -> None:
        self.instant = _aware(instant)

    def __call__(self) -> dt.datetime:
        return self.instant

    def advance(self, span: dt.timedelta) -> dt.datetime:
        self.instant += span
        return self.instant

    def set(self, instant: dt.datetime) -> None:
        self.instant = _aware(instant)


class StartedClock:
    """A clock that starts at a given instant and runs at the real pace from there.

    For rehearsals and end-to-end tests that run a whole service "as of" another day and hour:
    timers, leases and timeouts still advance as they would.
    """

    def __init__(self, start: dt.datetime, pace: Callable[[], float] = time.monotonic) -> None:
        self.start = _aware(start)
        self.pace = pace
        self.origin = pace()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.pace() - self.origin)


def clock_from_environment(environ: Mapping[str, str]) -> Clock:
    """TEND_CLOCK_START=<ISO instant> starts the process's clock there (UTC when it has no
    offset); unset, the system clock. A bad value is refused naming the variable."""
    text = environ.get(START_VARIABLE, "").strip()
    if not text:
        return system_clock
    try:
        return StartedClock(parse_instant(text, ZoneInfo("UTC")))
    except ValueError as exc:
        raise ValidationError(str(exc), field=START_VARIABLE) from None


def _aware(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("a clock's instant needs a time zone")
    return instant.astimezone(dt.UTC)
