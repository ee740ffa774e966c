"""The contact trigger (`trigger: {contact: [...]}`, DESIGN 10): parsed into the model, shown
by explain and the JSON Schema, and judged for one customer on one channel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.config import Config
from engine.errors import ValidationError
from engine.formats.source import load_yaml, plain
from engine.playbooks.explain import explain_playbook
from engine.playbooks.library import Library
from engine.playbooks.playbook import Trigger
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.playbook_schema import playbook_schema
from engine.playbooks.triggers import EventVerdict, contact_outcomes

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 20, 3, 0, tzinfo=dt.UTC)
INBOUND = """\
playbook: inbound
title: Inbound
version: 1
priority: 5
trigger: {contact: [hotline, store, hotline]}
audience: {stage: {eq: decline}}
workflow: alerts
steps:
  - {id: sms, channel: sms, template: t}
"""
DECLINING = {"id": "c1", "joined_on": dt.date(2020, 1, 1), "arpu": 200.0,
             "churn_score": 0.8, "opt_out": ()}
STEADY = {**DECLINING, "id": "c2", "churn_score": 0.1}


def test_the_contact_channels_are_the_trigger(config: Config, library: Library) -> None:
    text = INBOUND.replace("hotline, store, hotline", "hotline, store")
    playbook = parse_playbook(text, "inbound.yaml", config, library.workflows)
    assert playbook.trigger == Trigger(None, None, ("hotline", "store"))
    shipped = library.playbooks["retention_inbound"].trigger
    assert shipped == Trigger(None, None, ("hotline", "store", "online"))


def test_a_channel_listed_twice_is_placed(config: Config, library: Library) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_playbook(INBOUND, "inbound.yaml", config, library.workflows)
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [
        (5, 37, "contact channel 'hotline' is listed twice")]


def test_an_outbound_channel_is_not_a_contact(config: Config, library: Library) -> None:
    text = INBOUND.replace("hotline, store, hotline", "outbound_call")
    with pytest.raises(ValidationError) as caught:
        parse_playbook(text, "inbound.yaml", config, library.workflows)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("inbound.yaml", 5, 21)
    assert problem.message.startswith("unknown contact channel 'outbound_call'")
    assert problem.message.endswith("store, hotline, online)")


def test_a_contact_is_judged_for_the_playbooks_of_its_channel(config: Config,
                                                              library: Library) -> None:
    text = INBOUND.replace("hotline, store, hotline", "hotline")
    extra = parse_playbook(text, "inbound.yaml", config, library.workflows)
    playbooks = [*library.playbooks.values(), extra]
    assert contact_outcomes(playbooks, DECLINING, "hotline", config, NOW) == [
        EventVerdict("retention_inbound", 2, True),
        EventVerdict("inbound", 1, True)]  # priority order
    assert contact_outcomes(playbooks, STEADY, "hotline", config, NOW) == [
        EventVerdict("retention_inbound", 2, False, "conditions not met"),
        EventVerdict("inbound", 1, False, "conditions not met")]
    assert contact_outcomes(playbooks, DECLINING, "store", config, NOW) == [
        EventVerdict("retention_inbound", 2, True)]
    assert contact_outcomes(playbooks, DECLINING, "sms", config, NOW) == []


def test_explain_names_the_contact_trigger(config: Config, library: Library) -> None:
    verdict = explain_playbook(DECLINING, library.playbooks["retention_inbound"], config, NOW)
    assert verdict["trigger"] == "contact hotline, store, online"
    assert verdict["matched"] is True and "note" not in verdict


def test_the_json_schema_knows_the_contact_trigger(config: Config) -> None:
    validator = Draft202012Validator(playbook_schema(config, ["standard", "alerts"]))
    document = plain(load_yaml(INBOUND, "inbound.yaml").root)
    document["trigger"] = {"contact": ["hotline", "store"]}
    assert list(validator.iter_errors(document)) == []
    document["trigger"] = {"contact": ["sms"]}
    assert list(validator.iter_errors(document))
    document["trigger"] = {"contact": ["hotline"], "event": "zero_usage"}
    assert list(validator.iter_errors(document))
