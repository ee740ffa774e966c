"""What the scheduler's tests and the outage tests share: a clock the test moves, the lease's
length, who holds the lease, and a copy of the shipped playbooks the test may edit."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.db.schema import scheduler_lease

ROOT = Path(__file__).resolve().parents[2]
TTL = dt.timedelta(seconds=30)


class Clock:
    """A clock the test sets by hand (`clock.now += TTL`)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    return folder


def lease_holder(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        holder: str | None = conn.scalar(sa.select(scheduler_lease.c.holder))
        return holder
