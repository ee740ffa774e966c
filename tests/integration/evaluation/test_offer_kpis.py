"""Results per offer on both databases (`tend kpis --by offer`, `GET /kpis?by=offer`), against
counts worked out by hand from the contacts below; rates count customers, cost counts every
handled contact.

The period is 1-30 November in Shanghai. prepay_168 (cost 336): c1 presented just after
midnight on the 1st, interested, then handled on the hotline; c2 presented and declined twice
in the store; c3 presented and referred on the hotline. renew_discount (cost 150): c1 handled
once, c4 twice, on outbound calls. retired_offer (no longer in the library): c2 handled once.
Not counted: c5's contact names no offer, c6's falls a minute before the period in Shanghai,
c7's the day after it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from support.cli import run
from support.http_api import Api

from adapters.access.users import add_user
from adapters.db.engines import make_engine
from adapters.db.schema import contacts, customers
from adapters.evaluation import kpis, offer_kpis
from engine.clock import FixedClock
from engine.config import Config
from engine.playbooks.library import load_library

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai on 1 December


def _at(day: int, hour: int = 10) -> dt.datetime:
    """`hour` o'clock on `day` November in Shanghai, as an instant."""
    return dt.datetime(2026, 11, day, hour - 8, tzinfo=dt.UTC)


CONTACTS = [  # offer, channel, customer, outcome, at
    ("prepay_168", "store", "c1", "presented", dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC)),
    ("prepay_168", "store", "c1", "interested", _at(3)),
    ("prepay_168", "hotline", "c1", "handled", _at(10)),
    ("prepay_168", "store", "c2", "presented", _at(4)),
    ("prepay_168", "store", "c2", "declined", _at(4)),
    ("prepay_168", "store", "c2", "presented", _at(12)),
    ("prepay_168", "store", "c2", "declined", _at(12)),
    ("prepay_168", "hotline", "c3", "presented", _at(5)),
    ("prepay_168", "hotline", "c3", "referred", _at(5)),
    ("renew_discount", "outbound_call", "c1", "handled", _at(20)),
    ("renew_discount", "outbound_call", "c4", "handled", _at(21)),
    ("renew_discount", "outbound_call", "c4", "handled", _at(22)),
    ("retired_offer", "store", "c2", "handled", _at(8)),
    (None, "store", "c5", "presented", _at(6)),
    ("prepay_168", "store", "c6", "presented", dt.datetime(2026, 10, 31, 15, 59, tzinfo=dt.UTC)),
    ("prepay_168", "store", "c7", "handled", dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)),
]


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(contacts.insert(), [
            {"id": f"k{i}", "customer_id": cid, "channel": channel, "offer": offer,
             "outcome": outcome, "by": "clerk", "at": at, "recorded_at": at}
            for i, (offer, channel, cid, outcome, at) in enumerate(CONTACTS)])


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def engine(db_url: str) -> Any:
    made = make_engine(db_url)
    _seed(made)
    yield made
    made.dispose()


def _found(engine: Engine, config: Config) -> dict[str, Any]:
    span = kpis.period("2026-11-01", "2026-11-30", config, NOW)
    prices = offer_kpis.costs(load_library(config).offers)
    with engine.connect() as conn:
        return offer_kpis.kpis(conn, span, prices)


def _rows(found: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["offer"], row["channel"]): row for row in found["rows"]}


