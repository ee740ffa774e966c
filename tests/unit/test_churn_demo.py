"""Demo history for the churn model: rows as they stood then, with the signs before a churn."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from random import Random

from adapters.intake.demo_files import demo_spec, write_demo
from engine.config import Config
from engine.demo import BASE_COLUMNS, generate, history_months, history_row

AT = dt.date(2026, 11, 26)
COL = {name: i for i, name in enumerate(BASE_COLUMNS)}


def test_history_months_are_the_firsts_before_the_month() -> None:
    assert history_months(AT, 3) == [dt.date(2026, 8, 1), dt.date(2026, 9, 1),
                                      dt.date(2026, 10, 1)]
    assert history_months(dt.date(2026, 1, 31), 1) == [dt.date(2025, 12, 1)]


def test_a_past_row_knows_nothing_of_later_churn_and_shows_its_signs(config: Config) -> None:
    rows = [row for row, _ in generate(demo_spec(config, 3000, 0, 5, AT))]
    as_of = dt.date(2026, 8, 1)
    rng = Random(1)
    soon, stay = [], []
    for row in rows:
        then = history_row(rng, row, as_of)
        joined = dt.date.fromisoformat(row[COL["joined_on"]])
        if then is None:
            assert joined > as_of
            continue
        assert then[COL["churn_score"]] == ""
        churned = row[COL["churned_on"]]
        if churned and dt.date.fromisoformat(churned) <= as_of:
            assert then[COL["churned_on"]] == churned
            continue
        assert then[COL["churned_on"]] == ""
        assert dt.date.fromisoformat(then[COL["last_active_on"]]) <= as_of
        usage = float(then[COL["usage_change_pct"]])
        if churned and dt.date.fromisoformat(churned) <= as_of + dt.timedelta(days=61):
            soon.append(usage)
        else:
            stay.append(usage)
    assert len(soon) > 20
    assert statistics.mean(soon) < statistics.mean(stay) - 30


def test_history_leaves_the_customers_file_as_it_was(config: Config, tmp_path: Path) -> None:
    spec = demo_spec(config, 200, 20, 3, AT)
    plain = write_demo(spec, tmp_path / "plain")
    with_history = write_demo(spec, tmp_path / "history", history=2)
    assert plain.customers.read_bytes() == with_history.customers.read_bytes()
    assert [p.name for p in with_history.history] == ["customers-2026-09-01.csv",
                                                      "customers-2026-10-01.csv"]
    header = with_history.history[0].read_text(encoding="utf-8").splitlines()[0]
    assert header == plain.customers.read_text(encoding="utf-8").splitlines()[0]
