"""The durable-rules rendering agrees with the reference evaluator on random conditions and facts.

Each example compiles one random condition and checks it against several random fact sets, so
the expensive part (creating a ruleset in durable-rules) is paid once per condition; customer
records are slow to draw, so that test gets fewer of them and the flat-facts test more examples.
Conditions past durable-rules' limits are rejected by `render` (tested in test_rules.py), so
here they are skipped with `assume`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import DIFFERENTIAL, conditions, customers, days, facts

from engine.compilers.rules import Matcher, message, render
from engine.config import Config
from engine.errors import ValidationError
from engine.formats.values import FieldType
from engine.language.condition import Condition
from engine.language.customer import facts as customer_facts
from engine.language.evaluate import holds
from engine.language.fields import Catalog, with_event

EVENT_DATA = {"days": FieldType.NUMBER, "number": FieldType.STRING,
              "urgent": FieldType.BOOL, "due_on": FieldType.DATE}
_names = itertools.count()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    """One host for the module: every Host keeps timer threads for the life of the process."""
    return Matcher()


def compiled(matcher: Matcher, cond: Condition) -> str:
    name = f"case{next(_names)}@1"
    try:
        matcher.add(name, cond)
    except ValidationError:
        assume(False)
    return name


def disagreements(matcher: Matcher, name: str, cond: Condition, cases: list[dict[str, Any]],
                  today: dt.date) -> list[tuple[dict[str, Any], bool]]:
    expected = [holds(cond, case, today) for case in cases]
    return [(case, want) for case, want in zip(cases, expected, strict=True)
            if matcher.matches(name, case, today) is not want]


@settings(DIFFERENTIAL, max_examples=DIFFERENTIAL.max_examples * 3)
@given(data=st.data())
def test_rules_agree_with_the_evaluator_on_random_facts(
        data: st.DataObject, matcher: Matcher, config: Config) -> None:
    catalog: Catalog = with_event(config.catalog(), EVENT_DATA)
    today = data.draw(days(), label="today")
    cond = data.draw(conditions(catalog, today), label="condition")
    cases = data.draw(st.lists(facts(catalog, today, cond), min_size=1, max_size=10),
                      label="facts")
    assert disagreements(matcher, compiled(matcher, cond), cond, cases, today) == []


@settings(DIFFERENTIAL)
@given(data=st.data())
def test_rules_agree_with_the_evaluator_on_customers_and_computed_fields(
        data: st.DataObject, matcher: Matcher, config: Config) -> None:
    today = data.draw(days(), label="today")
    cond = data.draw(conditions(config.catalog(), today), label="condition")
    records = data.draw(st.lists(customers(config.attributes, today, cond), min_size=1,
                                 max_size=5), label="customers")
    cases = [customer_facts(record, today, config.tiers, config.lifecycle)
             for record in records]
    assert disagreements(matcher, compiled(matcher, cond), cond, cases, today) == []


@settings(DIFFERENTIAL)
@given(data=st.data())
def test_a_ruleset_posts_the_part_of_the_full_message_its_rules_read(
        data: st.DataObject, config: Config) -> None:
    catalog = with_event(config.catalog(), EVENT_DATA)
    today = data.draw(days(), label="today")
    cond = data.draw(conditions(catalog, today), label="condition")
    try:
        ruleset = render(cond)
    except ValidationError:
        assume(False)
    for case in data.draw(st.lists(facts(catalog, today, cond), max_size=5), label="facts"):
        full = message(case, today)
        assert ruleset.message(case, today) == {
            key: value for key, value in full.items() if key in ruleset.keys}
