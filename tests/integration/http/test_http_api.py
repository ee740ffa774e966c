"""The HTTP API on both backends: every endpoint × role, malformed input, batch atomicity."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from support.http_api import ROLES, Api

from adapters.db.schema import customers, events

JSON = "application/json"
CUSTOMERS = [
    {"id": "c1", "joined_on": "2019-01-01", "arpu": 200, "churned_on": "2026-10-01",
     "phone": "+86 138 0000 0000", "tags": ["vip"], "region": "east"},
    {"id": "c2", "joined_on": "2026-11-01", "arpu": 50, "churned_on": None,
     "phone": None, "tags": "", "region": None},
]
EVENT = {"id": "e1", "customer_id": "c1", "type": "zero_usage", "at": "2026-11-19T10:00:00",
         "data": {"days": 3}}
READ = {"viewer", "designer", "campaign_lead", "director", "admin"}
DESIGN = {"designer", "admin"}
INGEST = {"adapter:sms", "admin"}
APPROVE = {"campaign_lead", "director"}
PLAN = {"playbook": "winback", "at": "2026-11-20"}

# (method, path, JSON body, roles allowed)
ENDPOINTS: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/playbooks", None, READ),
    ("GET", "/playbooks/winback", None, READ),
    ("POST", "/playbooks/validate", {"yaml": "playbook: x"}, DESIGN),
    ("POST", "/playbooks/winback/preview", {"at": "2026-11-20"}, DESIGN),
    ("POST", "/playbooks/preview", {"yaml": "playbook: x"}, DESIGN),
    ("POST", "/customers", CUSTOMERS, INGEST),
    ("GET", "/customers/c1", None, READ | {"manager:m01"}),  # c1 is not theirs: 403 later
    ("GET", "/customers/c1/explain?playbook=winback&at=2026-11-20", None, READ),
    ("POST", "/events", [EVENT], INGEST),
    ("GET", "/tickets?state=planned&overdue=true", None, READ),
    ("GET", "/tickets/1", None, READ),
    ("POST", "/tickets", PLAN, DESIGN),
    ("POST", "/tickets/1/approve", {"comment": "fine"}, APPROVE),
    ("POST", "/tickets/1/reject", {"reason": "too broad"}, APPROVE),
    ("GET", "/tickets/1/tasks", None, READ),
    ("POST", "/tickets/1/cancel", {"reason": "changed our mind"}, {"admin"}),
    ("GET", "/channels/sms/tasks", None, {"adapter:sms", "admin"}),
    ("POST", "/tasks/1/result", {"status": "delivered"}, {"adapter:sms", "admin",
                                                          "manager:m01"}),
    ("GET", "/tasks?state=dead", None, {"adapter:sms", "admin"}),
    ("POST", "/tasks/1/retry", None, {"admin"}),
    ("GET", "/managers/m01/tasks", None, {"manager:m01", "admin"}),
    ("GET", "/managers/m01/customers", None, {"manager:m01", "admin"}),
    ("GET", "/tickets/1/report?format=json", None, READ),
    ("GET", "/kpis?by=manager&from=2026-11-01&to=2026-11-30", None, READ),
    ("GET", "/playbooks/winback/history", None, READ),
]
ROLE_DENIED = "needs one of the roles"  # the route's own 403, unlike the service's rules


def test_every_endpoint_needs_a_token_and_a_role(api: Api) -> None:
    assert api.call("POST", "/customers", json=CUSTOMERS).status_code == 200
    assert api.call("POST", "/tickets", "designer", json=PLAN).json["id"] == 1
    wrong: list[str] = []
    for method, path, body, allowed in ENDPOINTS:
        for token in (None, "not-a-token"):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            reply = api.client.open(path, method=method, json=body, headers=headers)
            if reply.status_code != 401 or "message" not in reply.json:
                wrong.append(f"{method} {path} token={token}: {reply.status_code}")
        for role in ROLES:
            reply = api.call(method, path, role, json=body)
            denied = reply.status_code == 403 and ROLE_DENIED in reply.json["message"]
            if role in allowed:
                ok = reply.status_code < 500 and reply.status_code != 401 and not denied
            else:
                ok = denied
            if not ok or not reply.is_json:
                wrong.append(f"{method} {path} as {role}: {reply.status_code} {reply.data[:200]}")
    assert not wrong, "\n".join(wrong)


def test_open_endpoints(api: Api) -> None:
    assert api.client.get("/healthz").json == {"status": "ok"}
    spec = api.client.get("/openapi.json").json
    assert "/tickets" in spec["paths"] or "/events" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert api.client.get("/docs").status_code == 200
    with api.client.get("/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200
    api.call("GET", "/playbooks", "viewer")
    metrics = api.client.get("/metrics").get_data(as_text=True)
    assert 'tend_http_requests_total{endpoint="/playbooks",method="GET",status="200"}' in metrics
    assert "tend_http_request_seconds_bucket" in metrics


def test_customers_upsert_read_and_explain(api: Api) -> None:
    reply = api.call("POST", "/customers", json=[*CUSTOMERS, {**CUSTOMERS[0], "arpu": 350}])
    assert reply.status_code == 200, reply.json
    assert reply.json == {"received": 3, "inserted": 2, "updated": 1, "ignored_fields": [],
                          "assigned": 0}
    c1 = api.call("GET", "/customers/c1", "viewer").json
    assert (c1["arpu"], c1["tags"], c1["attrs"]) == (350.0, ["vip"], {"region": "east"})
    assert c1["computed"]["tier"] == "diamond" and c1["churned_on"] == "2026-10-01"
    # an absent field is left alone, null clears
    assert api.call("POST", "/customers", json=[{"id": "c1", "joined_on": "2019-01-01",
                                                 "tags": None}]).status_code == 200
    c1 = api.call("GET", "/customers/c1", "viewer").json
    assert (c1["arpu"], c1["tags"]) == (350.0, [])
    explained = api.call("GET", "/customers/c1/explain?playbook=winback&at=2026-11-20").json
    assert explained["customer"] == "c1" and explained["playbooks"][0]["playbook"] == "winback"
    # the conditions in words beside the rule syntax; the exclusion said negated, ok = kept
    exclude = explained["playbooks"][0]["exclude"]
    assert exclude["condition"] == "tags contains do_not_winback" and exclude["held"] is False
    assert exclude["text"] == {"en": "not tagged do_not_winback", "zh": "未带有标签 do_not_winback"}
    assert exclude["ok"] is True
    assert api.call("GET", "/customers/nobody").status_code == 404
    assert api.call("GET", "/customers/c1/explain?playbook=../config.yaml").status_code == 404


def _count(api: Api, table: sa.Table) -> int:
    with api.app.extensions["tend"].engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_bad_customers_write_nothing_and_name_item_and_field(api: Api) -> None:
    bad = [CUSTOMERS[0], {**CUSTOMERS[1], "arpu": "lots", "joined_on": "yesterday"},
           {**CUSTOMERS[1], "id": "c3", "tags": 5}, {**CUSTOMERS[1], "id": "c4", "arpu": True}]
    reply = api.call("POST", "/customers", json=bad)
    assert reply.status_code == 400
    assert set(reply.json["errors"]) == {"1", "2", "3"}
    assert set(reply.json["errors"]["1"]) == {"arpu", "joined_on"}
    assert list(reply.json["errors"]["2"]) == ["tags"]
    assert list(reply.json["errors"]["3"]) == ["arpu"]
    mixed = api.call("POST", "/customers",
                     json=[CUSTOMERS[0], {"id": "x", "joined_on": "2020-01-01"}])
    assert mixed.status_code == 400 and list(mixed.json["errors"]) == ["1"]
    assert _count(api, customers) == 0


def test_events_batch(api: Api) -> None:
    api.call("POST", "/customers", json=CUSTOMERS)
    batch = [EVENT, {**EVENT, "id": "e2", "customer_id": "ghost"}, {**EVENT, "id": None}]
    reply = api.call("POST", "/events", "adapter:sms", json=batch)
    assert {k: v for k, v in reply.json.items() if k != "triggered"} == {
        "received": 3, "stored": 3, "ignored": 0, "unknown_customers": ["ghost"]}
    assert len(reply.json["triggered"]) == 3  # each new event meets zero_usage_alert once
    again = api.call("POST", "/events", "adapter:sms", json=batch[:2])
    assert (again.json["stored"], again.json["ignored"]) == (0, 2)
    assert again.json["triggered"] == []  # a retried event never triggers twice
    bad = [EVENT, {**EVENT, "id": "e9", "type": "nope"}, {"customer_id": "c1", "at": "soon",
                                                          "type": "zero_usage", "x": 1}]
    reply = api.call("POST", "/events", json=bad)
    assert reply.status_code == 400
    assert reply.json["errors"]["1"].keys() == {"type"}
    assert reply.json["errors"]["2"].keys() == {"at", "x"}
    assert _count(api, events) == 3


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("POST", "/playbooks/validate", {}, "yaml"),
    ("POST", "/playbooks/validate", {"yaml": 3}, "yaml"),
    ("POST", "/playbooks/validate", {"yaml": "x", "extra": 1}, "extra"),
    ("POST", "/playbooks/winback/preview", {"limit": "many"}, "limit"),
    ("POST", "/playbooks/winback/preview", {"at": "soon"}, "at"),
    ("POST", "/playbooks/winback/preview", {"cursor": "%%%"}, "cursor"),
    ("POST", "/playbooks/preview", {"yaml": "playbook: [", "at": "2026-01-01"}, "yaml"),
    ("GET", "/customers/c1/explain?at=never", None, "at"),
    ("POST", "/customers", {"id": "c1"}, "_schema"),
    ("POST", "/customers", [{"id": "c1"}], "_schema"),
    ("POST", "/events", [5], "0"),
    ("POST", "/events", [{"customer_id": "c1", "type": "zero_usage",  # no UTC form: crashed
                          "at": "9999-12-31T23:59:59-12:00"}], "0"),
])
def test_malformed_input_names_the_field(api: Api, method: str, path: str, body: Any,
                                         field: str) -> None:
    api.call("POST", "/customers", json=CUSTOMERS)
    reply = api.call(method, path, json=body)
    assert 400 <= reply.status_code < 500, reply.data
    assert field in reply.json["errors"], reply.json


@pytest.mark.parametrize("path", ["/tickets/99999999999999999999", "/tickets/2147483648/tasks",
                                  "/playbooks/winback/versions/1/diff/99999999999999999999"])
def test_an_id_too_large_for_the_database_is_a_404(api: Api, path: str) -> None:
    """Such ids overflowed the driver (a 500); no row can have them."""
    reply = api.call("GET", path)
    assert reply.status_code == 404 and reply.is_json, reply.data


@pytest.mark.parametrize("path", ["/events", "/customers", "/playbooks/validate"])
def test_a_body_that_is_not_json_is_a_json_4xx(api: Api, path: str) -> None:
    for data, ctype in (("{not json", "application/json"), ("a,b", "text/csv")):
        reply = api.call("POST", path, data=data, content_type=ctype)
        assert 400 <= reply.status_code < 500 and reply.is_json, (path, ctype, reply.data)


def test_validate_and_preview(api: Api) -> None:
    bad = api.call("POST", "/playbooks/validate", "designer", json={"yaml": "playbook: x\n"})
    assert bad.status_code == 400
    assert all({"line", "column", "message"} <= set(p) for p in bad.json["problems"])
    winback = api.call("GET", "/playbooks/winback", "viewer").json
    good = api.call("POST", "/playbooks/validate", "designer", json={"yaml": winback["yaml"]})
    assert good.json["ok"] is True and good.json["playbook"]["id"] == "winback"
    assert good.json["warnings"] == []
    eager = winback["yaml"].replace("times: 2, after: 1d", "times: 4, after: 1d")
    warned = api.call("POST", "/playbooks/validate", "designer", json={"yaml": eager})
    line = 1 + eager.splitlines().index("    retry: {on: [no_answer], times: 4, after: 1d}")
    assert warned.status_code == 200 and warned.json["ok"] is True
    [warning] = warned.json["warnings"]
    assert (warning["line"], warning["column"]) == (line, 5)
    assert warning["message"].startswith("warning: step 'call' makes up to 5 outbound_call")
    api.call("POST", "/customers", json=[
        {"id": f"c{i:03}", "joined_on": "2019-01-01", "arpu": 200, "churned_on": "2026-10-01"}
        for i in range(25)])
    body = {"at": "2026-11-20", "limit": 10, "group": "matched"}
    first = api.call("POST", "/playbooks/winback/preview", "designer", json=body).json
    assert first["counts"]["matched"] == 25 and len(first["ids"]) == 10
    assert sum(first["counts"][k] for k in ("treatment", "control", "suppressed")) == 25
    assert first["power"]["treatment"] == first["counts"]["treatment"]
    assert first["power"]["under_powered"] is True  # 25 customers tell nothing
    ids = list(first["ids"])
    cursor = first["next_cursor"]
    while cursor:
        nxt = api.call("POST", "/playbooks/winback/preview", "designer",
                       json={**body, "cursor": cursor}).json
        ids += nxt["ids"]
        cursor = nxt["next_cursor"]
    assert ids == sorted(f"c{i:03}" for i in range(25))
    draft = api.call("POST", "/playbooks/preview", "designer",
                     json={"yaml": winback["yaml"], "at": "2026-11-20"}).json
    assert draft["counts"] == first["counts"]


def test_an_event_playbook_is_not_planned_by_hand(api: Api) -> None:
    api.call("POST", "/customers", json=CUSTOMERS)
    for playbook in ("zero_usage_alert", "competitor_call_alert"):
        refused = api.call("POST", "/tickets", "designer", json={"playbook": playbook})
        assert refused.status_code == 409, refused.json
        assert f"playbook '{playbook}' is triggered by the event" in refused.json["message"]
        assert "not on a ticket planned by hand" in refused.json["message"]
    assert api.call("GET", "/tickets", "viewer").json["items"] == []


def test_ticket_flow(api: Api) -> None:
    api.call("POST", "/customers", json=CUSTOMERS)
    planned = api.call("POST", "/tickets", "designer", json=PLAN)
    assert planned.status_code == 201, planned.json
    ticket = planned.json
    assert (ticket["state"], ticket["planned_by"], ticket["trigger"]) == \
        ("planned", "designer", "manual")
    again = api.call("POST", "/tickets", "designer", json=PLAN)
    assert again.status_code == 409
    path = f"/tickets/{ticket['id']}"
    assert api.call("POST", path + "/reject", "campaign_lead", json={}).json["errors"].keys() \
        == {"reason"}
    assert api.call("POST", path + "/approve", "director", json={}).status_code == 403
    approved = api.call("POST", path + "/approve", "campaign_lead", json={"comment": "go"})
    assert approved.status_code == 200, approved.json
    assert approved.json["state"] == "executing"
    late = api.call("POST", path + "/reject", "campaign_lead", json={"reason": "late"})
    assert late.status_code in (403, 409) and ROLE_DENIED not in late.json["message"]
    listed = api.call("GET", "/tickets?state=executing", "viewer").json
    assert [t["id"] for t in listed["items"]] == [ticket["id"]]
    assert listed["next_cursor"] is None
    tasks = api.call("GET", path + "/tasks", "viewer").json["items"]
    assert {t["customer_id"] for t in tasks} <= {"c1"}
    assert api.call("GET", "/tickets/999", "viewer").status_code == 404
    assert api.call("GET", "/tickets?state=nope", "viewer").json["errors"].keys() == {"state"}
    cancelled = api.call("POST", path + "/cancel", "admin", json={"reason": "stop"})
    assert cancelled.json["state"] == "cancelled"
    metrics = api.client.get("/metrics").get_data(as_text=True)
    assert 'tend_tickets{state="cancelled"} 1.0' in metrics


def test_text_no_database_can_store_is_a_400_naming_the_field(api: Api) -> None:
    """NUL and unpaired surrogates would fail inside the database (PostgreSQL rejects NUL).
    Sent as escaped JSON text, the way a client's encoder writes them."""
    bad = [{**CUSTOMERS[0], "name": "a\ud800"}, {**CUSTOMERS[0], "name": "b", "id": "c\u0000"}]
    reply = api.call("POST", "/customers", data=json.dumps(bad), content_type=JSON)
    assert reply.status_code == 400
    assert reply.json["errors"] == {"0": {"name": [
        "expected valid Unicode text (an unpaired surrogate was found)"]},
        "1": {"id": ["expected text without NUL characters"]}}
    batch = [{**EVENT, "customer_id": "c\u0000"},
              {**EVENT, "id": "e2", "data": {"days": 3, "x": None}},
              {**EVENT, "id": "e3", "type": "competitor_call", "data": {"number": "1\ud800"}}]
    reply = api.call("POST", "/events", data=json.dumps(batch), content_type=JSON)
    assert reply.status_code == 400
    assert set(reply.json["errors"]) == {"0", "2"}
    assert reply.json["errors"]["2"] == {"data.number": [
        "expected valid Unicode text (an unpaired surrogate was found)"]}
    assert _count(api, customers) == 0 and _count(api, events) == 0


