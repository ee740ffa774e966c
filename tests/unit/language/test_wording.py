"""Conditions in words: what approvers and agents read in place of the rule syntax, in both
languages, saying what the condition means for a customer with missing values too."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.formats.values import FieldType
from engine.language.condition import All, AnyOf, Leaf, Not
from engine.language.evaluate import explain
from engine.language.wording import annotate, leaf_words, words

N, S, D, L = FieldType.NUMBER, FieldType.STRING, FieldType.DATE, FieldType.LIST
TODAY = dt.date(2026, 6, 1)
DNC = Leaf("tags", "contains", "do_not_contact", L)
DECLINE = Leaf("stage", "eq", "decline", S)


@pytest.mark.parametrize(("leaf", "en", "zh"), [
    (DECLINE, "in decline stage", "处于衰退阶段"),
    (DNC, "tagged do_not_contact", "带有标签 do_not_contact"),
    (Leaf("tags", "contains_any", ("a", "b"), L), "tagged any of a, b", "带有任一标签 a、b"),
    (Leaf("tier", "in", ("gold", "diamond"), S), "tier is one of gold, diamond",
     "等级为以下之一: 金卡、钻石"),
    (Leaf("arpu", "gte", 150.0, N), "ARPU at least 150", "ARPU 不低于 150"),
    (Leaf("churned_on", "within_last", 90, D), "churn date in the last 90 days",
     "流失日期在最近 90 天内"),
    (Leaf("churn_score", "between", (0.5, 0.9), N), "churn score between 0.5 and 0.9",
     "流失评分在 0.5 到 0.9 之间"),
    (Leaf("attr.region", "eq", "north", S), "region is north", "region 为 north"),
    (Leaf("manager", "exists", True, S), "has account manager", "有客户经理"),
])
def test_a_leaf_in_words(leaf: Leaf, en: str, zh: str) -> None:
    assert (leaf_words(leaf, "en"), leaf_words(leaf, "zh")) == (en, zh)


def test_negation_is_said_without_changing_the_meaning_for_missing_values() -> None:
    assert leaf_words(DNC, "en", negate=True) == "not tagged do_not_contact"
    assert leaf_words(DNC, "zh", negate=True) == "未带有标签 do_not_contact"
    assert leaf_words(DECLINE, "en", negate=True) == "not in decline stage"
    assert leaf_words(Leaf("manager", "exists", True, S), "en", negate=True) == \
        "no account manager"
    # not (arpu > 50) holds without an arpu: never "ARPU at most 50"
    assert leaf_words(Leaf("arpu", "gt", 50.0, N), "en", negate=True) == "not ARPU above 50"


def test_a_whole_tree_on_one_line_with_de_morgan_for_any() -> None:
    cond = AnyOf((DNC, DECLINE))
    assert words(cond, "en") == "(tagged do_not_contact or in decline stage)"
    assert words(Not(cond), "en") == "(not tagged do_not_contact and not in decline stage)"
    assert words(Not(All((DNC, DECLINE))), "zh") == "并非(带有标签 do_not_contact 且 处于衰退阶段)"


def test_an_exclusion_that_did_not_apply_is_a_tick() -> None:
    seen = {"tags": ("vip",), "stage": "decline"}
    node = annotate(DNC, explain(DNC, seen, TODAY).as_dict(), negate=True)
    assert node["held"] is False and node["ok"] is True
    assert node["text"] == {"en": "not tagged do_not_contact", "zh": "未带有标签 do_not_contact"}
    assert node["condition"] == "tags contains do_not_contact"  # the existing fields stay


def test_parts_are_annotated_and_a_not_takes_its_parts_words() -> None:
    cond = All((DECLINE, Not(DNC)))
    node = annotate(cond, explain(cond, {"stage": "growth"}, TODAY).as_dict())
    assert node["text"]["en"] == "all of these" and node["ok"] is False
    stage, negated = node["parts"]
    assert (stage["text"]["en"], stage["ok"]) == ("in decline stage", False)
    assert (negated["text"]["en"], negated["ok"]) == ("not tagged do_not_contact", True)
    assert negated["parts"][0]["text"]["en"] == "not tagged do_not_contact"


def test_an_exclusion_of_any_reads_as_none_of_these() -> None:
    cond = AnyOf((DNC, DECLINE))
    node = annotate(cond, explain(cond, {"stage": "decline"}, TODAY).as_dict(), negate=True)
    assert node["text"] == {"en": "none of these", "zh": "以下均不满足"}
    assert node["ok"] is False
    assert [(p["text"]["en"], p["ok"]) for p in node["parts"]] == [
        ("not tagged do_not_contact", True), ("not in decline stage", False)]


def test_chinese_keeps_a_space_between_latin_names_and_words() -> None:
    recent = Leaf("attr.last_upgrade_on", "within_last", 180, D)
    assert leaf_words(recent, "zh", negate=True) == "并非 last_upgrade_on 在最近 180 天内"
    assert leaf_words(Leaf("arpu", "gt", 50.0, N), "zh") == "ARPU 高于 50"
