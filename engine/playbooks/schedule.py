"""Cron schedules as crontab(5) reads them, computed by croniter.

APScheduler 3's CronTrigger numbers weekdays from Monday = 0 (`from_crontab("... 1")` is a
Tuesday) and ANDs day-of-month with day-of-week, so a crontab line fed to it fires on other days
than cron would. croniter follows crontab(5): weekdays 0-7 with 0 and 7 Sunday, names, ranges,
lists and steps, and when both day fields are restricted a day matching either one fires.
crontab(5) calls a field restricted when it has no `*`, so `*/2` counts as unrestricted
(croniter's `implement_cron_bug`, which is this documented behaviour, not a bug of ours).
croniter's own extensions (`L`, `W`, `#`, `H`, `?`, a seconds field, `@daily`) are refused, so a
schedule means the same here as in any crontab.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

_VALUE = r"(?:\d+|[A-Za-z]{3})"
_ITEM = rf"(?:\*|{_VALUE}(?:-{_VALUE})?)(?:/\d+)?"
_FIELD = re.compile(rf"{_ITEM}(?:,{_ITEM})*")
_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_BOUNDS = ("0-59", "0-23", "1-31", "1-12 or jan-dec", "0-7 or sun-sat (0 and 7 are Sunday)")
_RANGE = re.compile(rf"({_VALUE})-({_VALUE})")
_ORDER = {name: i for i, name in enumerate((
    "sun", "mon", "tue", "wed", "thu", "fri", "sat",
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_MINUTE = dt.timedelta(minutes=1)


def problem(text: str) -> str | None:
    """Why `text` is not a crontab(5) schedule that fires, or None when it is one."""
    parts = text.split()
    if len(parts) != 5:
        return f"expected 5 fields, got {len(parts)}"
    for name, part in zip(_NAMES, parts, strict=True):
        if not _FIELD.fullmatch(part):
            return (f"{name} field {part!r}: expected numbers or names with '*', ',', '-' "
                    f"and '/'")
        for low, high in _RANGE.findall(part):
            if _rank(low) > _rank(high):
                return f"{name} field {part!r}: range {low}-{high} runs backwards"
    try:
        _iterator(text, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).get_next(dt.datetime)
    except CroniterBadCronError as exc:
        return _culprit(parts) or str(exc)
    except CroniterBadDateError:
        return "it never fires (no date matches it)"
    return None


@dataclass(frozen=True)
class Schedule:
    """One checked cron string in a time zone; every instant it returns is aware, in UTC."""

    text: str
    zone: ZoneInfo

    def latest(self, at: dt.datetime) -> dt.datetime | None:
        """The latest fire at or before `at`: the key of the window `at` falls in. None when
        the calendar has none (`0 0 29 2 *` before year 4)."""
        start = at.astimezone(dt.UTC).replace(second=0, microsecond=0) + _MINUTE
        return _walk(self.text, start.astimezone(self.zone), backwards=True)

    def following(self, at: dt.datetime) -> dt.datetime | None:
        """The first fire strictly after `at`; None past the calendar's end."""
        return _walk(self.text, at.astimezone(self.zone), backwards=False)


def _walk(text: str, start: dt.datetime, backwards: bool) -> dt.datetime | None:
    cron = _iterator(text, start)
    try:
        fire = cron.get_prev(dt.datetime) if backwards else cron.get_next(dt.datetime)
    except (CroniterBadDateError, ValueError, OverflowError):  # off either end of the calendar
        return None
    assert isinstance(fire, dt.datetime)
    return fire.astimezone(dt.UTC)


def _culprit(parts: list[str]) -> str | None:
    """The first field croniter refuses on its own, named with the values it takes."""
    for i, part in enumerate(parts):
        alone = " ".join(part if j == i else "*" for j in range(5))
        try:
            _iterator(alone, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        except CroniterBadCronError:
            return f"{_NAMES[i]} field {part!r}: expected values in {_BOUNDS[i]}"
    return None


def _rank(value: str) -> int:
    """A range's end as a number; January is 1 but Sunday 0, hence the month offset."""
    if value.isdigit():
        return int(value)
    rank = _ORDER.get(value.lower(), 0)
    return rank - 6 if rank > 6 else rank


def _iterator(text: str, start: dt.datetime) -> croniter:
    return croniter(text, start, day_or=True, implement_cron_bug=True)
