"""One campaign run end to end through a real `tend serve` on loopback, SQLite and PostgreSQL:
import, sweep at a fixed time, two-level approval with the right people, tasks, then time
moved past the goal window and the ticket closed with treatment vs control results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.served import Tend, tend_served

AT = "2026-06-01T09:00:00"
AT_MANUAL = "2026-06-01T09:05:00"  # a manual plan of the same playbook supersedes the swept one
CUSTOMERS = ["id,joined_on,arpu,manager,phone"] + [
    f"d{i:02d},2019-01-01,{350 + i},m0{i % 3},1380000{i:04d}" for i in range(12)] + [
    f"g{i:02d},2019-01-01,{160 + i},,1390000{i:04d}" for i in range(12)]


@pytest.fixture
def tend(db_url: str, tmp_path: Path) -> Iterator[Tend]:
    with tend_served(db_url, tmp_path, workers=2) as served:
        yield served


def test_plan_approve_execute_evaluate(tend: Tend) -> None:
    (tend.cwd / "customers.csv").write_text("\n".join(CUSTOMERS) + "\n")
    tend.cli("import", "customers", "customers.csv")
    lead = tend.user("lena", "campaign_lead")
    director = tend.user("dong", "director")
    planner = tend.user("pat", "designer", "campaign_lead")
    viewer = tend.user("vic", "viewer")
    adapter = tend.user("crm", "adapter")

    assert "high_value_upsell v2 planned" in tend.cli("sweep", "--at", AT)
    status, listed = tend.http("GET", "/tickets?state=planned&playbook=high_value_upsell",
                               viewer)
    assert status == 200 and len(listed["items"]) == 1
    swept = listed["items"][0]
    assert swept["audience"]["treatment"] + swept["audience"]["control"] == 24

    status, ticket = tend.http("POST", "/tickets", planner,
                               {"playbook": "high_value_upsell", "at": AT_MANUAL})
    assert status == 201 and ticket["planned_by"] == "pat" and ticket["next_level"] == 1
    tid = ticket["id"]
    assert tend.http("GET", f"/tickets/{swept['id']}", viewer)[1]["state"] == "cancelled"

    assert tend.http("POST", f"/tickets/{tid}/approve", planner, {})[0] == 403  # own ticket
    assert tend.http("POST", f"/tickets/{tid}/approve", viewer, {})[0] == 403
    assert tend.http("POST", f"/tickets/{tid}/approve", director, {})[0] == 403  # not yet
    status, ticket = tend.http("POST", f"/tickets/{tid}/approve", lead, {"comment": "ok"})
    assert status == 200 and ticket["state"] == "planned" and ticket["next_level"] == 2
    status, again = tend.http("POST", f"/tickets/{tid}/approve", lead, {})  # a double click
    assert status == 200 and again["repeat"] and again["next_level"] == 2
    assert tend.http("POST", f"/tickets/{tid}/approve", lead, {"level": 2})[0] == 403  # one each
    status, ticket = tend.http("POST", f"/tickets/{tid}/approve", director, {"comment": "go"})
    assert status == 200 and ticket["state"] == "executing"
    assert [a["by"] for a in ticket["approvals"]] == ["lena", "dong"]
    status, again = tend.http("POST", f"/tickets/{tid}/approve", director, {})
    assert status == 200 and again["repeat"] and again["state"] == "executing"  # nothing new
    assert tend.http("POST", f"/tickets/{tid}/reject", director, {"reason": "late"})[0] == 403

    status, tasks = tend.http("GET", f"/tickets/{tid}/tasks", viewer)
    treated = sorted({t["customer_id"] for t in tasks["items"]})
    assert status == 200 and len(treated) == ticket["audience"]["treatment"]
    keys = [t["idempotency_key"] for t in tasks["items"]]
    assert len(keys) == len(set(keys)) and all(t["state"] == "pending" for t in tasks["items"])

    now = dt.datetime.now(dt.UTC)
    upgraded = [{"id": f"up-{cid}", "customer_id": cid, "type": "plan_upgraded",
                 "at": (now + dt.timedelta(minutes=1)).isoformat(), "data": {"plan": "max"}}
                for cid in treated[:3]]
    assert tend.http("POST", "/events", adapter, upgraded)[0] == 200

    later = (now + dt.timedelta(days=46)).isoformat(timespec="seconds")
    assert f"ticket {tid}: evaluated and closed" in tend.cli("sweep", "--at", later)
    status, closed = tend.http("GET", f"/tickets/{tid}", viewer)
    assert closed["state"] == "closed"
    goal = closed["results"]["goal"]
    assert goal["event"] == "plan_upgraded"
    assert goal["treatment"]["conversions"] == 3 and goal["control"]["conversions"] == 0
    assert goal["treatment"]["members"] == ticket["audience"]["treatment"]
    assert goal["treatment"]["rate"] == 3 / ticket["audience"]["treatment"]
