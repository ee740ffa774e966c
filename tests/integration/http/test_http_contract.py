"""The HTTP contract is exact: query parameters are checked like bodies, every validation
error is a 400 naming its parameter, cursors out of range are refused, and /openapi.json
describes what the API answers."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from support.http_api import Api

from adapters.db.schema import tasks

CUSTOMERS = [{"id": "c1", "joined_on": "2019-01-01", "arpu": 200, "churned_on": "2026-10-01"}]
UNCHECKED = ("/console", "/static", "/")  # the console's pages are tested below


def _executing(api: Api) -> int:
    assert api.call("POST", "/customers", json=CUSTOMERS).status_code == 200
    ticket = api.call("POST", "/tickets", "designer",
                      json={"playbook": "winback", "at": "2026-11-20"}).json["id"]
    assert api.call("POST", f"/tickets/{ticket}/approve", "campaign_lead", json={}).json[
        "state"] == "executing"
    return int(ticket)


def _api_routes(api: Api) -> list[tuple[str, str]]:
    found = []
    for rule in api.app.url_map.iter_rules():
        if rule.rule == "/" or rule.rule.startswith(UNCHECKED[:-1]):
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule).replace("/channels/1/", "/channels/sms/")
        path = path.replace("/docs/assets/1", "/docs/assets/index.css")
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_every_endpoint_refuses_an_unknown_query_parameter(api: Api) -> None:
    """`GET /tickets?stat=planned` (misspelt) listed every ticket."""
    _executing(api)
    routes = _api_routes(api)
    assert len(routes) >= 24
    wrong = []
    for method, path in routes:
        reply = api.call(method, f"{path}?stat=planned", json={})
        for role in ("campaign_lead", "manager:m01"):  # recording contacts: not admin's
            if reply.status_code == 403:
                reply = api.call(method, f"{path}?stat=planned", role, json={})
        if reply.status_code != 400 or "stat" not in reply.json["errors"] \
                or "stat" not in reply.json["message"]:
            wrong.append(f"{method} {path}: {reply.status_code} {reply.data[:200]!r}")
    assert not wrong, "\n".join(wrong)


def test_a_tickets_tasks_are_filtered_by_state_and_paged(api: Api) -> None:
    """`GET /tickets/13/tasks?state=delivered&limit=2` ignored both and listed every task."""
    ticket = _executing(api)
    every = api.call("GET", f"/tickets/{ticket}/tasks").json["items"]
    assert every and {t["state"] for t in every} == {"pending"}
    task = every[0]["id"]
    with api.app.extensions["tend"].engine.begin() as conn:  # an adapter pulled it
        conn.execute(tasks.update().where(tasks.c.id == task).values(state="leased"))
    reported = api.call("POST", f"/tasks/{task}/result", json={"status": "delivered"})
    assert reported.status_code == 200, reported.json
    delivered = api.call("GET", f"/tickets/{ticket}/tasks?state=delivered&limit=2").json
    assert [t["id"] for t in delivered["items"]] == [task]
    ids: list[int] = []
    cursor: str | None = ""
    while cursor is not None:
        page = api.call("GET", f"/tickets/{ticket}/tasks?limit=1&cursor={cursor}"
                        if cursor else f"/tickets/{ticket}/tasks?limit=1").json
        assert len(page["items"]) <= 1
        ids += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
    assert ids == [t["id"] for t in every]
    assert api.call("GET", "/tickets/99/tasks?state=delivered").status_code == 404


@pytest.mark.parametrize("path", ["/tickets?state=nope", "/tasks?state=nope",
                                  "/tickets/1/tasks?state=nope", "/managers/m01/tasks?state=x",
                                  "/tickets?limit=0", "/kpis?by=colour"])
def test_every_bad_query_value_is_a_400_naming_it(api: Api, path: str) -> None:
    """An invalid `state` was a 400 on /tickets and a 422 on /tasks."""
    reply = api.call("GET", path)
    name = path.split("?")[1].split("=")[0]
    assert reply.status_code == 400 and list(reply.json["errors"]) == [name], reply.json
    assert name in reply.json["message"]


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("GET", "/customers/c1/explain?at=never", None, "at"),
    ("POST", "/tickets", {"playbook": "winback", "at": "soon"}, "at"),
    ("POST", "/playbooks/winback/preview", {"at": "soon"}, "at"),
    ("POST", "/tasks/1/result", {"status": "nope"}, "status"),
])
def test_errors_about_parameters_and_json_have_no_line_or_column(
        api: Api, method: str, path: str, body: Any, field: str) -> None:
    """They carried `"line": 0, "column": 0`, places that mean nothing outside a file."""
    reply = api.call(method, path, json=body)
    assert reply.status_code == 400 and field in reply.json["errors"], reply.json
    problems = reply.json.get("problems", [])
    assert not any({"line", "column"} & set(p) for p in problems), problems


def test_a_playbooks_problems_keep_their_line_and_column(api: Api) -> None:
    reply = api.call("POST", "/playbooks/validate", json={"yaml": "playbook: x\n"})
    assert reply.status_code == 400
    assert all({"line", "column", "message"} <= set(p) for p in reply.json["problems"])


def _console(api: Api) -> FlaskClient:
    client = api.app.test_client()
    page = client.get("/console/signin").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    signed = client.post("/console/signin", data={"token": api.tokens["admin"],
                                                  "csrf_token": csrf.group(1)})
    assert signed.status_code == 303
    return client


HUGE = "9223372036854775808"  # 2**63: overflowed both databases' drivers (a 500)


@pytest.mark.parametrize("path", [
    f"/tickets?cursor={HUGE}", "/tickets?cursor=%C2%B2",
    f"/tasks?cursor={base64.urlsafe_b64encode(HUGE.encode()).decode()}",
    f"/tickets/1/tasks?cursor={base64.urlsafe_b64encode(b'2147483648').decode()}",
    f"/managers/m01/tasks?cursor={base64.urlsafe_b64encode(HUGE.encode()).decode()}"])
def test_a_cursor_out_of_range_is_a_400_naming_it(api: Api, path: str) -> None:
    _executing(api)
    reply = api.call("GET", path)
    assert reply.status_code == 400 and list(reply.json["errors"]) == ["cursor"], reply.data


@pytest.mark.parametrize(("path", "named"), [
    (f"/console/?cursor={HUGE}", "cursor"), ("/console/?stat=planned", "stat"),
    ("/console/?state=nope", "state"), ("/console/?tier=tin", "tier"),
    ("/console/playbooks/winback?a=x&b=1", "a"), ("/console/explain?customr=c1", "customr"),
    ("/console/draft?form=winback", "form"), ("/console/signin?nxt=/", "nxt")])
def test_console_pages_refuse_bad_query_parameters(api: Api, path: str, named: str) -> None:
    reply = _console(api).get(path)
    assert reply.status_code == 400 and named in reply.get_data(as_text=True)


def test_console_pages_take_their_own_query_parameters(api: Api) -> None:
    client = _console(api)
    for path in ("/console/?playbook=&state=planned&tier=", "/console/playbooks/winback?a=1",
                 "/console/draft?from=winback&at=2026-11-20", "/console/explain?customer=c1"):
        assert client.get(path).status_code == 200, path


def _spec(api: Api) -> dict[str, Any]:
    spec: dict[str, Any] = api.client.get("/openapi.json").json
    return spec


def test_the_document_describes_errors_and_outputs_as_returned(api: Api) -> None:
    schemas = _spec(api)["components"]["schemas"]
    error = _spec(api)["components"]["responses"]["DEFAULT_ERROR"]["content"][
        "application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"message", "errors", "problems"} <= set(schemas[error]["properties"])
    for name in ("TicketOut", "TicketDetailOut", "PlaybookOut", "PlaybookDetailOut",
                 "CustomerOut", "TaskOut", "HeldTaskOut"):
        assert schemas[name].get("additionalProperties") is not False, name
    assert {"levels", "cancel_reason"} <= set(schemas["TicketOut"]["properties"])
    assert "yaml" in schemas["PlaybookDetailOut"]["properties"]


def test_the_document_says_metrics_are_prometheus_text(api: Api) -> None:
    documented = _spec(api)["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(documented) == ["text/plain"]
    assert api.client.get("/metrics").mimetype == "text/plain"


def test_validation_errors_are_documented_as_400_never_422(api: Api) -> None:
    for path, operations in _spec(api)["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert "422" not in operation["responses"], (method, path)


def test_a_wrong_method_is_a_405_saying_which_are_allowed(api: Api) -> None:
    reply = api.call("DELETE", "/tickets")
    assert reply.status_code == 405 and reply.is_json
    assert set(reply.headers["Allow"].split(", ")) >= {"GET", "POST"}
