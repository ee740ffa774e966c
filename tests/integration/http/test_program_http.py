"""`GET /program/report` on both databases: the service's figures as JSON, read roles only,
and a bad period refused naming its parameter (never a 500)."""

from __future__ import annotations

import pytest
from support.http_api import Api
from support.program_seed import seed


def test_the_report_over_http_gives_the_arms_and_the_interval(api: Api) -> None:
    seed(api.app.extensions["tend"].engine)
    reply = api.call("GET", "/program/report?from=2026-11-01&to=2026-12-01", "viewer")
    assert reply.status_code == 200, reply.json
    found = reply.json
    assert (found["from"], found["to"]) == ("2026-11-01", "2026-12-01")
    assert found["treated"]["customers"] == 4 and found["treated"]["conversions"] == 1
    assert found["global_control"]["customers"] == 3
    assert found["uplift"]["absolute"] == pytest.approx(0.25 - 1 / 3)
    assert found["uplift"]["low"] < found["uplift"]["absolute"] < found["uplift"]["high"]
    assert found["cost"]["channels"] == pytest.approx(2.55)
    assert found["cost"]["total"] == pytest.approx(102.55)  # the library prices the offer
    assert found["revenue"] is None and found["notes"]
    assert found["playbooks"] == [{"playbook": "winback", "treated": 4, "global_control": 3}]


@pytest.mark.parametrize(("query", "field"), [
    ("to=2026-12-01", "from"),
    ("from=2026-11-01", "to"),
    ("from=2026-11-31&to=2026-12-01", "from"),
    ("from=2026-12-01&to=2026-11-01", "to"),
    ("from=yesterday&to=2026-11-01", "from"),
    ("from=2026-11-01&to=2026-12-01&by=playbook", "by"),
])
def test_a_bad_period_is_a_400_naming_the_parameter(api: Api, query: str, field: str) -> None:
    reply = api.call("GET", f"/program/report?{query}", "viewer")
    assert reply.status_code == 400, reply.json
    assert list(reply.json["errors"]) == [field]


def test_only_readers_see_the_program(api: Api) -> None:
    path = "/program/report?from=2026-11-01&to=2026-12-01"
    assert api.call("GET", path, None).status_code == 401
    assert api.call("GET", path, "adapter:sms").status_code == 403
    assert api.call("GET", path, "manager:m01").status_code == 403
    assert api.call("GET", path, "director").status_code == 200
