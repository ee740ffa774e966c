"""The parser is where designers meet the language: every mistake must name its place."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.formats.source import load_yaml
from engine.formats.values import FieldType
from engine.language.condition import All, AnyOf, Leaf, Not, Parser, describe
from engine.language.fields import customer_catalog, with_event
from engine.limits import MAX_CONDITION_DEPTH, MAX_LIST_VALUES

CATALOG = with_event(
    customer_catalog({"region": FieldType.STRING, "vip": FieldType.BOOL}, ("gold", "standard"),
                     ("onboarding", "maturity")),
    {"days": FieldType.NUMBER},
)


def parse(text: str):  # type: ignore[no-untyped-def]
    source = load_yaml(text, "p.yaml")
    parser = Parser(source, CATALOG)
    return parser.parse(source.root, []), [str(p) for p in parser.problems]


def test_nested_condition_becomes_a_typed_tree() -> None:
    cond, problems = parse(
        "all:\n  - churned_on: {within_last: 90d}\n  - not: {tier: {in: [gold]}}\n"
        "  - any: [{arpu: {gt: 50, lte: 80}}, {tags: {contains: vip}}]\n")
    assert problems == []
    assert cond == All((
        Leaf("churned_on", "within_last", 90, FieldType.DATE),
        Not(Leaf("tier", "in", ("gold",), FieldType.STRING)),
        AnyOf((All((Leaf("arpu", "gt", 50.0, FieldType.NUMBER),
                    Leaf("arpu", "lte", 80.0, FieldType.NUMBER))),
               Leaf("tags", "contains", "vip", FieldType.LIST))),
    ))


def test_weeks_and_dates_are_normalised() -> None:
    cond, _ = parse("contract_end: {within_next: 2w, gte: 2026-01-31}")
    assert cond == All((Leaf("contract_end", "within_next", 14, FieldType.DATE),
                        Leaf("contract_end", "gte", dt.date(2026, 1, 31), FieldType.DATE)))


@pytest.mark.parametrize(("text", "expected"), [
    ("arpu: {gt: '50'}", "p.yaml:1:8: arpu.gt: expected a number, got '50'"),
    ("arpux: {gt: 5}", "p.yaml:1:1: unknown field 'arpux'"),
    ("arpu: {greater: 5}", "p.yaml:1:8: unknown operator 'greater' for number field 'arpu'"),
    ("tags: {eq: vip}", "p.yaml:1:8: operator not allowed 'eq' for list field 'tags'"),
    ("tier: {eq: platinum}", "p.yaml:1:8: tier.eq: unknown tier 'platinum'"),
    ("churned_on: {within_last: 90}", "p.yaml:1:14: churned_on.within_last: expected a duration"),
    ("churned_on: {within_last: 3h}", "p.yaml:1:14: churned_on.within_last: expected a duration"),
    ("churned_on: {eq: 2026-02-30}", "p.yaml:1:14: churned_on.eq: expected a date YYYY-MM-DD"),
    ("arpu: {between: [9, 1]}", "p.yaml:1:8: arpu.between: low 9 is greater than high 1"),
    ("arpu: {in: []}", "p.yaml:1:8: arpu.in: expected a non-empty list"),
    ("all: []", "p.yaml:1:1: 'all' needs a non-empty list"),
    ("{arpu: {gt: 1}, plan: {eq: x}}", "p.yaml:1:1: a condition is a mapping with exactly one key"),
    ("attr.vip: {eq: 1}", "p.yaml:1:12: attr.vip.eq: expected true or false"),
    ("attr.colour: {eq: red}", "p.yaml:1:1: unknown field 'attr.colour'"),
    ("arpu: {exists: yes}", "p.yaml:1:8: arpu.exists: expected true or false"),
])
def test_errors_name_the_place_and_what_was_expected(text: str, expected: str) -> None:
    cond, problems = parse(text)
    assert cond is None
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_not_just_the_first() -> None:
    _, problems = parse("any:\n  - arpu: {gt: x}\n  - plan: {eq: 3}\n  - nope: {eq: 1}\n")
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4"]


def test_event_fields_are_typed() -> None:
    cond, problems = parse("event.data.days: {gte: 3}")
    assert problems == [] and cond == Leaf("event.data.days", "gte", 3.0, FieldType.NUMBER)


def test_describe_reads_like_the_yaml() -> None:
    cond, _ = parse("all: [{tier: {in: [gold]}}, {not: {churned_on: {within_last: 90d}}}]")
    assert cond is not None
    assert describe(cond) == "(tier in [gold] and not (churned_on within_last 90d))"


def test_conditions_nested_too_deep_are_refused_at_the_level_that_crosses() -> None:
    """Every backend renders conditions recursively; 150 levels once ended in a 500."""

    def nots(depth: int) -> str:
        return "".join("  " * i + "not:\n" for i in range(depth)) + "  " * depth + "arpu: {gt: 1}\n"

    depth = MAX_CONDITION_DEPTH + 1
    cond, problems = parse(nots(depth))
    assert cond is None
    assert problems == [f"p.yaml:{depth}:{2 * depth - 1}: conditions nested deeper than "
                        f"{MAX_CONDITION_DEPTH} levels of all, any and not"]
    ok, fine = parse(nots(MAX_CONDITION_DEPTH))
    assert fine == [] and ok is not None


def test_a_condition_list_is_bounded_where_it_is_written() -> None:
    values = ", ".join(str(i) for i in range(MAX_LIST_VALUES + 1))
    cond, problems = parse(f"all:\n  - arpu: {{in: [{values}]}}\n")
    assert cond is None
    assert problems == [f"p.yaml:2:12: arpu.in: expected at most {MAX_LIST_VALUES} values, "
                        f"got {MAX_LIST_VALUES + 1}"]
