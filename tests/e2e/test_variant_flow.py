"""Champion/challenger end to end through a real `tend serve` on loopback, SQLite and
PostgreSQL: a playbook whose sms step carries three variants is planned, approved and
executed; tasks carry their customer's variant; goal events arrive; time moves past the goal
window; the results and `tend report` compare each variant with control and with each other;
`tend promote` publishes the winner as the next version, and the version history says why."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.clock import real_today
from support.served import ROOT, Tend, tend_served

PLAYBOOK = "winback_split"


@pytest.fixture
def tend(db_url: str, tmp_path: Path) -> Iterator[Tend]:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copytree(ROOT / "rules" / "offers", rules / "offers")
    shutil.copy(ROOT / "tests" / "fixtures" / "variants" / f"{PLAYBOOK}.yaml", rules)
    with tend_served(db_url, tmp_path, workers=2, rules=rules) as served:
        yield served


def test_variants_from_plan_to_promotion(tend: Tend) -> None:
    churned = (real_today() - dt.timedelta(days=10)).isoformat()
    rows = [f"x{i:03d},2019-01-01,200,{churned}" for i in range(300)]
    (tend.cwd / "customers.csv").write_text("id,joined_on,arpu,churned_on\n"
                                            + "\n".join(rows) + "\n")
    tend.cli("import", "customers", "customers.csv")
    lead, planner = tend.user("lena", "campaign_lead"), tend.user("pat", "designer")
    viewer, adapter = tend.user("vic", "viewer"), tend.user("crm", "adapter")

    status, ticket = tend.http("POST", "/tickets", planner, {"playbook": PLAYBOOK})
    assert status == 201, ticket
    tid = ticket["id"]
    status, ticket = tend.http("POST", f"/tickets/{tid}/approve", lead, {"comment": "ok"})
    assert status == 200 and ticket["state"] == "executing"

    status, tasks = tend.http("GET", f"/tickets/{tid}/tasks?limit=500", viewer)
    assert status == 200
    by_variant: dict[str, list[str]] = {}
    for task in tasks["items"]:
        variant = task["payload"]["variant"]
        assert task["channel"] == ("outbound_call" if variant == "call" else "sms")
        by_variant.setdefault(variant, []).append(task["customer_id"])
    assert set(by_variant) == {"plain", "credit", "call"}
    assert len(tasks["items"]) == ticket["audience"]["treatment"]

    now = dt.datetime.now(dt.UTC)
    won = sorted(by_variant["credit"])[:len(by_variant["credit"]) // 2]
    won += sorted(by_variant["plain"])[:len(by_variant["plain"]) // 10]
    goals = [{"id": f"goal-{cid}", "customer_id": cid, "type": "plan_reactivated",
              "at": (now + dt.timedelta(minutes=1)).isoformat()} for cid in won]
    assert tend.http("POST", "/events", adapter, goals)[0] == 200
    later = (now + dt.timedelta(days=31)).isoformat(timespec="seconds")
    assert f"ticket {tid}: evaluated and closed" in tend.cli("sweep", "--at", later)

    status, closed = tend.http("GET", f"/tickets/{tid}", viewer)
    assert status == 200 and closed["state"] == "closed"
    variants = {v["name"]: v for v in closed["results"]["variants"]["variants"]}
    assert variants["credit"]["conversions"] == len(by_variant["credit"]) // 2
    assert variants["call"]["conversions"] == 0
    assert variants["credit"]["vs_control"]["verdict"] == "significant"
    report = tend.cli("report", str(tid))
    assert "variants of step sms" in report and "credit vs call: +" in report

    refused = tend.run("promote", PLAYBOOK, "--variant", "gold")
    assert refused.returncode == 1 and "unknown variant 'gold'" in refused.stderr
    out = tend.cli("promote", PLAYBOOK, "--variant", "credit", "--reason", "credit wins",
                   "--by", "pat")
    assert f"{PLAYBOOK} v2" in out
    reason = out.strip().splitlines()[-1]
    assert reason.startswith(f"promoted variant credit from ticket {tid}: +")
    assert reason.endswith("; by pat: credit wins")
    status, listed = tend.http("GET", f"/playbooks/{PLAYBOOK}/versions", viewer)
    assert status == 200
    assert [(v["version"], v["reason"]) for v in listed["items"]] == [(1, None), (2, reason)]
    status, history = tend.http("GET", f"/playbooks/{PLAYBOOK}/history", viewer)
    assert status == 200 and history["versions"][-1]["reason"] == reason
    assert "version 2" in tend.cli("validate")  # the library as written is valid
