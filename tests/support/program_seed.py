"""A small program for the program report's tests, computed by hand in
tests/integration/evaluation/test_program.py: one win-back sweep started on 5 November, t1..t4
treated, c1 in its own holdout, g1..g4 set aside as global control (g4 would have fallen in
win-back's own 10% holdout, so their twin is untreated and they are left out). Outside the
comparison: a care ticket's treated t9 (care is exempt), a standing ticket's t8, and a sweep of
October (t7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.engine import Engine

from adapters.db.schema import (
    contacts,
    customers,
    entries,
    events,
    playbook_versions,
    tasks,
    ticket_members,
    tickets,
)

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)
OCTOBER = dt.datetime(2026, 10, 20, 1, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 20, tzinfo=dt.UTC)
CHURNED = {"t3": dt.date(2026, 11, 15), "g2": dt.date(2026, 11, 5)}
# ticket: (playbook, trigger, class, started_at)
TICKETS = {1: ("winback", "schedule", "sales", START), 2: ("winback", "schedule", "care", START),
           3: ("winback", "event", "sales", START), 4: ("winback", "schedule", "sales", OCTOBER)}
ENTRIES = [(1, "t1", "treatment"), (1, "t2", "treatment"), (1, "t3", "treatment"),
           (1, "t4", "treatment"), (1, "c1", "control"), (2, "t9", "treatment"),
           (3, "t8", "treatment"), (4, "t7", "treatment")]
SET_ASIDE = ["g1", "g2", "g3", "g4"]
TASKS = [("t1", "call", "outbound_call", "accepted", 0), ("t2", "sms", "sms", "delivered", 1),
         ("t3", "sms", "sms", "pending", 0), ("t9", "sms", "sms", "delivered", 1)]
GOALS = [("t1", dt.datetime(2026, 11, 10, tzinfo=dt.UTC)),   # inside its 30 days
         ("t2", dt.datetime(2026, 12, 10, tzinfo=dt.UTC)),   # after them
         ("g1", dt.datetime(2026, 11, 6, tzinfo=dt.UTC)),
         ("t9", dt.datetime(2026, 11, 6, tzinfo=dt.UTC)),
         ("t7", dt.datetime(2026, 11, 6, tzinfo=dt.UTC))]
OFFER_PRICES = {"winback_credit": 50.0, "mystery": None}  # as the library prices it


def seed(engine: Engine) -> None:
    text = (ROOT / "rules" / "winback.yaml").read_text()
    people = sorted({cid for _, cid, _ in ENTRIES} | set(SET_ASIDE))
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": cid, "joined_on": dt.date(2019, 1, 1), "churned_on": CHURNED.get(cid),
             "updated_at": START} for cid in people])
        conn.execute(playbook_versions.insert().values(
            playbook="winback", version=1, hash="h", text=text, loaded_at=START))
        conn.execute(tickets.insert(), [
            {"id": tid, "playbook": name, "version": 1, "playbook_hash": "h",
             "workflow": "standard", "state": "executing", "trigger": trigger,
             "window_key": f"w{tid}", "planned_at": at, "planned_by": "system", "at": at,
             "levels": [], "started_at": at, "contact_class": cls}
            for tid, (name, trigger, cls, at) in TICKETS.items()])
        conn.execute(ticket_members.insert(), [
            *({"ticket_id": tid, "customer_id": cid, "grp": grp, "reason": None}
              for tid, cid, grp in ENTRIES),
            *({"ticket_id": 1, "customer_id": cid, "grp": "suppressed",
               "reason": "global_control"} for cid in SET_ASIDE)])
        conn.execute(entries.insert(), [
            {"id": i, "playbook": "winback", "customer_id": cid, "ticket_id": tid, "grp": grp,
             "entered_at": TICKETS[tid][3]} for i, (tid, cid, grp) in enumerate(ENTRIES, 1)])
        entry_of = {cid: (i, tid) for i, (tid, cid, _) in enumerate(ENTRIES, 1)}
        conn.execute(tasks.insert(), [
            {"ticket_id": entry_of[cid][1], "entry_id": entry_of[cid][0], "customer_id": cid,
             "step": step, "channel": channel, "route": "pool", "state": state,
             "attempts": attempts, "idempotency_key": f"{entry_of[cid][0]}:{step}",
             "due_at": START, "payload": {}, "created_at": START, "updated_at": START}
            for cid, step, channel, state, attempts in TASKS])
        conn.execute(events.insert(), [
            {"id": f"e{i}", "customer_id": cid, "type": "plan_reactivated", "at": at,
             "data": None, "known_customer": True, "received_at": at}
            for i, (cid, at) in enumerate(GOALS)])
        conn.execute(contacts.insert(), [
            {"id": f"k{i}", "customer_id": "t1", "channel": "outbound_call", "offer": offer,
             "ticket_id": tid, "outcome": "handled", "by": "m01", "at": START,
             "recorded_at": START}
            for i, (offer, tid) in enumerate([("winback_credit", 1), ("winback_credit", 1),
                                              ("mystery", 1), ("winback_credit", 2)])])
