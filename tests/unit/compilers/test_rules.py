"""The durable-rules backend at its boundaries, and the durable-rules behaviour it works around."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from durable.engine import Host, MessageNotHandledException

from engine.compilers.rules import Matcher, message, render
from engine.compilers.rules_limits import MAX_GROUPS, MAX_KEYS, MAX_PENDING, fnv1a
from engine.compilers.rules_message import item_key, number_key, string_key
from engine.errors import Conflict, ValidationError
from engine.formats.values import FieldType
from engine.language.condition import All, AnyOf, Condition, Leaf, Not
from engine.language.evaluate import holds

N, S, D, B, L = (FieldType.NUMBER, FieldType.STRING, FieldType.DATE, FieldType.BOOL,
                 FieldType.LIST)
TODAY = dt.date(2024, 3, 1)   # the day after a 29 February
_names = itertools.count()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    """One host for the module: every Host keeps timer threads for the life of the process."""
    return Matcher()


def compiled(matcher: Matcher, cond: Condition) -> str:
    name = f"t{next(_names)}@1"
    matcher.add(name, cond)
    return name


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


BOUNDARIES: list[tuple[Leaf, Any, bool]] = [
    (Leaf("arpu", "eq", 50.0, N), 50.0, True),
    (Leaf("arpu", "eq", 50.0, N), 50.00000000000001, False),
    (Leaf("arpu", "eq", 0.0, N), -0.0, True),
    (Leaf("arpu", "ne", 50.0, N), 50.0, False),
    (Leaf("arpu", "ne", 50.0, N), 49.0, True),
    (Leaf("arpu", "lt", 50.0, N), 50.0, False),
    (Leaf("arpu", "lt", 50.0, N), 49.99999999999999, True),
    (Leaf("arpu", "lte", 50.0, N), 50.0, True),
    (Leaf("arpu", "gt", 50.0, N), 50.0, False),
    (Leaf("arpu", "gte", 50.0, N), 50.0, True),
    (Leaf("arpu", "gt", 1e16, N), 1.0000000000000002e16, True),
    (Leaf("arpu", "lt", 1e-05, N), 5e-324, True),
    (Leaf("arpu", "lt", -1e-05, N), -1e-300, False),
    (Leaf("arpu", "gt", -1e300, N), -1e301, False),
    (Leaf("arpu", "in", (1.0, 2.0), N), 2.0, True),
    (Leaf("arpu", "in", (1.0, 2.0), N), 3.0, False),
    (Leaf("arpu", "not_in", (1.0, 2.0), N), 2.0, False),
    (Leaf("arpu", "not_in", (1.0, 2.0), N), 3.0, True),
    (Leaf("arpu", "between", (1.0, 2.0), N), 1.0, True),
    (Leaf("arpu", "between", (1.0, 2.0), N), 2.0, True),
    (Leaf("arpu", "between", (1.0, 2.0), N), 2.0000000000000004, False),
    (Leaf("name", "eq", 'é"\\x\n', S), 'é"\\x\n', True),
    (Leaf("name", "eq", "é", S), "e\u0301", False),
    (Leaf("name", "lt", "ab c", S), "ab", True),
    (Leaf("name", "gt", "ab!", S), "ab", False),
    (Leaf("name", "gt", "a#", S), 'a"', False),
    (Leaf("name", "gt", "z", S), "é", True),
    (Leaf("name", "gt", "\uffff", S), "😀", True),
    (Leaf("name", "lte", "", S), "", True),
    (Leaf("name", "between", ("a", "b"), S), "b\x00", False),
    (Leaf("name", "in", ("x", "中文"), S), "中文", True),
    (Leaf("name", "not_in", ("x", "中文"), S), "中", True),
    (Leaf("id", "eq", "c1", S), "c1", True),
    (Leaf("joined_on", "eq", days(-1), D), days(-1), True),
    (Leaf("joined_on", "lt", days(-1), D), days(-1), False),
    (Leaf("joined_on", "between", (days(-2), days(-1)), D), days(0), False),
    (Leaf("churned_on", "within_last", 30, D), days(-30), True),
    (Leaf("churned_on", "within_last", 30, D), days(-31), False),
    (Leaf("churned_on", "within_last", 30, D), days(0), True),
    (Leaf("churned_on", "within_last", 30, D), days(1), False),
    (Leaf("churned_on", "within_last", 1, D), dt.date(2024, 2, 29), True),
    (Leaf("contract_end", "within_next", 30, D), days(30), True),
    (Leaf("contract_end", "within_next", 30, D), days(31), False),
    (Leaf("contract_end", "within_next", 30, D), days(-1), False),
    (Leaf("contract_end", "within_next", 999_999_999, D), dt.date.max, True),
    (Leaf("last_active_on", "older_than", 30, D), days(-31), True),
    (Leaf("last_active_on", "older_than", 30, D), days(-30), False),
    (Leaf("attr.broadband", "eq", True, B), True, True),
    (Leaf("attr.broadband", "eq", True, B), False, False),
    (Leaf("attr.broadband", "ne", True, B), False, True),
    (Leaf("tags", "contains", "vip", L), ("a", "vip"), True),
    (Leaf("tags", "contains", "vip", L), ("VIP",), False),
    (Leaf("tags", "contains_any", ("a", "b"), L), ("b", "c"), True),
    (Leaf("tags", "contains_any", ("a", "b"), L), ("c",), False),
    (Leaf("tags", "contains_all", ("a", "é"), L), ("a", "é"), True),
    (Leaf("tags", "contains_all", ("a", "é"), L), ("a",), False),
    (Leaf("tags", "exists", True, L), (), False),
    (Leaf("tags", "exists", False, L), (), True),
    (Leaf("arpu", "exists", True, N), 0.0, True),
    (Leaf("arpu", "exists", False, N), 0.0, False),
]


@pytest.mark.parametrize(("leaf", "value", "expected"), BOUNDARIES)
def test_each_operator_at_its_boundary_and_negated(matcher: Matcher, leaf: Leaf, value: Any,
                                                   expected: bool) -> None:
    facts = {leaf.field: value}
    assert holds(leaf, facts, TODAY) is expected
    assert matcher.matches(compiled(matcher, leaf), facts, TODAY) is expected
    assert matcher.matches(compiled(matcher, Not(leaf)), facts, TODAY) is not expected


@pytest.mark.parametrize("leaf", sorted({leaf for leaf, _, _ in BOUNDARIES}, key=repr))
def test_a_missing_value_fails_every_leaf_but_exists_false(matcher: Matcher, leaf: Leaf) -> None:
    expected = leaf.op == "exists" and leaf.value is False
    for facts in ({}, {leaf.field: None}):
        assert matcher.matches(compiled(matcher, leaf), facts, TODAY) is expected
        assert matcher.matches(compiled(matcher, Not(leaf)), facts, TODAY) is not expected


def test_negation_is_pushed_to_the_leaves_with_missing_as_true() -> None:
    rules = render(All((Leaf("plan", "exists", True, S),
                        Not(Leaf("arpu", "gt", 50.0, N))))).rules
    assert rules == {"r0": {"all": [{"m": {"$and": [
        {"$ex": {"#": 1}}, {"$ex": {"plan": 1}},
        {"$or": [{"$nex": {"arpu": 1}}, {"$lte": {"arpu": number_key(50.0)}}]}]}}],
        "run": "consume"}}


def test_top_level_alternatives_become_rules_that_share_the_message() -> None:
    ruleset = render(AnyOf((Leaf("arpu", "gt", 1.0, N), Not(Leaf("tags", "contains", "x", L)))))
    assert len(ruleset.rules) == 2
    assert ruleset.keys == {"#", "arpu", item_key("tags", "x")}
    facts = {"arpu": 2.0, "tags": ("x", "y"), "name": "n"}
    assert ruleset.message(facts, TODAY) == {"#": 1, "arpu": number_key(2.0),
                                             item_key("tags", "x"): 1}


def test_message_encoding() -> None:
    facts = {"id": "c1", "arpu": 1.5, "name": "é", "attr.broadband": False, "tags": ("vip",),
             "opt_out": (), "joined_on": days(-3), "balance": None}
    assert message(facts, TODAY) == {
        "#": 1, "id#": string_key("c1"), "arpu": number_key(1.5), "name": "c3a9",
        "attr.broadband": False, "tags": 1, "tags#766970": 1,
        "joined_on": days(-3).toordinal(), "joined_on#age": 3}


def test_number_and_string_keys_order_like_their_values() -> None:
    numbers = [-1e308, -1.0, -5e-324, 0.0, 5e-324, 1e-05, 1.0, 1e16, 1e308, float("inf")]
    assert [number_key(x) for x in numbers] == sorted(number_key(x) for x in numbers)
    texts = ["", "\x00", " ", "a", "ab", "ab c", "z", "é", "\uffff", "😀", "\ud800"]
    assert sorted(texts) == sorted(texts, key=string_key)


def test_values_durable_rules_cannot_compare_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        message({"arpu": float("nan")}, TODAY)
    with pytest.raises(ValueError, match="32767"):
        message({"name": "x" * 32768}, TODAY)
    with pytest.raises(TypeError, match="name"):
        message({"name": object()}, TODAY)


def nested(groups: int) -> Condition:
    """all / any alternating `groups` deep, all on top (it merges with the marker test)."""
    cond: Condition = Leaf("arpu", "gt", 1.0, N)
    for i in range(groups):
        group = AnyOf if (groups - i) % 2 == 0 else All
        cond = group((cond, Leaf("balance", "exists", False, N)))
    return cond


def test_limits_are_checked_when_compiling(matcher: Matcher) -> None:
    tags = [f"t{i}" for i in range(MAX_PENDING + 1)]
    widest = Leaf("tags", "contains_any", tuple(tags[:MAX_PENDING]), L)
    assert matcher.matches(compiled(matcher, widest), {"tags": tuple(tags)}, TODAY)
    with pytest.raises(ValidationError, match="at most 64"):
        render(Leaf("tags", "contains_any", tuple(tags), L))
    many = tuple(f"t{i}" for i in range(MAX_KEYS))
    with pytest.raises(ValidationError, match="at most 252"):
        render(Leaf("tags", "contains_all", many, L))
    assert matcher.matches(compiled(matcher, nested(MAX_GROUPS)), {"arpu": 2.0}, TODAY)
    with pytest.raises(ValidationError, match="at most 15"):
        render(nested(MAX_GROUPS + 1))
    assert fnv1a(item_key("tags", "t25709")) == fnv1a(item_key("tags", "t242880"))
    with pytest.raises(ValidationError, match="same 32-bit hash"):
        render(Leaf("tags", "contains_any", ("t25709", "t242880"), L))


def test_the_pending_bound_is_exact_for_alternatives_in_sequence(matcher: Matcher) -> None:
    def both(tags: int, channels: int) -> Condition:
        return All((Leaf("tags", "contains_any", tuple(f"t{i}" for i in range(tags)), L),
                    Leaf("opt_out", "contains_any", tuple(f"c{i}" for i in range(channels)), L)))

    worst = {"tags": tuple(f"t{i}" for i in range(32)),
             "opt_out": tuple(f"c{i}" for i in range(33))}
    assert matcher.matches(compiled(matcher, both(32, 33)), worst, TODAY)
    with pytest.raises(ValidationError, match="up to 65 tests"):
        render(both(33, 33))


def test_two_rulesets_one_matcher(matcher: Matcher) -> None:
    rich, poor = compiled(matcher, Leaf("arpu", "gte", 100.0, N)), compiled(
        matcher, Leaf("arpu", "lt", 100.0, N))
    assert (matcher.matches(rich, {"arpu": 150.0}, TODAY),
            matcher.matches(poor, {"arpu": 150.0}, TODAY)) == (True, False)
    assert (matcher.matches(rich, {"arpu": 50.0}, TODAY),
            matcher.matches(poor, {"arpu": 50.0}, TODAY)) == (False, True)
    assert rich in matcher and "nope@1" not in matcher
    with pytest.raises(KeyError):
        matcher.matches("nope@1", {}, TODAY)


def test_a_name_is_compiled_once(matcher: Matcher) -> None:
    cond = Leaf("plan", "eq", "basic", S)
    name = compiled(matcher, cond)
    matcher.add(name, Leaf("plan", "eq", "basic", S))
    with pytest.raises(Conflict, match="already compiled"):
        matcher.add(name, Leaf("plan", "eq", "premium", S))
    assert matcher.matches(name, {"plan": "basic"}, TODAY)


def test_concurrent_callers_each_get_their_own_answer(matcher: Matcher) -> None:
    cond = All((Leaf("arpu", "gt", 50.0, N), Not(Leaf("tags", "contains", "vip", L))))
    name = compiled(matcher, cond)
    wrong: list[tuple[dict[str, Any], bool]] = []

    def caller(seed: int) -> None:
        for i in range(400):
            facts = {"arpu": float((seed * 7 + i) % 100), "tags": ("vip",) if i % 3 else ()}
            if matcher.matches(name, facts, TODAY) is not holds(cond, facts, TODAY):
                wrong.append((facts, holds(cond, facts, TODAY)))

    threads = [threading.Thread(target=caller, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert matcher.backlog(name) == 0


def test_equal_messages_in_a_row_are_all_answered(matcher: Matcher) -> None:
    name = compiled(matcher, Leaf("arpu", "exists", False, N))
    assert all(matcher.matches(name, {}, TODAY) for _ in range(1000))
    assert matcher.backlog(name) == 0


class _Host(Host):
    def get_action(self, action_name: str) -> Callable[[Any], None]:
        def fail(_: Any) -> None:
            raise RuntimeError("action failed")
        return fail if action_name == "fail" else (lambda _: None)


def _posts(host: Host, name: str, expr: dict[str, Any], event: dict[str, Any],
           action: str = "ok") -> Any:
    host.set_rulesets({name: {"r": {"all": [{"m": expr}], "run": action}}})
    try:
        return host.post(name, event)
    except MessageNotHandledException:
        return None


def test_durable_rules_behaviour_this_backend_works_around() -> None:
    """Pinned so an upgrade that changes it is noticed (durable-rules 2.0.28)."""
    host = _Host()
    assert _posts(host, "s1", {"$gt": {"s": "ab!"}}, {"s": "ab"})      # "ab" > "ab!"
    assert _posts(host, "s2", {"$lt": {"s": "ab c"}}, {"s": "ab"}) is None
    with pytest.raises(Exception, match="error code: 204"):
        _posts(host, "n1", {"$lt": {"x": 1.0}}, {"x": 1e-05})
    wide = {"$or": [{"$ex": {f"k{i}": 1}} for i in range(MAX_PENDING + 1)]}
    with pytest.raises(Exception, match="error code: 303"):
        _posts(host, "w1", wide, {f"k{i}": 1 for i in range(MAX_PENDING + 1)})
    twins = [item_key("tags", "t25709"), item_key("tags", "t242880")]
    assert _posts(host, "h1", {"$ex": {twins[0]: 1}}, {twins[1]: 1})
    state = _posts(host, "a1", {"$ex": {"a": 1}}, {"a": 1}, action="fail")
    assert "action failed" in state["exception"]
