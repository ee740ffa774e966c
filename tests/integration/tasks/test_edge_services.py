"""The service functions the edges call instead of reading tables, on both databases: task
lists and the dead-task retry, playbook versions, the inbox's ticket reads, the health ping
and sign-in storage. The HTTP and console tests check what people see of them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.access import signins
from adapters.db.engines import make_engine
from adapters.db.outage import ping
from adapters.db.schema import customers, playbook_versions, tasks
from adapters.tasks import listing
from adapters.tasks import service as task_service
from adapters.tickets import designer, queries, versions
from adapters.tickets import service as tickets
from engine.config import Config
from engine.errors import Conflict, NotFound, ValidationError
from engine.playbooks.library import Library
from engine.tasks import task as tk
from engine.tickets.users import User

ROOT = Path(__file__).resolve().parents[3]
AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
LEAD = User("bob", frozenset({"campaign_lead"}))
CHURNED = dt.date(2026, 10, 1)
IDS = [f"w{i:02d}" for i in range(30)]


def _customer(cid: str, arpu: float) -> dict[str, Any]:
    return {"id": cid, "name": f"name {cid}", "phone": "+8613800000000", "email": None,
            "joined_on": dt.date(2019, 1, 1), "arpu": arpu, "churned_on": CHURNED,
            "manager": "m7", "tags": None, "opt_out": None, "updated_at": AT}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with engine.begin() as conn:  # golds get the sms only, diamonds a manager's call too
        conn.execute(customers.insert(), [_customer(cid, 350.0 if i % 3 == 0 else 200.0)
                                          for i, cid in enumerate(IDS)])
    yield engine
    engine.dispose()


@pytest.fixture
def ticket(engine: Engine, config: Config, library: Library) -> int:
    """A winback ticket planned by `designer` and approved by `bob`: executing, with tasks."""
    with engine.begin() as conn:
        planned = tickets.plan(conn, config, library, library.playbooks["winback"], AT,
                               "manual", "designer")
        assert planned is not None
        tickets.approve(conn, config, library, planned["id"], LEAD, "fine", AT)
    return int(planned["id"])


# --- tasks ---

def test_a_task_page_narrows_by_each_filter_and_continues_after_its_last_id(
        engine: Engine, ticket: int) -> None:
    with engine.connect() as conn:
        every = listing.task_page(conn, ticket_id=ticket, limit=1000).items
        assert every and [t["id"] for t in every] == sorted(t["id"] for t in every)
        first = listing.task_page(conn, ticket_id=ticket, limit=3)
        rest = listing.task_page(conn, ticket_id=ticket, after=first.next_after, limit=1000)
        assert first.next_after == first.items[-1]["id"] and rest.next_after is None
        assert first.items + rest.items == every
        sms = listing.task_page(conn, channels={"sms"}, state=tk.PENDING, limit=1000).items
        assert sms == [t for t in every if t["channel"] == "sms" and t["state"] == "pending"]
        calls = listing.task_page(conn, route="manager:m7", limit=1000).items
        assert calls and calls == [t for t in every if t["route"] == "manager:m7"]
        assert listing.task_page(conn, ticket_id=ticket + 1, limit=5).items == []
        assert listing.task_page(conn, channels=set(), limit=5).items == []
        with pytest.raises(ValidationError, match=r"^state: expected one of pending"):
            listing.task_page(conn, state="lost", limit=5)
    assert json.loads(json.dumps(every)) == every  # plain values, ready for any edge


def test_counts_are_a_tickets_tasks_by_channel_and_state(engine: Engine, ticket: int) -> None:
    with engine.connect() as conn:
        every = listing.task_page(conn, ticket_id=ticket, limit=1000).items
        counts = listing.counts(conn, ticket)
        assert listing.counts(conn, ticket + 1) == {}
    expected: dict[str, dict[str, int]] = {}
    for t in every:
        by_state = expected.setdefault(t["channel"], {})
        by_state[t["state"]] = by_state.get(t["state"], 0) + 1
    assert counts == expected and list(counts) == sorted(counts)


def test_a_retry_revives_only_a_dead_task_and_says_who_and_why(
        engine: Engine, ticket: int) -> None:
    later = AT + dt.timedelta(hours=2)
    with engine.begin() as conn:
        victim = listing.task_page(conn, ticket_id=ticket, channels={"sms"}, limit=1).items[0]
        conn.execute(tasks.update().where(tasks.c.id == victim["id"]).values(
            state=tk.DEAD, attempts=5, detail={"reason": "HTTP 500"}))
        revived = task_service.retry(conn, victim["id"], "ops", later)
    assert revived["state"] == tk.PENDING and revived["attempts"] == 0
    assert revived["idempotency_key"] == victim["idempotency_key"]
    assert dt.datetime.fromisoformat(revived["due_at"] or "") == later
    assert revived["detail"] == {"retried": {"by": "ops", "at": later.isoformat(),
                                             "reason": "HTTP 500"}}
    with engine.begin() as conn, pytest.raises(Conflict, match=r"is pending: cannot revive"):
        task_service.retry(conn, victim["id"], "ops", later)
    with engine.begin() as conn, pytest.raises(NotFound, match=r"^no task 999999$"):
        task_service.retry(conn, 999_999, "ops", later)


def test_a_ticket_task_page_of_an_unknown_ticket_is_not_found(engine: Engine,
                                                             ticket: int) -> None:
    with engine.connect() as conn:
        assert tickets.task_page(conn, ticket, state=None, after=None, limit=2).items
        with pytest.raises(NotFound, match=f"^no ticket {ticket + 1}$"):
            tickets.task_page(conn, ticket + 1, state=None, after=None, limit=2)


# --- versions ---

def _store(engine: Engine, playbook: str, version: int, text: str, day: int) -> None:
    with engine.begin() as conn:
        conn.execute(playbook_versions.insert().values(
            playbook=playbook, version=version, hash=f"{playbook}{version}".ljust(64, "0"),
            text=text, loaded_at=AT + dt.timedelta(days=day)))


def test_versions_are_listed_read_and_diffed_in_one_place(engine: Engine) -> None:
    _store(engine, "alpha", 2, "a: 1\nb: 2  # two\n", 1)
    _store(engine, "alpha", 1, "a: 1\nb: 1", 0)
    _store(engine, "beta", 1, "c: 3\n", 2)
    with engine.connect() as conn:
        alpha = versions.stored(conn, "alpha")
        assert [(v.playbook, v.version) for v in versions.stored(conn)] == [
            ("alpha", 1), ("alpha", 2), ("beta", 1)]
        assert versions.stored(conn, "gamma") == []
        assert versions.text(conn, "alpha", 1) == "a: 1\nb: 1"
        change = versions.diff(conn, "alpha", 1, 2)
        same = versions.diff(conn, "beta", 1, 1)
        with pytest.raises(NotFound, match=r"^playbook 'alpha' has no stored version 3, 4$"):
            versions.diff(conn, "alpha", 3, 4)
        with pytest.raises(NotFound, match=r"^playbook 'beta' has no stored version 2$"):
            versions.text(conn, "beta", 2)
    assert [v.version for v in alpha] == [1, 2]
    assert alpha[0].loaded_at == AT and len(alpha[1].hash) == 64
    assert change.lines == ["--- alpha@v1", "+++ alpha@v2", "@@ -1,2 +1,2 @@", " a: 1",
                            "-b: 1", "+b: 2  # two"]
    # a text without a final newline still gives one line per diff line
    assert change.text == "".join(f"{line}\n" for line in change.lines)
    assert same.lines == [] and same.text == ""


def test_runs_are_each_versions_tickets_newest_first(engine: Engine, config: Config,
                                                      library: Library, ticket: int) -> None:
    with engine.connect() as conn:
        runs = versions.runs(conn)
        assert versions.runs(conn, "birthday") == {}
        stored = versions.stored(conn, "winback")
    version = library.playbooks["winback"].version
    assert [v.version for v in stored] == [version]
    [run] = runs[("winback", version)]
    assert (run.id, run.state) == (ticket, "executing")
    assert run.rehearsal and run.rehearsal["treatment"] > 0 and run.results is None


# --- the inbox's ticket reads and the metrics ---

def test_the_inbox_reads_plans_decisions_tiers_and_playbooks(engine: Engine, config: Config,
                                                            ticket: int) -> None:
    with engine.connect() as conn:
        mine = queries.planned_by(conn, "designer", 8)
        assert queries.planned_by(conn, "nobody", 8) == []
        [decision] = queries.recent_decisions(conn, 8)
        tiers = queries.treatment_tiers(conn, config, ticket)
        assert queries.playbooks_with_tickets(conn) == ["winback"]
        assert queries.counts_by_state(conn) == {"executing": 1}
    assert [t["id"] for t in mine] == [ticket] and mine[0]["state"] == "executing"
    assert (decision.ticket_id, decision.playbook, decision.version,
            *dataclasses.astuple(decision.approval)[:5]) == (
        ticket, "winback", mine[0]["version"], 1, "campaign_lead", "bob", "approved", "fine")
    assert decision.approval.at == AT
    assert tiers == {"gold", "diamond"}


# --- the health ping ---

def test_the_ping_says_why_a_database_does_not_answer(engine: Engine, tmp_path: Path) -> None:
    assert ping(engine.connect) is None
    gone = sa.create_engine(f"sqlite:///{tmp_path}/no/such/dir/tend.db")
    problem = ping(gone.connect)
    assert problem is not None and "unable to open database file" in problem


# --- sign-ins ---

def test_sessions_live_until_closed_and_lapse_with_their_lifetime(engine: Engine) -> None:
    day = dt.timedelta(days=1)
    with engine.begin() as conn:
        old = signins.open_session(conn, "ann", AT, day)
        assert signins.session_live(conn, old, "ann")
        assert not signins.session_live(conn, old, "bob")
        new = signins.open_session(conn, "ann", AT + 2 * day, day)  # drops the lapsed one
        assert not signins.session_live(conn, old, "ann")
        signins.close_session(conn, new)
        assert not signins.session_live(conn, new, "ann")


def test_failures_block_an_account_for_its_window_and_a_success_clears_them(
        engine: Engine) -> None:
    limits = signins.Limits(account=2, address=3, window=dt.timedelta(minutes=15))
    attempt = signins.keys(" Ann ", "10.0.0.1")
    assert attempt == [("account:ann", "account"), ("address:10.0.0.1", "address")]
    with engine.begin() as conn:
        for minute in (0, 1):
            assert signins.blocked_until(conn, attempt, limits, AT) is None
            signins.record_failure(conn, attempt, limits, AT + dt.timedelta(minutes=minute))
        assert signins.blocked_until(conn, attempt, limits, AT) == AT + limits.window
        signins.clear_account(conn, attempt)
        assert signins.blocked_until(conn, attempt, limits, AT) is None
        signins.record_failure(conn, attempt, limits, AT + dt.timedelta(minutes=2))
        assert signins.blocked_until(conn, attempt, limits, AT) == AT + limits.window
        later = AT + dt.timedelta(minutes=20)  # the address's window has passed: counts anew
        signins.record_failure(conn, attempt, limits, later)
        assert signins.blocked_until(conn, attempt, limits, later) is None


# --- the designer's explain is a value ---

def test_explain_returns_plain_values(engine: Engine, config: Config, library: Library,
                                      ticket: int) -> None:
    chosen = [library.playbooks["winback"]]
    with engine.connect() as conn:
        found = designer.explain(conn, "w00", chosen, config, AT)
        text = designer.explanation_text(found)
        with pytest.raises(NotFound, match=r"^no customer 'nobody'$"):
            designer.explain(conn, "nobody", chosen, config, AT)
    assert json.loads(json.dumps(found)) == found
    assert found["customer"] == "w00" and found["tier"] == "diamond"
    assert [v["playbook"] for v in found["playbooks"]] == ["winback"]
    assert {t["ticket_id"] for t in found["tasks"]} == {ticket}
    assert text.startswith("w00 at 2026-11-20T09:00:00+08:00: tier diamond")
