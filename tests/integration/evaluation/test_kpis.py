"""KPIs over time on both databases, against values computed by hand from a small fixture.

One win-back ticket entered six customers on 5 November (four treated, two held out), and one
customer in October, outside the period. Managers: m1 has a1, a2 (treated) and b1 (control);
m2 has a3, a4 (treated) and b2 (control).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from support.cli import run
from support.http_api import Api

from adapters.db.engines import make_engine
from adapters.db.schema import customers, entries, events, playbook_versions, tasks, tickets
from adapters.evaluation import kpis
from engine.config import Config
from engine.errors import ValidationError

ROOT = Path(__file__).resolve().parents[3]
START = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
CUSTOMERS = {  # id: (manager, arpu, churned_on)
    "a1": ("m1", 350.0, None), "a2": ("m1", 200.0, None), "b1": ("m1", 200.0, None),
    "a3": ("m2", 100.0, None), "a4": ("m2", 200.0, dt.date(2026, 11, 15)),
    "b2": ("m2", 350.0, dt.date(2026, 11, 20)), "x0": ("m1", 200.0, None),
}
ENTRIES = [("a1", "treatment"), ("a2", "treatment"), ("a3", "treatment"), ("a4", "treatment"),
           ("b1", "control"), ("b2", "control")]
TASKS = [  # customer, step, channel, state, attempts
    ("a1", "call", "outbound_call", "accepted", 0), ("a1", "sms", "sms", "delivered", 1),
    ("a2", "sms", "sms", "delivered", 1), ("a3", "sms", "sms", "failed", 1),
    ("a4", "sms", "sms", "pending", 0), ("x0", "sms", "sms", "delivered", 1)]
GOAL_EVENTS = [("a1", dt.datetime(2026, 11, 10, tzinfo=dt.UTC), "plan_reactivated"),
               ("a2", dt.datetime(2026, 12, 20, tzinfo=dt.UTC), "plan_reactivated"),
               ("b1", dt.datetime(2026, 11, 6, tzinfo=dt.UTC), "plan_reactivated"),
               ("a3", dt.datetime(2026, 11, 6, tzinfo=dt.UTC), "plan_upgraded"),
               ("x0", dt.datetime(2026, 10, 25, tzinfo=dt.UTC), "plan_reactivated")]


def _seed(engine: Engine) -> None:
    text = (ROOT / "rules" / "winback.yaml").read_text()
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "joined_on": dt.date(2019, 1, 1), "manager": manager, "arpu": arpu,
             "churned_on": churned, "updated_at": START}
            for cid, (manager, arpu, churned) in CUSTOMERS.items()])
        conn.execute(playbook_versions.insert().values(
            playbook="winback", version=1, hash="h", text=text, loaded_at=START))
        conn.execute(tickets.insert().values(
            id=1, playbook="winback", version=1, playbook_hash="h", workflow="standard",
            state="executing", trigger="schedule", window_key="w", planned_at=START,
            planned_by="system", at=START, levels=[], started_at=START))
        rows = [(cid, grp, START) for cid, grp in ENTRIES]
        rows.append(("x0", "treatment", dt.datetime(2026, 10, 20, 1, tzinfo=dt.UTC)))
        conn.execute(entries.insert(), [
            {"id": i, "playbook": "winback", "customer_id": cid, "ticket_id": 1, "grp": grp,
             "entered_at": at} for i, (cid, grp, at) in enumerate(rows, 1)])
        entry_of = {cid: i for i, (cid, _, _) in enumerate(rows, 1)}
        conn.execute(tasks.insert(), [
            {"ticket_id": 1, "entry_id": entry_of[cid], "customer_id": cid, "step": step,
             "channel": channel, "route": "pool", "state": state, "attempts": attempts,
             "idempotency_key": f"{entry_of[cid]}:{step}", "due_at": START, "payload": {},
             "created_at": START, "updated_at": START}
            for cid, step, channel, state, attempts in TASKS])
        conn.execute(events.insert(), [
            {"id": f"e{i}", "customer_id": cid, "type": kind, "at": at, "data": None,
             "known_customer": True, "received_at": at}
            for i, (cid, at, kind) in enumerate(GOAL_EVENTS)])


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    _seed(engine)
    yield engine
    engine.dispose()


def _kpis(engine: Engine, config: Config, by: str) -> dict[str, Any]:
    span = kpis.period("2026-11-01", "2026-11-30", config, NOW)
    with engine.connect() as conn:
        return kpis.kpis(conn, config, by, span)


def test_kpis_by_manager_match_the_hand_computed_values(engine: Engine, config: Config) -> None:
    found = _kpis(engine, config, "manager")
    rows = {row["manager"]: row for row in found["rows"]}
    assert sorted(rows) == ["m1", "m2"]  # x0 entered in October: not in the period
    m1, m2 = rows["m1"], rows["m2"]
    assert m1["entries"] == {"treatment": 2, "control": 1}
    assert m1["conversions"] == {"treatment": 1, "control": 1}  # a2 converted too late
    assert m1["retention_success_rate"] == 0.5 and m1["control_success_rate"] == 1.0
    assert m1["uplift"]["absolute"] == pytest.approx(-0.5)
    assert m1["uplift"]["verdict"] == "too small to tell"
    assert m1["funnel"] == {"tasks": 3, "sent": 3, "delivered": 3, "connected": 1,
                            "accepted": 1, "converted": 0}
    assert m1["connect_rate"] == pytest.approx(1 / 3)
    assert m1["marketing_success_rate"] == pytest.approx(1 / 3)
    assert m1["contacts_per_customer"] == 1.5 and m1["max_contacts"] == 2
    assert m1["cost"] == pytest.approx(2.5 + 2 * 0.05)
    assert m1["churn"]["targeted"] == {"customers": 2, "churned": 0, "rate": 0.0}
    assert m2["conversions"] == {"treatment": 0, "control": 0}  # a3's event is not the goal
    assert m2["funnel"]["tasks"] == 2 and m2["funnel"]["sent"] == 1  # a4's is still pending
    assert m2["connect_rate"] == 0.0 and m2["contacts_per_customer"] == 0.5
    assert m2["churn"]["targeted"] == {"customers": 2, "churned": 1, "rate": 0.5}
    assert m2["churn"]["untargeted"] == {"customers": 1, "churned": 1, "rate": 1.0}
    assert found["total"]["entries"] == {"treatment": 4, "control": 2}
    assert found["total"]["open_windows"] == 6  # 5 Nov + 30 days is after 30 Nov


def test_winback_entrants_churned_on_their_entry_day_are_not_churn(engine: Engine,
                                                                   config: Config) -> None:
    """w1 churned on 5 November, the day the win-back entered them (09:00 in Shanghai):
    churned at entry, so neither at risk nor a churn; before, they made every such row 100%."""
    with engine.begin() as conn:
        conn.execute(customers.insert().values(
            id="w1", joined_on=dt.date(2019, 1, 1), manager="m3", arpu=200.0,
            churned_on=dt.date(2026, 11, 5), updated_at=START))
        conn.execute(entries.insert().values(id=99, playbook="winback", customer_id="w1",
                                             ticket_id=1, grp="treatment", entered_at=START))
    found = _kpis(engine, config, "manager")
    m3 = next(row for row in found["rows"] if row["manager"] == "m3")
    assert m3["churn"]["targeted"] == {"customers": 0, "churned": 0, "rate": None}
    assert found["total"]["churn"]["targeted"] == {"customers": 4, "churned": 1, "rate": 0.25}


def test_kpis_by_channel_count_each_channel_s_tasks_against_the_same_entries(
        engine: Engine, config: Config) -> None:
    rows = {row["channel"]: row for row in _kpis(engine, config, "channel")["rows"]}
    assert sorted(rows) == ["outbound_call", "sms"]
    call, sms = rows["outbound_call"], rows["sms"]
    for row in (call, sms):
        assert row["entries"] == {"treatment": 4, "control": 2}
        assert row["conversions"] == {"treatment": 1, "control": 1}
    assert call["funnel"]["sent"] == 1 and call["connect_rate"] == 1.0
    assert call["marketing_success_rate"] == 1.0 and call["contacts_per_customer"] == 0.25
    assert call["cost"] == pytest.approx(2.5)
    assert sms["funnel"] == {"tasks": 4, "sent": 3, "delivered": 2, "connected": 0,
                             "accepted": 0, "converted": 0}
    assert sms["delivery_rate"] == pytest.approx(2 / 3) and sms["connect_rate"] == 0.0
    assert sms["contacts_per_customer"] == 0.75 and sms["cost"] == pytest.approx(0.15)


def test_kpis_by_tier_use_the_customers_tier(engine: Engine, config: Config) -> None:
    rows = {row["tier"]: row["entries"] for row in _kpis(engine, config, "tier")["rows"]}
    assert rows == {"diamond": {"treatment": 1, "control": 1},
                    "gold": {"treatment": 2, "control": 1},
                    "silver": {"treatment": 1, "control": 0}}


def test_cli_and_http_give_the_same_kpis(engine: Engine, config: Config, db_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    result = run(CliRunner(), "kpis", "--by", "manager", "--from", "2026-11-01", "--to",
                 "2026-11-30", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == _kpis(engine, config, "manager")
    table = run(CliRunner(), "kpis", "--by", "manager", "--from", "2026-11-01", "--to",
                "2026-11-30")
    assert table.exit_code == 0 and "m1" in table.stdout and "too small to tell" in table.stdout
    bad = run(CliRunner(), "kpis", "--from", "2026-12-01", "--to", "2026-11-30")
    assert bad.exit_code == 1 and "--from: 2026-12-01 is after --to" in bad.stderr


def test_http_kpis_and_bad_periods(api: Api) -> None:
    _seed(api.app.extensions["tend"].engine)
    reply = api.call("GET", "/kpis?by=channel&from=2026-11-01&to=2026-11-30", "viewer")
    assert reply.status_code == 200
    assert [row["channel"] for row in reply.json["rows"]] == ["outbound_call", "sms"]
    bad = api.call("GET", "/kpis?from=2026-13-01", "viewer")
    assert bad.status_code == 400 and "from" in bad.json["errors"]
    wrong = api.call("GET", "/kpis?by=weather", "viewer")
    assert wrong.status_code == 400 and "by" in wrong.json["errors"]


def test_a_period_is_checked(config: Config) -> None:
    with pytest.raises(ValidationError, match="to: "):
        kpis.period(None, "tomorrow", config, NOW)
    default = kpis.period(None, None, config, NOW)
    assert (default.first, default.last) == (dt.date(2026, 11, 2), dt.date(2026, 12, 1))
