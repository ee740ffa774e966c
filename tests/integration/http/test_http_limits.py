"""Hostile request bodies on both backends: each is refused with a JSON 400 naming the
place, quickly, and nothing is stored (docs/DATA.md, "Input limits")."""

from __future__ import annotations

from typing import Any

import pytest
from support.hostile import BOMB, BOMB_LINE, bounded
from support.http_api import Api

from engine.limits import MAX_DEPTH, MAX_TEXT

ENDPOINTS = [("/events", "admin"), ("/customers", "admin"), ("/playbooks/validate", "admin"),
             ("/tickets", "admin"), ("/tickets/1/approve", "director")]


def post(api: Api, path: str, **kwargs: Any) -> Any:
    with bounded():
        return api.call("POST", path, **kwargs)


@pytest.mark.parametrize(("path", "role"), ENDPOINTS)
def test_json_nested_past_the_parsers_own_limits_is_a_400(api: Api, path: str,
                                                          role: str) -> None:
    reply = post(api, path, role=role, data="[" * 3000 + "]" * 3000,
                 content_type="application/json")
    assert reply.status_code == 400 and reply.is_json
    assert reply.json["message"] == \
        f"JSON nested deeper than {MAX_DEPTH} levels at character 1026"


@pytest.mark.parametrize(("path", "role"), ENDPOINTS)
def test_json_nested_past_the_limit_names_where(api: Api, path: str, role: str) -> None:
    body = '[{"data": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}]"
    reply = post(api, path, role=role, data=body, content_type="application/json")
    assert reply.status_code == 400 and reply.is_json
    where = "0.data" + ".a" * (MAX_DEPTH - 2)
    assert reply.json["message"] == f"JSON nested deeper than {MAX_DEPTH} levels at {where}"


def test_json_at_the_limit_is_read(api: Api) -> None:
    body = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    reply = post(api, "/events", data=body, content_type="application/json")
    assert reply.status_code == 400 and "nested" not in reply.json["message"]
    assert reply.json["errors"] == {"0": {"_schema": ["expected a JSON object"]}}


def test_yaml_bomb_in_a_draft_is_a_400_with_its_line(api: Api) -> None:
    for path, body in (("/playbooks/validate", {"yaml": BOMB}),
                       ("/playbooks/preview", {"yaml": BOMB, "at": "2026-11-20"})):
        reply = post(api, path, role="designer", json=body)
        assert reply.status_code == 400, reply.data
        assert reply.json["problems"][0]["line"] == BOMB_LINE
        assert "more than 10000 values" in reply.json["problems"][0]["message"]



def test_customer_text_over_the_limit_is_a_400_naming_the_field(api: Api) -> None:
    """The same bound as a CSV cell: a 10 MB name was once stored."""
    item = {"id": "c1", "joined_on": "2019-01-01", "tags": ["a" * 70_000, "b" * 70_000]}
    reply = post(api, "/customers", json=[{**item, "name": "n" * (MAX_TEXT + 1)}])
    assert reply.status_code == 400
    assert reply.json["errors"] == {"0": {
        "name": [f"expected at most {MAX_TEXT} characters, got {MAX_TEXT + 1}"],
        "tags": [f"expected at most {MAX_TEXT} characters in all, got 140001"]}}
    assert api.call("GET", "/customers/c1").status_code == 404
    fits = post(api, "/customers", json=[{"id": "c1", "joined_on": "2019-01-01",
                                          "name": "n" * MAX_TEXT}])
    assert fits.status_code == 200
    assert api.call("GET", "/customers/c1").json["name"] == "n" * MAX_TEXT


def test_event_text_over_the_limit_is_a_400_naming_the_field(api: Api) -> None:
    event = {"customer_id": "c1", "type": "plan_cancelled", "at": "2026-11-19",
             "data": {"reason": "r" * (MAX_TEXT + 1)}}
    reply = post(api, "/events", json=[event, {**event, "data": {}, "type": "t" * 200_000}])
    assert reply.status_code == 400
    too_long = f"expected at most {MAX_TEXT} characters, got"
    assert reply.json["errors"] == {
        "0": {"data.reason": [f"{too_long} {MAX_TEXT + 1}"]},
        "1": {"type": [f"{too_long} 200000"]}}
    fits = post(api, "/events", json=[{**event, "data": {"reason": "r" * MAX_TEXT}}])
    assert fits.status_code == 200, fits.json


def test_a_condition_nested_150_deep_is_a_400_at_its_line(api: Api) -> None:
    nots = "".join("  " * (i + 1) + "not:\n" for i in range(150))
    draft = "playbook: deep\naudience:\n" + nots + "  " * 151 + "arpu: {gt: 1}\n"
    reply = post(api, "/playbooks/validate", role="designer", json={"yaml": draft})
    assert reply.status_code == 400
    assert reply.json["problems"] == [{"line": MAX_DEPTH + 2, "column": 2 * MAX_DEPTH + 1,
                                       "message": f"nested deeper than {MAX_DEPTH} levels"}]
