"""A winback ticket executing with every task due: what the worker's tests and the outage
tests start from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from adapters.db.schema import customers
from adapters.tickets import service as tickets
from engine.config import Config
from engine.playbooks.library import Library
from engine.tickets.users import User

NOW = dt.datetime.now(dt.UTC)
STARTED = NOW - dt.timedelta(days=4)  # winback's call is due at the start, its sms 3 days on
DIAMONDS = [f"d{i:02d}" for i in range(6)]
HOLD = dt.timedelta(minutes=5)


def executing(engine: Engine, config: Config, library: Library) -> None:
    """A winback ticket planned and approved four days ago: every task is due now."""
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "name": cid, "phone": "+8613800000000", "joined_on": dt.date(2019, 1, 1),
             "arpu": 350.0, "churned_on": STARTED.date() - dt.timedelta(days=10),
             "updated_at": STARTED} for cid in DIAMONDS])
        planned = tickets.plan(conn, config, library, library.playbooks["winback"], STARTED,
                               "manual", "designer")
        assert planned is not None
        tickets.approve(conn, config, library, planned["id"],
                        User("lead", frozenset({"campaign_lead"})), "ok", STARTED)
