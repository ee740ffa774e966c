"""The program report on both databases, against values computed by hand from a small fixture.

One win-back sweep started on 5 November: t1..t4 treated, c1 in its own holdout, g1, g2, g3
and g4 set aside as global control (g4 would have fallen in win-back's own 10% holdout, so
their twin is untreated and they are left out). Outside the comparison: a care ticket's
treated t9 (care is exempt), a standing ticket's t8, and a sweep of October (t7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from support.program_seed import NOW, OFFER_PRICES, SET_ASIDE, seed

from adapters.db.engines import make_engine
from adapters.evaluation import program
from engine.config import Config
from engine.errors import ValidationError
from engine.playbooks.selection import in_control


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    seed(engine)
    yield engine
    engine.dispose()


def test_the_fixture_s_set_aside_customers_are_what_the_docstring_says() -> None:
    assert [cid for cid in SET_ASIDE if in_control("winback", cid, 0.10)] == ["g4"]


def test_the_program_report_matches_the_hand_computed_values(engine: Engine,
                                                             config: Config) -> None:
    span = program.period("2026-11-01", "2026-12-01", config)
    with engine.connect() as conn:
        found = program.report(conn, config, OFFER_PRICES, span, NOW)
    t, g = found.treated, found.global_control
    assert (t.customers, t.with_goal, t.conversions, t.rate) == (4, 4, 1, 0.25)
    assert (g.customers, g.with_goal, g.conversions) == (3, 3, 1)
    assert g.rate == pytest.approx(1 / 3)
    assert (t.churn_at_risk, t.churned) == (4, 1)
    assert (g.churn_at_risk, g.churned) == (2, 0)  # g2 churned the day they were set aside
    assert found.uplift.absolute == pytest.approx(0.25 - 1 / 3)
    assert found.uplift.low is not None and found.uplift.low < found.uplift.absolute
    assert found.incremental.conversions == pytest.approx(4 * (0.25 - 1 / 3))
    assert found.incremental.low == pytest.approx(4 * found.uplift.low)
    assert found.cost.channels == pytest.approx(2.5 + 0.05)   # t3's task was never sent
    assert found.cost.offers == pytest.approx(100.0)          # the care ticket's is not
    assert found.cost.total == pytest.approx(102.55)
    assert found.cost.unpriced_offers == ("mystery",)
    assert found.cost.per_incremental_conversion is None      # no increment to pay for
    assert found.revenue is None and "revenue" in found.notes[0]
    assert [(p.playbook, p.treated, p.global_control) for p in found.playbooks] == [
        ("winback", 4, 3)]
    assert (t.open_windows, g.open_windows) == (0, 0)


def test_conversions_are_seen_up_to_now(engine: Engine, config: Config) -> None:
    """Before t1's goal event happened, it does not count; the windows are still open."""
    span = program.period("2026-11-01", "2026-12-01", config)
    with engine.connect() as conn:
        early = program.report(conn, config, OFFER_PRICES, span,
                               dt.datetime(2026, 11, 8, tzinfo=dt.UTC))
    assert early.treated.conversions == 0 and early.global_control.conversions == 1
    assert early.treated.open_windows == 4


def test_a_period_without_sweeps_has_empty_arms(engine: Engine, config: Config) -> None:
    span = program.period("2026-09-01", "2026-10-01", config)
    with engine.connect() as conn:
        found = program.report(conn, config, {}, span, NOW)
    assert found.treated.customers == found.global_control.customers == 0
    assert found.uplift.verdict == "too small to tell" and found.cost.total is None


@pytest.mark.parametrize(("first", "end", "field", "says"), [
    (None, "2026-12-01", "from", "missing"),
    ("2026-11-01", "", "to", "missing"),
    ("2026-13-01", "2026-12-01", "from", "YYYY-MM-DD"),
    ("2026-12-01", "2026-11-01", "to", "must be after from"),
    ("2026-12-01", "2026-12-01", "to", "must be after from"),
    ("0001-01-01", "2026-12-01", "from", "out of range"),  # no midnight in UTC
])
def test_a_bad_period_names_the_parameter(config: Config, first: str | None, end: str,
                                          field: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says) as caught:
        program.period(first, end, config)
    assert [p.field for p in caught.value.problems] == [field]
