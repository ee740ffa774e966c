"""The JSON Schema for editors: a valid 2020-12 schema that accepts every shipped playbook and
the documented example, and rejects the usual mistakes the loader also rejects."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from support.cli import run

from engine.config import Config
from engine.formats.source import load_yaml, plain
from engine.playbooks.playbook_schema import playbook_schema

ROOT = Path(__file__).resolve().parents[3]
WINBACK = plain(load_yaml((ROOT / "rules" / "winback.yaml").read_text(), "winback.yaml").root)


@pytest.fixture(scope="module")
def validator(config: Config) -> Draft202012Validator:
    schema = playbook_schema(config, ["standard", "high_value", "alerts"])
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


@pytest.mark.parametrize("path", sorted((ROOT / "rules").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_playbooks_are_valid(validator: Draft202012Validator, path: Path) -> None:
    document = plain(load_yaml(path.read_text(encoding="utf-8"), str(path)).root)
    assert errors(validator, document) == []


def test_documented_playbook_is_valid(validator: Draft202012Validator) -> None:
    text = (ROOT / "docs" / "PLAYBOOKS.md").read_text(encoding="utf-8")
    block = "# Win back" + text.split("```yaml\n# Win back", 1)[1].split("```", 1)[0]
    assert errors(validator, plain(load_yaml(block, "PLAYBOOKS.md").root)) == []


def with_change(path: list[str | int], value: Any) -> dict[str, Any]:
    """winback with the value at `path` replaced (or added)."""
    document: dict[str, Any] = copy.deepcopy(WINBACK)
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


@pytest.mark.parametrize(("path", "value"), [
    (["exlcude"], {"tags": {"contains": "x"}}),                        # unknown key
    (["steps", 0, "chanel"], "sms"),                                   # unknown step key
    (["version"], "3"),                                                # wrong type
    (["holdout"], 1),                                                  # out of range
    (["cooldown"], "90h"),                                             # wrong unit
    (["steps", 1, "delay"], "3"),                                      # not a duration
    (["steps", 0, "channel"], "fax"),                                  # unknown channel
    (["steps", 0, "route"], "boss"),                                   # unknown route
    (["workflow"], "express"),                                         # unknown workflow
    (["goal", "event"], "bought"),                                     # unknown event type
    (["trigger"], {"schedule": "0 9 * * *", "event": "arrears"}),      # both triggers
    (["trigger"], {"schedule": "daily"}),                              # not cron-shaped
    (["audience"], {"colour": {"eq": "red"}}),                         # unknown field
    (["audience"], {"tags": {"startswith": "x"}}),                     # unknown operator
    (["audience"], {"arpu": {"gt": "100"}}),                           # wrong literal type
    (["audience"], {"tier": {"eq": "platinum"}}),                      # unknown tier
    (["audience"], {"arpu": {"between": [1, 2, 3]}}),                  # between needs 2
    (["audience"], {"all": []}),                                       # empty all
    (["audience"], {"tier": {"eq": "gold"}, "arpu": {"gt": 1}}),       # two keys
    (["audience"], {"churned_on": {"within_last": "90h"}}),            # condition units
    (["steps", 0, "retry", "on"], ["busy"]),                           # unknown status
])
def test_malformed_playbooks_are_rejected(validator: Draft202012Validator,
                                          path: list[str | int], value: Any) -> None:
    assert errors(validator, with_change(path, value)) != []


def test_missing_required_keys_are_rejected(validator: Draft202012Validator) -> None:
    document = copy.deepcopy(WINBACK)
    del document["steps"]
    assert errors(validator, document) == ["'steps' is a required property"]


def test_descriptions_help_completion(config: Config) -> None:
    schema = playbook_schema(config)
    properties = schema["properties"]
    assert all("description" in spec for spec in properties.values())
    condition = schema["$defs"]["condition"]["properties"]
    assert condition["event.data.days"]["description"] == \
        "number field (event-triggered playbooks only)"
    assert set(schema["$defs"]["ops_date"]["properties"]) >= {"within_last", "older_than"}
    assert "enum" not in properties["workflow"]


def test_tend_schema_prints_the_schema() -> None:
    result = run(CliRunner(), "schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["workflow"]["enum"] == ["alerts", "high_value", "standard"]