def test_a_manager_reads_their_customers_and_nothing_else(api: Api) -> None:
    """`manager:m01` reads the record, the list and the view of the customers whose manager
    is m01; anyone else's (or an unknown id) is a 403, as are the other managers' lists."""
    mine = [{"id": f"m{i}", "joined_on": "2019-01-01", "arpu": 200, "manager": "m01",
             "phone": "13812345678", "name": "张三"} for i in range(3)]
    theirs = {"id": "t1", "joined_on": "2019-01-01", "arpu": 200, "manager": "m02",
              "phone": None, "name": None}
    stored = api.call("POST", "/customers", json=[*mine, theirs])
    assert stored.status_code == 200, stored.json
    record = api.call("GET", "/customers/m0", "manager:m01")
    assert record.status_code == 200 and record.json["manager"] == "m01"
    assert record.json["computed"]["tier"] == "gold"
    for path in ("/customers/t1", "/customers/nobody", "/customers/m0/explain",
                 "/customers/t1/view?channel=store", "/managers/m02/customers"):
        reply = api.call("GET", path, "manager:m01")
        assert reply.status_code == 403, (path, reply.json)
    view = api.call("GET", "/customers/m1/view?channel=store", "manager:m01")
    assert view.status_code == 200 and view.json["customer"]["phone"] == "138****5678"
    assert set(view.json) >= {"open_tasks", "trajectory", "offers"}
    listed = api.call("GET", "/managers/m01/customers?limit=2", "manager:m01")
    assert listed.status_code == 200, listed.json
    first = listed.json
    assert [c["id"] for c in first["items"]] == ["m0", "m1"]
    assert first["items"][0] == {"id": "m0", "name": "张三", "phone": "138****5678",
                                 "tier": "gold", "stage": "maturity", "open_tasks": 0}
    rest = api.call("GET", f"/managers/m01/customers?cursor={first['next_cursor']}",
                    "manager:m01").json
    assert [c["id"] for c in rest["items"]] == ["m2"] and rest["next_cursor"] is None
    assert [c["id"] for c in api.call("GET", "/managers/m02/customers").json["items"]] == ["t1"]
