"""Monthly snapshots keep what was known then: once per month, untouched by later changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine
from support.cli import run

from adapters.db.engines import make_engine
from adapters.db.schema import customer_snapshots, customers, events
from adapters.evaluation import snapshots
from adapters.tickets.scheduler import Scheduler
from engine.config import Config

AT = dt.datetime(2026, 9, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 on 1 September in Asia/Shanghai
NOW = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(customers.insert().values(
            id="a", joined_on=dt.date(2025, 9, 1), arpu=120.0, usage_change_pct=-40.0,
            last_active_on=dt.date(2026, 8, 22), contract_end=dt.date(2026, 10, 1),
            updated_at=AT))
        conn.execute(customers.insert().values(
            id="b", joined_on=dt.date(2020, 1, 1), churned_on=dt.date(2026, 7, 1),
            updated_at=AT))
        conn.execute(events.insert(), [
            {"id": f"e{i}", "customer_id": "a", "type": "competitor_call", "at": at,
             "data": None, "known_customer": True, "received_at": at}
            for i, at in enumerate((AT - dt.timedelta(days=3), AT - dt.timedelta(days=10),
                                    AT - dt.timedelta(days=40), AT + dt.timedelta(days=1)))])
    yield engine
    engine.dispose()


def _rows(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        return {row["customer_id"]: dict(row) for row in
                conn.execute(sa.select(customer_snapshots)).mappings()}


def test_a_snapshot_keeps_each_customers_values_on_the_day(engine: Engine,
                                                            config: Config) -> None:
    with engine.begin() as conn:
        taken = snapshots.take(conn, config, AT, NOW)
    assert (taken.month, taken.as_of, taken.customers, taken.written) == \
        (dt.date(2026, 9, 1), dt.date(2026, 9, 1), 2, True)
    rows = _rows(engine)
    a = rows["a"]
    assert a["tenure_days"] == 365 and a["days_inactive"] == 10
    assert a["contract_days_left"] == 30 and a["usage_change_pct"] == -40.0
    assert a["event_counts"] == {"competitor_call": 2}  # 30 days before, nothing after
    assert rows["b"]["churned_on"] == dt.date(2026, 7, 1) and rows["b"]["event_counts"] is None


def test_a_month_is_taken_once_and_later_changes_do_not_reach_it(engine: Engine,
                                                                 config: Config) -> None:
    with engine.begin() as conn:
        snapshots.take(conn, config, AT, NOW)
    before = _rows(engine)
    with engine.begin() as conn:
        conn.execute(customers.update().where(customers.c.id == "a").values(
            usage_change_pct=-95.0, churned_on=dt.date(2026, 9, 20)))
        conn.execute(customers.insert().values(id="c", joined_on=dt.date(2026, 9, 5),
                                               updated_at=AT))
    later = AT + dt.timedelta(days=20)
    with engine.begin() as conn:
        again = snapshots.take(conn, config, later, later)
    assert again.written is False and again.customers == 2
    assert again.as_of == dt.date(2026, 9, 1)
    assert _rows(engine) == before
    with engine.begin() as conn:
        october = snapshots.take(conn, config, AT + dt.timedelta(days=30), later)
        listed = snapshots.months(conn)
    assert october.written and october.customers == 3
    assert listed == [(dt.date(2026, 9, 1), dt.date(2026, 9, 1), 2),
                      (dt.date(2026, 10, 1), dt.date(2026, 10, 1), 3)]


def test_the_scheduler_job_takes_the_month_once(engine: Engine, config: Config) -> None:
    first = snapshots.monthly(engine, config, NOW)
    assert first is not None and first.month == dt.date(2026, 9, 1)
    assert snapshots.monthly(engine, config, NOW + dt.timedelta(days=3)) is None
    assert len(_rows(engine)) == 2


def test_the_leading_scheduler_keeps_the_months_snapshot(engine: Engine,
                                                         config: Config) -> None:
    clock = [NOW]
    scheduler = Scheduler(engine, config, "a", dt.timedelta(seconds=30), lambda: clock[0])
    scheduler.tick()
    assert len(_rows(engine)) == 2
    with engine.begin() as conn:
        conn.execute(customers.update().values(arpu=999.0))
    clock[0] = NOW + dt.timedelta(days=2)
    scheduler.tick()
    with engine.connect() as conn:
        assert snapshots.months(conn) == [(dt.date(2026, 9, 1), dt.date(2026, 9, 1), 2)]
        assert 999.0 not in set(conn.scalars(sa.select(customer_snapshots.c.arpu)))


def test_the_command_takes_a_month_once_and_refuses_the_future(sqlite_url: str,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.setenv("TEND_DATABASE_URL", sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(customers.insert().values(id="a", joined_on=dt.date(2025, 9, 1),
                                               updated_at=AT))
    engine.dispose()

    def tend(*args: str) -> Result:
        return run(CliRunner(), *args)

    first = tend("snapshot", "--at", "2026-09-15")
    assert first.exit_code == 0 and "snapshot 2026-09 (as of 2026-09-15): 1 customers" in \
        first.output
    again = tend("snapshot", "--at", "2026-09-20")
    assert again.exit_code == 0 and "taken already" in again.output
    future = tend("snapshot", "--at", "2999-01-01")
    assert future.exit_code == 1 and "has not come yet" in future.output
    early = tend("score", "churn")
    assert early.exit_code == 1 and "needs snapshots of at least 2 months" in early.output
