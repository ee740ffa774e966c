"""How `pytest -n 2` (make test) hands tests to its two workers: every end-to-end test to one
worker, first; every other test, one at a time, to whichever worker is free.

The end-to-end tests (tests/e2e) start `tend serve`, workers and browsers against deadlines and
must not run two at a time (tests/e2e/conftest.py holds a lock file for that). Under xdist's
default `load` scheduling they were dealt round-robin to both workers at the start of the run,
so one worker sat waiting on the lock while the other ran a browser: the first minutes of the
suite used one core. Here they are one unit of work that one worker runs from the start while
the other runs the unit and integration tests; the lock stays, for a run with `--dist load`.

xdist's own `--dist loadgroup` would do this with an `xdist_group` mark, but with pytest 9.2 it
silently stops grouping (pytest-xdist issue #1386); this scheduler keys on the test's path,
which no pytest change can strip.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

ONE_WORKER = "tests/e2e/"


class EndToEndOnOneWorker(LoadScopeScheduling):
    """xdist's scope scheduling where the scope is all of tests/e2e, or else the test itself.

    LoadScopeScheduling queues the largest unit first (`--loadscope-reorder`, its default), so
    the end-to-end unit, the longest, starts at once; single tests follow in collection order.
    """

    def _split_scope(self, nodeid: str) -> str:
        return ONE_WORKER if nodeid.startswith(ONE_WORKER) else nodeid


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Replace xdist's default `load` scheduling; any `--dist` given on purpose is kept."""
    if config.getvalue("dist") != "load":
        return None
    return EndToEndOnOneWorker(config, log)
