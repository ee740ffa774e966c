"""A playbook's library history on both databases: each version's tickets and results, and the
closed tickets of a version pooled, so version 2 can be compared with version 1."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Connection, Engine
from support.cli import run
from support.evaluated import AT, run_ticket, seed_customers, standing_ticket
from support.folders import with_rules
from support.http_api import Api

from adapters.db.engines import make_engine
from adapters.db.schema import contacts, entries, events
from adapters.evaluation import readouts
from adapters.evaluation.history import history
from adapters.evaluation.history import render as render_history
from adapters.tickets import service
from engine.config import Config
from engine.errors import NotFound
from engine.measurement.sequential import Stratum, readout
from engine.playbooks.library import Library, load_library

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _version_2(config: Config, tmp_path: Path) -> Library:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copytree(ROOT / "rules" / "offers", rules / "offers")  # winback names an offer
    text = (ROOT / "rules" / "winback.yaml").read_text()
    (rules / "winback.yaml").write_text(
        text.replace("version: 3", "version: 4").replace("WB50", "WB80"))
    return load_library(with_rules(config, rules))


def test_each_version_lists_its_tickets_and_a_pooled_uplift(engine: Engine, config: Config,
                                                           tmp_path: Path) -> None:
    v1, v2 = load_library(config), _version_2(config, tmp_path)
    seed_customers(engine, 200, prefix="a")
    first = run_ticket(engine, config, v1, AT, treated_share=0.1, control_share=0.1)
    seed_customers(engine, 200, prefix="b")  # v1's customers are in cooldown
    second = run_ticket(engine, config, v2, AT + dt.timedelta(days=1), treated_share=0.4,
                        control_share=0.1)
    seed_customers(engine, 50, prefix="c")  # a third ticket with someone in it: it waits
    with engine.begin() as conn:
        planned = service.plan(conn, config, v2, v2.playbooks["winback"],
                               AT + dt.timedelta(days=2), "manual", "designer")
        assert planned is not None
        _contacts(conn, [("a0001", "store", "handled", first),
                         ("b0001", "store", "presented", second),
                         ("b0002", "hotline", "handled", second),
                         ("b0003", "store", "declined", planned["id"])])
        found = history(conn, "winback", _reading(config, v2))
    assert found["playbook"] == "winback"
    assert [v["version"] for v in found["versions"]] == [3, 4]
    old, new = found["versions"]
    assert [t["id"] for t in old["tickets"]] == [first]
    assert [t["id"] for t in new["tickets"]] == [second, planned["id"]]
    closed, waiting = new["tickets"]
    assert closed["state"] == "closed" and closed["verdict"] is not None
    assert closed["treatment_conversions"] == round(closed["treatment"] * 0.4)
    assert waiting["state"] == "planned" and waiting["treatment_conversions"] is None
    assert new["pooled"]["tickets"] == 1  # the planned ticket is not judged yet
    assert new["pooled"]["treatment_conversions"] == closed["treatment_conversions"]
    assert new["pooled"]["absolute"] > old["pooled"]["absolute"]
    assert old["hash"] != new["hash"]
    # the readout pools the evaluated tickets by ticket; the planned one waits
    assert new["readout"]["strata"] == 1 and old["readout"]["strata"] == 1
    assert new["readout"]["estimate"] == pytest.approx(new["pooled"]["absolute"])
    assert new["readout"]["estimate_pts"] == pytest.approx(100 * new["readout"]["estimate"])
    assert new["readout"]["verdict"] in ("collecting", "works", "does not work", "no difference")
    # absolute uplifts also carry their unit in the name, in points
    assert closed["uplift_pts"] == pytest.approx(100 * closed["uplift"])
    assert new["pooled"]["absolute_pts"] == pytest.approx(100 * new["pooled"]["absolute"])
    # each version's offers pool the contacts naming its tickets, the planned one's too
    [old_credit] = [r for r in old["offers"]["rows"] if r["channel"] == "all"]
    assert old_credit["customers"]["presented"] == 1 and old_credit["rates"]["handled"] == 1.0
    [new_credit, hotline, store] = new["offers"]["rows"]
    assert new_credit["offer"] == "winback_credit" and new_credit["customers"] == {
        "presented": 3, "interested": 0, "declined": 1, "handled": 1, "referred": 0}
    assert new_credit["rates"]["handled"] == pytest.approx(1 / 3)
    assert (hotline["channel"], store["channel"]) == ("hotline", "store")
    assert store["customers"]["presented"] == 2 and store["rates"]["declined"] == 0.5
    assert new_credit["cost"] is None  # no prices given: unpriced, not free


def _contacts(conn: Connection, recorded: list[tuple[str, str, str, int]]) -> None:
    conn.execute(contacts.insert(), [
        {"id": f"k{i}", "customer_id": cid, "channel": channel, "offer": "winback_credit",
         "ticket_id": ticket_id, "outcome": outcome, "by": "clerk", "at": AT,
         "recorded_at": AT} for i, (cid, channel, outcome, ticket_id) in enumerate(recorded)])


def test_a_library_playbook_without_tickets_has_no_versions_yet(engine: Engine,
                                                                config: Config) -> None:
    with engine.begin() as conn:
        reading = _reading(config, load_library(config))
        assert history(conn, "winback", reading, known=True) == {"playbook": "winback",
                                                                 "versions": []}
        with pytest.raises(NotFound):
            history(conn, "no_such_playbook", reading)


def test_http_history(api: Api, config: Config) -> None:
    st = api.app.extensions["tend"]
    seed_customers(st.engine, 100)
    ticket_id = run_ticket(st.engine, config, st.library)
    with st.engine.begin() as conn:
        _contacts(conn, [("c0001", "store", "handled", ticket_id),
                         ("c0001", "store", "handled", ticket_id)])
    reply = api.call("GET", "/playbooks/winback/history", "designer")
    assert reply.status_code == 200
    (version,) = reply.json["versions"]
    assert version["version"] == 3 and version["tickets"][0]["id"] == ticket_id
    assert version["pooled"]["verdict"] == version["tickets"][0]["verdict"]
    credit = version["offers"]["rows"][0]
    assert credit["customers"]["handled"] == 1 and credit["contacts"]["handled"] == 2
    assert credit["cost"] == 2 * 50 and version["offers"]["total"]["cost"] == 100
    assert version["readout"]["strata"] == 1
    assert version["readout"]["interval"] == "normal-mixture confidence sequence"
    never_run = api.call("GET", "/playbooks/competitor_call_alert/history", "viewer")
    assert never_run.json["versions"] == []
    assert api.call("GET", "/playbooks/nope/history", "viewer").status_code == 404


def test_cli_history_prints_each_version_and_its_readout(engine: Engine, config: Config,
                                                        db_url: str,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    seed_customers(engine, 200)
    ticket_id = run_ticket(engine, config, load_library(config), treated_share=0.4)
    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    shown = run(CliRunner(), "history", "winback")
    assert shown.exit_code == 0, shown.output
    assert "v3  1 tickets" in shown.stdout and f"#{ticket_id}" in shown.stdout
    assert " pts " in shown.stdout and "readout (1 evaluated tickets" in shown.stdout
    as_json = json.loads(run(CliRunner(), "history", "winback", "--json").stdout)
    assert as_json["versions"][0]["readout"]["strata"] == 1
    missing = run(CliRunner(), "history", "nope")
    assert missing.exit_code == 1 and "unknown playbook 'nope'" in missing.output


def test_a_versions_readout_is_charted_ticket_by_ticket(engine: Engine, config: Config) -> None:
    seed_customers(engine, 200)
    ticket_id = run_ticket(engine, config, load_library(config), treated_share=0.4)
    with engine.connect() as conn:
        found = readouts.charted(conn, "winback", _reading(config, load_library(config)))
    (version,) = found.values()
    assert version["readout"]["strata"] == 1
    assert version["chart"] is not None and version["chart"].startswith(b"\x89PNG")
    assert ticket_id > 0


def _reading(config: Config, library: Library, now: dt.datetime = AT + dt.timedelta(days=60)
             ) -> readouts.Reading:
    return readouts.Reading(config, library, now)


# A standing ticket of zero_usage_alert (goal: contract_renewed within 30 days): per ISO week
# of entry (Shanghai), the entries and conversions of each group; each week's entries enter
# on its Wednesday. W48's last window has not ended by NOW: an open cohort.
WEEKS = {"2026-W45": ((300, 45), (60, 3)), "2026-W46": ((300, 40), (60, 4)),
         "2026-W47": ((300, 50), (60, 2)), "2026-W48": ((300, 60), (60, 1))}
MONDAYS = {"2026-W45": dt.date(2026, 11, 2), "2026-W46": dt.date(2026, 11, 9),
           "2026-W47": dt.date(2026, 11, 16), "2026-W48": dt.date(2026, 11, 23)}
NOW = dt.datetime(2026, 12, 20, 4, tzinfo=dt.UTC)  # W47's windows ended 18 Dec, W48's 25 Dec


def _standing_ticket(engine: Engine, library: Library) -> int:
    playbook = library.playbooks["zero_usage_alert"]
    first = dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC)
    rows, goals = [], []
    for week, groups in WEEKS.items():
        entered = dt.datetime.combine(MONDAYS[week] + dt.timedelta(days=2), dt.time(2),
                                      dt.UTC)
        for grp, (n, converted) in zip(("treatment", "control"), groups, strict=True):
            ids = seed_customers(engine, n, prefix=f"{week[-2:]}{grp[0]}")
            rows += [{"playbook": playbook.id, "customer_id": cid, "ticket_id": 91,
                      "grp": grp, "entered_at": entered} for cid in ids]
            goals += [{"id": f"g-{cid}", "customer_id": cid, "type": "contract_renewed",
                       "at": entered + dt.timedelta(days=5), "data": {"months": 12},
                       "known_customer": True, "received_at": entered}
                      for cid in ids[:converted]]
    with engine.begin() as conn:
        standing_ticket(conn, playbook, 91, first)
        conn.execute(entries.insert(), rows)
        conn.execute(events.insert(), goals)
    return playbook.version


def test_a_standing_tickets_complete_weekly_cohorts_are_pooled_in_the_readout(
        engine: Engine, config: Config, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An event-triggered playbook's standing ticket never closes: its complete weeks are the
    strata (each week's treatment against its own control), the open week waits, and the
    history, its text, the chart and the CLI say so."""
    library = load_library(config)
    version = _standing_ticket(engine, library)
    with engine.connect() as conn:
        found = history(conn, "zero_usage_alert", _reading(config, library, NOW))
        drawn = readouts.charted(conn, "zero_usage_alert", _reading(config, library, NOW))
    (shown,) = found["versions"]
    pooled = shown["readout"]
    assert shown["version"] == version and shown["pooled"] is None  # nothing closed
    assert (pooled["strata"], pooled["cohorts"], pooled["tickets"]) == (3, 3, 0)
    complete = [Stratum(t, tx, c, cx) for (t, tx), (c, cx) in list(WEEKS.values())[:3]]
    expected = readout(complete)
    assert pooled["estimate"] == pytest.approx(expected.estimate)
    assert (pooled["low"], pooled["high"]) == pytest.approx((expected.low, expected.high))
    assert pooled["treatment"] == 900 and pooled["control_conversions"] == 9
    assert pooled["verdict"] == expected.verdict == "works"
    assert "0 evaluated tickets and 3 weekly cohorts of standing tickets" in \
        render_history(found)
    assert drawn[version]["readout"]["cohorts"] == 3
    assert drawn[version]["chart"] is not None
    # a week earlier, W47's windows were still open too: two cohorts
    with engine.connect() as conn:
        earlier = readouts.readouts(conn, "zero_usage_alert",
                                    _reading(config, library, NOW - dt.timedelta(days=7)))
    assert earlier[version].cohorts == 2 and earlier[version].readout.strata == 2
    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    monkeypatch.setenv("TEND_CLOCK_START", NOW.isoformat())
    as_json = json.loads(run(CliRunner(), "history", "zero_usage_alert", "--json").stdout)
    assert as_json["versions"][0]["readout"]["cohorts"] == 3
