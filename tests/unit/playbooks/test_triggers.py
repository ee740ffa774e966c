"""Event triggers: the right playbooks fire, and a non-match says why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.compilers.rules import Matcher
from engine.config import Config
from engine.playbooks.library import Library
from engine.playbooks.triggers import EventVerdict, Triggers

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def triggers(library: Library, config: Config) -> Triggers:
    return Triggers(library.playbooks.values(), config, Matcher())


def silent(days: float, at: dt.datetime = NOW) -> dict[str, object]:
    return {"id": "e1", "customer_id": "c1", "type": "zero_usage", "at": at,
            "data": {"days": days}}


SILVER = {"id": "c1", "joined_on": dt.date(2020, 1, 1), "arpu": 100.0}


def test_a_matching_event_sets_off_its_playbook(triggers: Triggers) -> None:
    assert triggers.outcomes(silent(7), SILVER, NOW) == [EventVerdict("zero_usage_alert", 2, True)]


def test_a_non_match_says_why(triggers: Triggers) -> None:
    assert triggers.outcomes(silent(6), SILVER, NOW) == [
        EventVerdict("zero_usage_alert", 2, False, "conditions not met")]
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


def test_only_the_facts_a_ruleset_reads_are_computed_and_they_equal_facts(
        config: Config) -> None:
    from engine.language.customer import facts
    from engine.language.fields import COMPUTED_FIELDS, CUSTOMER_FIELDS
    from engine.playbooks.triggers import wanted_facts

    today = dt.date(2026, 2, 28)
    people = [SILVER, {"id": "c2", "joined_on": dt.date(2026, 2, 28), "arpu": None,
                       "birthday": dt.date(2000, 2, 29), "tags": ("vip",),
                       "attrs": {"region": "fujian"}},
              {"id": "c3", "joined_on": dt.date(2019, 5, 1), "arpu": 5000.0,
               "birthday": dt.date(1990, 3, 1), "churned_on": dt.date(2026, 1, 1)}]
    names = {*CUSTOMER_FIELDS, *COMPUTED_FIELDS, "attr.region", "attr.devices"}
    for person in people:
        everything = facts(person, today, config.tiers, config.lifecycle)
        for name in names:
            assert wanted_facts(person, today, config, {name})[name] == everything.get(name)
        assert wanted_facts(person, today, config, {"tier", "days_to_birthday"}) == {  # only
            "tier": everything["tier"], "days_to_birthday": everything["days_to_birthday"]}


def test_a_ruleset_that_reads_event_at_gets_its_local_day(library: Library,
                                                           config: Config) -> None:
    from engine.playbooks.playbook_loader import parse_playbook

    text = (ROOT / "rules" / "zero_usage_alert.yaml").read_text().replace(
        "playbook: zero_usage_alert", "playbook: zero_usage_today").replace(
        "    - event.data.days: {gte: 7}", "    - event.at: {within_last: 0d}")
    playbook = parse_playbook(text, "zero_usage_today.yaml", config, library.workflows)
    triggers = Triggers([playbook], config, Matcher())
    yesterday = NOW - dt.timedelta(days=1)
    assert [o.matched for o in triggers.outcomes(silent(1), SILVER, NOW)] == [True]
    assert [o.matched for o in triggers.outcomes(silent(1, yesterday), SILVER, NOW)] == [False]
