"""One clock (DESIGN.md §11): tests and rehearsals set "now", and nothing else reads the wall."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from engine.clock import FixedClock, StartedClock, clock_from_environment, system_clock
from engine.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]
WALL_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
              ("date", "today"), ("time", "time"), ("time", "time_ns"),
              ("time", "localtime"), ("time", "gmtime")}


def test_a_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert clock() == clock() == dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)
    assert clock.advance(dt.timedelta(hours=1)) == dt.datetime(2026, 12, 31, 16, 30,
                                                               tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="time zone"):
        FixedClock(dt.datetime(2026, 12, 31))


def test_a_started_clock_runs_at_the_real_pace_from_its_start() -> None:
    ticks = iter([100.0, 100.0, 102.5])
    clock = StartedClock(dt.datetime(2028, 2, 29, 16, 30, tzinfo=dt.UTC), lambda: next(ticks))
    assert clock() == dt.datetime(2028, 2, 29, 16, 30, tzinfo=dt.UTC)
    assert clock() == dt.datetime(2028, 2, 29, 16, 30, 2, 500000, tzinfo=dt.UTC)


def test_the_environment_chooses_the_clock_and_a_bad_start_is_named() -> None:
    assert clock_from_environment({}) is system_clock
    started = clock_from_environment({"TEND_CLOCK_START": "2026-12-31T15:30:00"})
    assert dt.timedelta(0) <= started() - dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC) \
        < dt.timedelta(minutes=1)
    with pytest.raises(ValidationError, match=r"^TEND_CLOCK_START: expected YYYY-MM-DD"):
        clock_from_environment({"TEND_CLOCK_START": "tomorrow"})


def _wall_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute | ast.Name):
            owner = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
            if (owner, node.attr) in WALL_READS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {owner}.{node.attr}")
    return found


def test_nothing_but_the_system_clock_reads_the_wall_clock() -> None:
    """A module that asks the wall clock itself behaves differently at 23:30 in Shanghai
    than at noon, whatever the clock handed to it says."""
    sources = sorted((ROOT / "engine").rglob("*.py")) + sorted((ROOT / "adapters").rglob("*.py"))
    reads = [read for path in sources if path.name != "clock.py" for read in _wall_reads(path)]
    assert reads == []
