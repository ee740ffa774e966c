"""`tend score churn` on a planted history: it trains on snapshots only, is judged on a later
month, writes churn_score, and refuses to train on too little history."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from random import Random

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.db.engines import make_engine
from adapters.db.schema import customers
from adapters.evaluation import snapshots
from adapters.evaluation.churn_model import labelled_months, score_churn
from engine.config import Config
from engine.errors import TendError

MONTHS = [dt.date(2026, m, 1) for m in (4, 5, 6, 7, 8)]
TODAY = dt.datetime(2026, 11, 1, 4, 0, tzinfo=dt.UTC)
N = 300


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(4), tzinfo=dt.UTC)


def _history(engine: Engine, config: Config, months: list[dt.date]) -> set[str]:
    """Each month: customers' usage moves, the month is snapshotted, and customers whose usage
    fell churn with higher odds within the next two months (the planted signal). Returns the
    churners; their churn is written to today's rows as it happens."""
    rng = Random(11)
    ids = [f"k{i:03d}" for i in range(N)]
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "joined_on": dt.date(2021, 1, 1), "arpu": 100.0, "balance": 50.0,
             "usage_change_pct": 0.0, "last_active_on": dt.date(2026, 3, 30),
             "churned_on": None, "updated_at": _at(months[0])} for cid in ids])
    churn_on: dict[str, dt.date] = {}
    for month in months:
        with engine.begin() as conn:
            for cid in ids:
                if cid in churn_on and churn_on[cid] <= month:
                    conn.execute(customers.update().where(customers.c.id == cid)
                                 .values(churned_on=churn_on[cid]))
                    continue
                if cid in churn_on:
                    continue
                usage = rng.uniform(-100, 50)
                conn.execute(customers.update().where(customers.c.id == cid)
                             .values(usage_change_pct=usage))
                if rng.random() < 1 / (1 + math.exp(3.2 + 0.045 * usage)):
                    churn_on[cid] = month + dt.timedelta(days=rng.randrange(1, 55))
            snapshots.take(conn, config, _at(month), _at(month))
    with engine.begin() as conn:
        for cid, day in churn_on.items():
            conn.execute(customers.update().where(customers.c.id == cid).values(churned_on=day))
    return set(churn_on)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_the_model_finds_the_planted_signal_on_a_later_month_and_ignores_todays_rows(
        engine: Engine, config: Config) -> None:
    churners = _history(engine, config, MONTHS)
    with engine.begin() as conn:
        run = score_churn(conn, config, TODAY)
    assert run.trained_on == MONTHS[:-1]
    assert run.metrics.month == MONTHS[-1]
    assert run.metrics.auc > 0.7
    assert run.metrics.top_decile_lift > 1.5
    assert run.scored == N - len(churners)
    with engine.connect() as conn:
        scored = dict(conn.execute(sa.select(customers.c.id, customers.c.churn_score)).all())
    assert all(0 <= scored[cid] <= 1 for cid in scored if cid not in churners)
    assert all(scored[cid] is None for cid in churners)  # churned already: not scored

    # Today's rows know who churned: make that perfectly visible in them. Training reads the
    # snapshots, so the judged model is exactly the same.
    with engine.begin() as conn:
        conn.execute(customers.update().where(customers.c.id.in_(churners))
                     .values(usage_change_pct=-100.0, churn_score=1.0, last_active_on=None))
    with engine.begin() as conn:
        again = score_churn(conn, config, TODAY)
    assert again.metrics == run.metrics


def test_labels_wait_for_the_horizon_to_end(engine: Engine, config: Config) -> None:
    _history(engine, config, MONTHS)
    early = _at(dt.date(2026, 9, 15))  # July's two months have ended, August's have not
    with engine.begin() as conn:
        run = score_churn(conn, config, early)
    assert run.trained_on == MONTHS[:3] and run.metrics.month == MONTHS[3]
    with engine.connect() as conn:
        sampled = labelled_months(conn, config, 2, early.date(), max_rows=40)
    assert [m.month for m in sampled] == MONTHS[:4]
    assert all(len(m.rows) == len(m.labels) == 40 for m in sampled)


def test_training_refuses_without_enough_snapshot_months(engine: Engine,
                                                         config: Config) -> None:
    _history(engine, config, MONTHS[:1])
    with engine.begin() as conn, pytest.raises(TendError, match=r"found 1 \(2026-04\)"):
        score_churn(conn, config, TODAY)
    with engine.begin() as conn, pytest.raises(TendError, match="--horizon"):
        score_churn(conn, config, TODAY, horizon=0)
