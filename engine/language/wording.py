"""Conditions in words, in Chinese and English, for the people who read explanations.

`describe` (engine/language/condition.py) gives the designer's own syntax (`tags contains_any
[...]`); approvers, agents and managers read this rendering instead: "in decline stage", "not tagged
do_not_contact". It is a rendering of the same tree, like the evaluator and the SQL, so it
says what the condition means, missing values included: a negated leaf is said as "not ...",
never turned into the opposite comparison (`not arpu > 50` holds for a customer without arpu,
"arpu at most 50" would not).

`annotate` adds the words to an explanation tree (engine.language.evaluate.Verdict.as_dict) in both
languages, with `ok`: whether the words hold for this customer. An exclusion is said negated
("not tagged do_not_contact"), so a ✓ is always the good outcome for the customer's selection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.language.condition import All, AnyOf, Condition, Leaf, Not
from engine.language.fields import field_label

LANGS = ("en", "zh")

# Values of the closed string fields people know by name; others are shown as written.
VALUE_WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {"churned": "流失", "onboarding": "入网", "decline": "衰退", "growth": "成长",
           "maturity": "成熟", "diamond": "钻石", "gold": "金卡", "silver": "银卡",
           "standard": "普通"},
    "en": {},
}

# Group headings: (as written, negated) for all / any.
GROUPS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "en": {"all": ("all of these", "not all of these"),
           "any": ("any of these", "none of these")},
    "zh": {"all": ("以下全部满足", "以下并非全部满足"),
           "any": ("以下任一满足", "以下均不满足")},
}


def words(cond: Condition, lang: str, negate: bool = False) -> str:
    """The condition (or its negation) on one line, groups in brackets: "not (a or b)" is
    said "(not a and not b)"; "not (a and b)" stays whole."""
    if isinstance(cond, Leaf):
        return leaf_words(cond, lang, negate)
    if isinstance(cond, Not):
        return words(cond.item, lang, not negate)
    spread = negate and isinstance(cond, AnyOf)
    conjunction = isinstance(cond, All) or spread
    if lang == "zh":
        joiner = " 且 " if conjunction else " 或 "
    else:
        joiner = " and " if conjunction else " or "
    inner = "(" + joiner.join(words(item, lang, spread) for item in cond.items) + ")"
    return _not(inner, lang) if negate and not spread else inner


def annotate(cond: Condition, node: dict[str, Any], negate: bool = False) -> dict[str, Any]:
    """Add `text` ({"en", "zh"}) and `ok` to an explanation node and its parts, walking the
    condition beside it (explain builds the node from the same tree, part for part). A
    `not` node takes its child's words negated; its part says the same, so readers may show
    the part in its place."""
    held = bool(node["held"])
    node["ok"] = held != negate
    if isinstance(cond, Leaf):
        node["text"] = {lang: leaf_words(cond, lang, negate) for lang in LANGS}
        return node
    parts = node.get("parts") or []
    if isinstance(cond, Not):
        child = annotate(cond.item, parts[0], not negate)
        node["text"] = dict(child["text"])
        return node
    key = "all" if isinstance(cond, All) else "any"
    if negate and isinstance(cond, AnyOf):  # none of these: each part said negated
        node["text"] = {lang: GROUPS[lang]["any"][1] for lang in LANGS}
        for item, part in zip(cond.items, parts, strict=True):
            annotate(item, part, True)
        return node
    node["text"] = {lang: GROUPS[lang][key][1 if negate else 0] for lang in LANGS}
    for item, part in zip(cond.items, parts, strict=True):
        annotate(item, part, False)
    return node


def leaf_words(leaf: Leaf, lang: str, negate: bool = False) -> str:
    """One leaf in words; negated as exactly "not <leaf>" except where the language has a
    plain opposite that means the same, missing values included (exists, tags, stage)."""
    label = field_label(leaf.field, lang)
    op, value = leaf.op, leaf.value
    if op == "exists":
        present = bool(value) != negate
        if lang == "zh":
            return f"有{label}" if present else f"无{label}"
        return f"has {label}" if present else f"no {label}"
    if leaf.field == "tags" and op.startswith("contains"):
        return _tagged(op, value, lang, negate)
    if leaf.field == "stage" and op == "eq":
        stage = _value(value, lang)
        if lang == "zh":
            return f"{'不' if negate else ''}处于{stage}阶段"
        return f"{'not ' if negate else ''}in {stage} stage"
    said = _compare(label, op, value, lang)
    return _not(said, lang) if negate else said


def _tagged(op: str, value: Any, lang: str, negate: bool) -> str:
    tags = value if isinstance(value, tuple) else (value,)
    listed = (", " if lang == "en" else "、").join(str(t) for t in tags)
    if lang == "zh":
        amount = {"contains": "", "contains_any": "任一", "contains_all": "全部"}[op]
        return f"{'未' if negate else ''}带有{amount}标签 {listed}"
    amount = {"contains": "", "contains_any": "any of ", "contains_all": "all of "}[op]
    return f"{'not ' if negate else ''}tagged {amount}{listed}"


def _not(said: str, lang: str) -> str:
    if lang == "zh":
        return f"并非 {said}" if said[:1].isascii() and said[:1] != "(" else f"并非{said}"
    return f"not {said}"


_EN = {"eq": "is", "ne": "is not", "lt": "below", "lte": "at most", "gt": "above",
       "gte": "at least", "in": "is one of", "not_in": "is none of",
       "contains": "includes", "contains_any": "includes any of",
       "contains_all": "includes all of"}
_ZH = {"eq": "为", "ne": "不为", "lt": "低于", "lte": "不超过", "gt": "高于", "gte": "不低于",
       "in": "为以下之一:", "not_in": "不为以下任何一个:", "contains": "包含",
       "contains_any": "包含任一:", "contains_all": "全部包含:"}


def _compare(label: str, op: str, value: Any, lang: str) -> str:
    zh = lang == "zh"
    if zh and label[-1:].isascii():  # a Latin name before Chinese words: a space between
        label += " "
    if op == "between":
        low, high = (_value(v, lang) for v in value)
        return f"{label}在 {low} 到 {high} 之间" if zh else f"{label} between {low} and {high}"
    if op == "within_last":
        return f"{label}在最近 {value} 天内" if zh else f"{label} in the last {value} days"
    if op == "within_next":
        return f"{label}在未来 {value} 天内" if zh else f"{label} in the next {value} days"
    if op == "older_than":
        return f"{label}早于 {value} 天前" if zh else f"{label} more than {value} days ago"
    shown = _value(value, lang)
    if zh:
        return f"{label}{_ZH[op]} {shown}"
    return f"{label} {_EN[op]} {shown}"


def _value(value: Any, lang: str) -> str:
    if isinstance(value, tuple):
        return (", " if lang == "en" else "、").join(_value(v, lang) for v in value)
    if isinstance(value, bool):
        if lang == "zh":
            return "是" if value else "否"
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return VALUE_WORDS.get(lang, {}).get(str(value), str(value))
