"""The instant the whole test suite runs at, and how child processes are told of it.

A suite that passed at noon failed at night: the sms quiet hours (21:00-08:00 in Shanghai)
held back tasks a test expected to pull. So the suite itself runs at a hostile instant,
moved in-process with time-machine (DESIGN.md §11: tests pin the clock):

- `TEND_TEST_AT` unset: the coming 31 December at 15:30 UTC, 23:30 in Shanghai, inside the
  quiet hours, on the last day of a year. It is always ahead of the real date, so cookies a
  browser test gets are not already expired by the browser's own clock.
- `TEND_TEST_AT=<ISO instant>`: that instant (UTC when it has no offset), e.g.
  `2028-02-29T16:30Z` or `2027-01-04T04:00Z`.
- `TEND_TEST_AT=wall`: the real clock, unmoved.

The clock ticks on from there. A `tend` process a test starts gets `TEND_CLOCK_START` with the
test's own "now" (`child_env`), so both sides agree on the hour.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

VARIABLE = "TEND_TEST_AT"


def suite_instant(environ: Mapping[str, str], today: dt.date) -> dt.datetime | None:
    """The instant to move the suite's clock to, or None to leave the real clock."""
    text = environ.get(VARIABLE, "").strip()
    if text == "wall":
        return None
    if text:
        found = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return found if found.tzinfo else found.replace(tzinfo=dt.UTC)
    year_end = dt.datetime(today.year, 12, 31, 15, 30, tzinfo=dt.UTC)
    return year_end if year_end.date() >= today else year_end.replace(year=today.year + 1)


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for a `tend` child process, its clock starting at the test's now."""
    return {**env, "TEND_CLOCK_START": dt.datetime.now(dt.UTC).isoformat()}


def tend_child(env: Mapping[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m adapters.cli ARGS` as a user types `tend ARGS`, in a child process whose clock
    starts at the test's now, however it ends."""
    return subprocess.run([sys.executable, "-m", "adapters.cli", *args], env=child_env(env),
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def run_tend(env: Mapping[str, str], cwd: Path, *args: str) -> str:
    """`tend ARGS` in a child process (`tend_child`); its output, after asserting it
    succeeded (stderr shown if not)."""
    done = tend_child(env, cwd, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def real_today() -> dt.date:
    """Read before the clock is moved: the one place the tests ask the real date."""
    return dt.date.today()
