"""Assignment (划配) decisions and the config section: rules in order, tiers and a region,
preference within the tolerance, balance; every mistake in the section placed."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config_loader import parse_config
from engine.errors import ValidationError
from engine.tasks.assignment import AssignmentRules, Candidate, Rule, decide, spread

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")
EAST = Rule("vip_east", ("m1", "m2"), frozenset({"gold", "diamond"}), "region",
            frozenset({"shanghai"}))
VIP = Rule("vip", ("m3", "m4"), frozenset({"gold", "diamond"}))
ANY = Rule("rest", ("m5",))


def people(n: int, tier: str = "gold", region: str | None = None) -> list[Candidate]:
    attrs = {} if region is None else {"region": region}
    return [Candidate(f"{tier}{region}{i:03d}", tier, attrs) for i in range(n)]


def test_the_first_rule_covering_the_customer_wins() -> None:
    rules = AssignmentRules((EAST, VIP))
    made = decide(rules, [Candidate("a", "gold", {"region": "shanghai"}),
                          Candidate("b", "diamond", {"region": "sichuan"}),
                          Candidate("c", "gold", {}), Candidate("d", "silver", {}),
                          Candidate("e", None, {"region": "shanghai"})], {})
    assert [(a.customer, a.manager, a.rule) for a in made] == [
        ("a", "m1", "vip_east"), ("b", "m3", "vip"), ("c", "m4", "vip")]  # d, e: no rule


def test_least_loaded_within_the_tolerance_keeps_every_rule_balanced() -> None:
    load = {"m3": 7, "m4": 0}
    for tolerance in (0, 1, 2, 5):
        rules = AssignmentRules((VIP,), tolerance)
        made = decide(rules, people(40), load)
        after = dict(load)
        for one in made:
            after[one.manager] += 1
        assert len(made) == 40
        assert spread(after, VIP.managers) <= max(tolerance, 1), tolerance


def test_the_preferred_manager_fills_up_to_the_tolerance_first() -> None:
    rules = AssignmentRules((Rule("r", ("first", "second")),), tolerance=2)
    made = decide(rules, people(6, "silver"), {})
    assert [a.manager for a in made] == ["first", "first", "second", "first", "second",
                                         "first"]


def test_the_same_customers_get_the_same_managers_in_any_order() -> None:
    rules = AssignmentRules((EAST, VIP, ANY), 1)
    crowd = people(5, "gold", "shanghai") + people(5, "silver") + people(5, "diamond")
    assert decide(rules, crowd, {}) == decide(rules, list(reversed(crowd)), {})


def with_section(section: str) -> str:
    start = SHIPPED.index("assignment:")
    end = SHIPPED.index("roles: [campaign_lead")
    return SHIPPED[:start] + section + SHIPPED[end:]


def test_the_section_loads_into_rules() -> None:
    config = parse_config(with_section(
        "assignment:\n  tolerance: 3\n  rules:\n"
        "    - {rule: east, tiers: [gold], where: {region: [shanghai, jiangsu]},"
        " managers: [m1, m2]}\n"
        "    - {rule: rest, managers: [m3]}\n\n"), "config.yaml")
    assert config.assignment == AssignmentRules((
        Rule("east", ("m1", "m2"), frozenset({"gold"}), "region",
             frozenset({"shanghai", "jiangsu"})), Rule("rest", ("m3",))), 3)
    assert parse_config(SHIPPED, "config.yaml").assignment.rules == ()


@pytest.mark.parametrize(("section", "expected"), [
    ("assignment:\n  tolerance: -1\n", "tolerance: expected 0 or more"),
    ("assignment:\n  rules:\n    - {rule: x, managers: []}\n",
     "managers: expected at least one manager"),
    ("assignment:\n  rules:\n    - {managers: [m1]}\n", "rule: "),
    ("assignment:\n  rules:\n    - {rule: x, managers: [m1], tier: [gold]}\n", "tier: "),
    ("assignment:\n  rules:\n    - {rule: x, managers: [m1], tiers: [platinum]}\n",
     "unknown tier 'platinum' (expected one of: diamond, gold, silver, standard)"),
    ("assignment:\n  rules:\n    - {rule: x, managers: [m1], where: {devices: [\"2\"]}}\n",
     "'devices' is not a string attribute declared under attributes:"),
    ("assignment:\n  rules:\n    - {rule: x, managers: [m1, m1]}\n",
     "manager 'm1' listed twice"),
    ("assignment:\n  rules:\n    - {rule: x, managers: [m1]}\n    - {rule: x, managers: [m2]}\n",
     "duplicate rule 'x'"),
])
def test_a_bad_section_names_the_place_and_the_field(section: str, expected: str) -> None:
    text = with_section(section + "\n")
    line = text[:text.index("assignment:")].count("\n") + 1
    with pytest.raises(ValidationError) as caught:
        parse_config(text, "config.yaml")
    problems = caught.value.problems
    assert any(expected in p.message and p.line >= line for p in problems), \
        [(p.line, p.column, p.message) for p in problems]