def test_counts_rates_and_cost_per_offer_and_channel(engine: Engine, config: Config) -> None:
    found = _found(engine, config)
    rows = _rows(found)
    assert list(rows) == [("prepay_168", "all"), ("prepay_168", "hotline"),
                          ("prepay_168", "store"), ("renew_discount", "all"),
                          ("renew_discount", "outbound_call"), ("retired_offer", "all"),
                          ("retired_offer", "store")]
    prepay = rows[("prepay_168", "all")]
    assert prepay["contacts"] == {"presented": 4, "interested": 1, "declined": 2,
                                  "handled": 1, "referred": 1, "all": 9}
    assert prepay["customers"] == {"presented": 3, "interested": 1, "declined": 1,
                                   "handled": 1, "referred": 1}  # c2 declined twice: once
    assert prepay["rates"] == {o: pytest.approx(1 / 3)
                               for o in ("interested", "declined", "handled", "referred")}
    assert (prepay["unit_cost"], prepay["cost"]) == (336, 336)
    store = rows[("prepay_168", "store")]
    assert store["customers"] == {"presented": 2, "interested": 1, "declined": 1,
                                  "handled": 0, "referred": 0}
    assert store["rates"] == {"interested": 0.5, "declined": 0.5, "handled": 0.0,
                              "referred": 0.0}
    assert store["contacts"]["all"] == 6 and store["cost"] == 0
    hotline = rows[("prepay_168", "hotline")]
    assert hotline["customers"]["presented"] == 2 and hotline["rates"]["handled"] == 0.5
    assert hotline["cost"] == 336
    renew = rows[("renew_discount", "all")]
    assert renew["customers"]["presented"] == 2 and renew["rates"]["handled"] == 1.0
    assert renew["contacts"]["handled"] == 3 and renew["cost"] == 3 * 150  # c4 twice: paid twice
    retired = rows[("retired_offer", "all")]
    assert retired["customers"]["handled"] == 1
    assert (retired["unit_cost"], retired["cost"]) == (None, None)  # unpriced: no cost, not 0
    total = found["total"]
    assert total["contacts"]["all"] == 13 and total["customers"]["presented"] == 6
    assert total["customers"]["handled"] == 4 and total["rates"]["handled"] == pytest.approx(4 / 6)
    assert total["cost"] == 336 + 450
    assert (found["by"], found["from"], found["to"]) == ("offer", "2026-11-01", "2026-11-30")


def test_an_empty_period_has_no_rows_and_no_rates(engine: Engine, config: Config) -> None:
    span = kpis.period("2026-09-01", "2026-09-30", config, NOW)
    with engine.connect() as conn:
        found = offer_kpis.kpis(conn, span, {})
    assert found["rows"] == []
    assert found["total"]["customers"]["presented"] == 0
    assert set(found["total"]["rates"].values()) == {None} and found["total"]["cost"] is None


def test_cli_prints_the_same_figures_and_refuses_a_bad_by(
        engine: Engine, config: Config, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    args = ("kpis", "--by", "offer", "--from", "2026-11-01", "--to", "2026-11-30")
    as_json = run(CliRunner(), *args, "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == _found(engine, config)
    table = run(CliRunner(), *args)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0] == "Results per offer, contacts from 2026-11-01 to 2026-11-30"
    prepay = next(line for line in lines if line.startswith("prepay_168"))
    assert prepay.split() == ["prepay_168", "3", "1", "(33.3%)", "1", "(33.3%)", "1",
                              "(33.3%)", "1", "(33.3%)", "9", "336.00"]
    store = next(line for line in lines if line.startswith("  store"))
    assert store.split()[:4] == ["store", "2", "1", "(50.0%)"]
    retired = next(line for line in lines if line.startswith("retired_offer"))
    assert retired.split()[-1] == "-"
    assert next(line for line in lines if line.startswith("all")).split()[-1] == "786.00"
    bad = run(CliRunner(), "kpis", "--by", "offers")
    assert bad.exit_code == 2 and "--by" in bad.stderr


def test_http_counts_a_contact_recorded_through_the_api(api: Api) -> None:
    st = api.app.extensions["tend"]
    _seed(st.engine)
    with st.engine.begin() as conn:
        conn.execute(customers.insert().values(
            id="c8", joined_on=dt.date(2019, 1, 1), arpu=96.0, updated_at=NOW))
        api.tokens["agent:store"] = add_user(conn, "clerk8", ["agent:store"], NOW)
    made = api.call("POST", "/customers/c8/contacts", "agent:store", json={
        "channel": "store", "offer": "renew_discount", "outcome": "handled",
        "at": "2026-11-30T20:00:00+08:00"})
    assert made.status_code == 201, made.json
    reply = api.call("GET", "/kpis?by=offer&from=2026-11-01&to=2026-11-30", "viewer")
    assert reply.status_code == 200, reply.json
    rows = _rows(reply.json)
    assert rows[("renew_discount", "store")]["customers"] == {
        "presented": 1, "interested": 0, "declined": 0, "handled": 1, "referred": 0}
    renew = rows[("renew_discount", "all")]
    assert renew["customers"]["presented"] == 3 and renew["contacts"]["handled"] == 4
    assert renew["cost"] == 4 * 150
    wrong = api.call("GET", "/kpis?by=offers", "viewer")
    assert wrong.status_code == 400 and "by" in wrong.json["errors"]
