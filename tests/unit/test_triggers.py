"""Event triggers: the right playbooks fire, and a non-match says why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.config import Config
from engine.library import Library, load_library
from engine.rules import Matcher
from engine.triggers import Outcome, Triggers

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def library(config: Config) -> Library:
    return load_library(ROOT / "rules", ROOT / "workflows", config)


@pytest.fixture(scope="module")
def triggers(library: Library, config: Config) -> Triggers:
    return Triggers(library.playbooks.values(), config, Matcher())


def silent(days: float, at: dt.datetime = NOW) -> dict[str, object]:
    return {"id": "e1", "customer_id": "c1", "type": "zero_usage", "at": at,
            "data": {"days": days}}


SILVER = {"id": "c1", "joined_on": dt.date(2020, 1, 1), "arpu": 100.0}


def test_a_matching_event_sets_off_its_playbook(triggers: Triggers) -> None:
    assert triggers.outcomes(silent(7), SILVER, NOW) == [Outcome("zero_usage_alert", 1, True)]


def test_a_non_match_says_why(triggers: Triggers) -> None:
    assert triggers.outcomes(silent(6), SILVER, NOW) == [
        Outcome("zero_usage_alert", 1, False, "conditions not met")]
    standard = {**SILVER, "arpu": 10.0}
    assert not triggers.outcomes(silent(9), standard, NOW)[0].matched


def test_old_events_and_unknown_customers_trigger_nothing(triggers: Triggers,
                                                          config: Config) -> None:
    late = NOW - config.trigger_max_age - dt.timedelta(seconds=1)
    assert triggers.outcomes(silent(9, late), SILVER, NOW)[0].reason == \
        "older than trigger_max_age"
    assert triggers.outcomes(silent(9), None, NOW)[0].reason == "unknown customer"


def test_event_types_without_playbooks_have_no_outcomes(triggers: Triggers) -> None:
    event = {**silent(9), "type": "plan_upgraded", "data": {"plan": "x"}}
    assert triggers.outcomes(event, SILVER, NOW) == []


def test_a_second_library_load_reuses_the_compiled_rulesets(library: Library,
                                                            config: Config) -> None:
    matcher = Matcher()
    Triggers(library.playbooks.values(), config, matcher)
    again = Triggers(library.playbooks.values(), config, matcher)
    assert again.outcomes(silent(8), SILVER, NOW)[0].matched
