"""Schemathesis against the app's own /openapi.json: the document is the contract, so every
answer must match it (status, content type, headers, body schema), no input may cause a 500,
and input the document calls invalid must be refused.

On SQLite only: it exercises the HTTP layer, which the backends share (both run in
test_http_api.py). Bounded in examples and deterministic, so it is quick and never flaky.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, is_check_class, load_all_checks
from schemathesis.generation import GenerationMode
from support.http_api import Api

# One of each kind the role table tells apart: an approver is config.yaml's campaign_lead.
FUZZ_ROLES = ("admin", "designer", "campaign_lead", "adapter:sms")
EXAMPLES = 150
# Whether a request is valid can depend on what the document cannot say: the installed
# playbooks (POST /tickets), config.yaml's event types and attributes (POST /events,
# /customers), a draft's YAML, an opaque cursor. Such requests are refused with a 400
# naming the field, which this check would count as a failure.
SKIPPED = {"positive_data_acceptance"}
CUSTOMERS = [{"id": f"c{i}", "joined_on": "2019-01-01", "arpu": 200, "churned_on": "2026-10-01",
              "phone": "+86 138 0000 0000"} for i in range(1, 6)]


def _checks() -> list[Any]:
    load_all_checks()
    return [check for check in CHECKS.get_all()
            if not is_check_class(check) and check.__name__ not in SKIPPED]


@pytest.fixture
def seeded(api: Api) -> Iterator[Api]:
    """Some rows for the fuzzer to find: customers, a ticket executing with its tasks."""
    client: FlaskClient = api.client
    admin = {"Authorization": f"Bearer {api.tokens['admin']}"}
    assert client.post("/customers", json=CUSTOMERS, headers=admin).status_code == 200
    planned = api.call("POST", "/tickets", "designer",
                       json={"playbook": "winback", "at": "2026-11-20"})
    assert planned.status_code == 201, planned.json
    api.call("POST", f"/tickets/{planned.json['id']}/approve", "campaign_lead", json={})
    yield api


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", FUZZ_ROLES)
def test_the_api_keeps_its_openapi_contract(seeded: Api, role: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", seeded.app)
    cases = st.one_of(schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
                      schema.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    checks = _checks()
    headers = {"Authorization": f"Bearer {seeded.tokens[role]}"}

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def conforms(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    conforms()
