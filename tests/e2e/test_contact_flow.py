"""A declining customer calls the hotline, end to end on a real `tend serve` (SQLite and
PostgreSQL), DESIGN 10: their contact enters them into retention_inbound (a contact-triggered
playbook on its standing ticket), the hotline agent's view lists the ticket's offer with its
script, the agent records interest and refers them to a store, the store's queue shows the
task with the agent's note, the store records the deal handled, the customer's follow-up
sms and call of the ticket are cancelled, and the offer's results count it. A customer in
the playbook's control group goes through the same desks and is offered nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.served import ROOT, Tend, tend_served

from adapters.db.engines import make_engine
from adapters.tickets.scheduler import plan_standing
from engine.config_loader import load_config
from engine.playbooks.library import load_library
from engine.playbooks.selection import in_control

TREATED, CONTROL = "d00", "d20"  # d20 falls in retention_inbound's 10% holdout
CUSTOMERS = ["id,name,phone,joined_on,arpu,churn_score,manager,contract_end,plan_fee",
             f"{TREATED},张三,13812345678,2019-01-01,120,0.8,m01,2027-12-20,96",
             f"{CONTROL},李四,13912345678,2019-01-01,120,0.8,m01,2027-12-20,96"]
NOTE = "有意向,到店办理预存"


@pytest.fixture
def tend(db_url: str, tmp_path: Path) -> Iterator[Tend]:
    # One worker: each gunicorn worker starts its own test clock at TEND_CLOCK_START when it
    # boots, so two workers disagree by their boot gap, and a task one made "now" may not yet
    # be due for the other, nor the trajectory's order the order things happened in.
    with tend_served(db_url, tmp_path, workers=1) as served:
        yield served


def _standing_ticket(db_url: str) -> int:
    """retention_inbound's standing ticket, planned as the scheduler's tick plans it."""
    config = load_config(ROOT / "config.yaml")
    library = load_library(config)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            opened = plan_standing(conn, config, library, dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()
    return int(next(t["id"] for t in opened if t["playbook"] == "retention_inbound"))


def test_a_declining_caller_is_offered_referred_and_handled(tend: Tend, db_url: str) -> None:
    assert in_control("retention_inbound", CONTROL, 0.10)
    (tend.cwd / "customers.csv").write_text("\n".join(CUSTOMERS) + "\n")
    tend.cli("import", "customers", "customers.csv")
    lead = tend.user("lena", "campaign_lead")
    hotline = tend.user("hana", "agent:hotline")
    store = tend.user("sam", "agent:store")
    queue = tend.user("store-pad", "adapter:store")
    viewer = tend.user("vic", "viewer")
    ticket = _standing_ticket(db_url)
    status, approved = tend.http("POST", f"/tickets/{ticket}/approve", lead, {})
    assert status == 200 and approved["state"] == "executing"

    status, seen = tend.http("GET", f"/customers/{TREATED}/view?channel=hotline", hotline)
    assert status == 200, seen
    first = seen["offers"][0]
    assert (first["offer"], first["rank"]) == ("prepay_168", 1)
    assert first["source"] == {"ticket_id": ticket, "playbook": "retention_inbound",
                               "step": "offer_sms"}
    assert first["script"].startswith("张三您好,您的96元套餐可参加预存168元得504元")
    assert sorted(t["channel"] for t in seen["open_tasks"]) == ["outbound_call", "sms"]

    for body in ({"id": "hl-1", "outcome": "interested", "note": NOTE},
                 {"id": "hl-2", "outcome": "referred", "note": NOTE,
                  "refer_to": {"channel": "store"}}):
        status, recorded = tend.http("POST", f"/customers/{TREATED}/contacts", hotline, {
            "channel": "hotline", "offer": "prepay_168", "ticket_id": ticket, **body})
        assert status == 201, recorded
    status, pulled = tend.http("GET", "/channels/store/tasks?limit=10", queue)
    assert status == 200, pulled
    [referral] = pulled["items"]
    assert (referral["customer_id"], referral["ticket_id"]) == (TREATED, ticket)
    assert referral["payload"]["referral"]["note"] == NOTE
    assert referral["payload"]["referral"]["by"] == "hana"

    status, _ = tend.http("POST", f"/customers/{TREATED}/contacts", store, {
        "id": "st-1", "channel": "store", "offer": "prepay_168", "ticket_id": ticket,
        "outcome": "handled", "note": "已办理"})
    assert status == 201
    status, listed = tend.http("GET", f"/tickets/{ticket}/tasks", viewer)
    states = {t["channel"]: t["state"] for t in listed["items"]
              if t["customer_id"] == TREATED}
    assert states == {"sms": "cancelled", "outbound_call": "cancelled", "store": "cancelled"}
    status, after = tend.http("GET", f"/customers/{TREATED}/view?channel=store", store)
    assert after["open_tasks"] == []
    assert [(t["channel"], t["outcome"]) for t in after["trajectory"]][:3] == [
        ("store", "handled"), ("hotline", "referred"), ("hotline", "interested")]

    status, kpis = tend.http("GET", "/kpis?by=offer", viewer)
    assert status == 200, kpis
    [row] = [r for r in kpis["rows"] if r["offer"] == "prepay_168" and r["channel"] == "all"]
    assert {k: row["contacts"][k] for k in ("interested", "referred", "handled")} == {
        "interested": 1, "referred": 1, "handled": 1}
    assert row["customers"]["handled"] == 1 and row["cost"] == 336

    status, held = tend.http("GET", f"/customers/{CONTROL}/view?channel=hotline", hotline)
    assert status == 200 and held["offers"] == [] and held["open_tasks"] == []
    assert held["control"] == [{"ticket_id": ticket, "playbook": "retention_inbound"}]
    status, at_store = tend.http("GET", f"/customers/{CONTROL}/view?channel=store", store)
    assert at_store["offers"] == []
    status, refused = tend.http("POST", f"/customers/{CONTROL}/contacts", hotline, {
        "channel": "hotline", "ticket_id": ticket, "outcome": "referred",
        "refer_to": {"channel": "store"}})
    assert status == 400 and "control group" in refused["message"]
    status, listed = tend.http("GET", f"/tickets/{ticket}/tasks", viewer)
    assert [t for t in listed["items"] if t["customer_id"] == CONTROL] == []
