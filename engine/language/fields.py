"""The fields a condition may name, with their types: one catalog for every backend.

A condition is checked against a catalog when it is parsed, so a typo or a literal of the wrong
type fails validation instead of silently selecting nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.formats.values import FieldType

N, S, D, L = FieldType.NUMBER, FieldType.STRING, FieldType.DATE, FieldType.LIST

CUSTOMER_FIELDS: Mapping[str, FieldType] = {
    "id": S, "name": S, "phone": S, "email": S, "birthday": D, "joined_on": D, "plan": S,
    "arpu": N, "balance": N, "usage_change_pct": N, "churn_score": N, "contract_end": D,
    "last_active_on": D, "churned_on": D, "manager": S, "tags": L, "opt_out": L,
}
COMPUTED_FIELDS: Mapping[str, FieldType] = {
    "tenure_days": N, "tier": S, "stage": S, "days_to_birthday": N,
}
EVENT_FIELDS: Mapping[str, FieldType] = {
    "event.id": S, "event.type": S, "event.customer_id": S, "event.at": D,
}


@dataclass(frozen=True)
class Catalog:
    """Field name → type, plus the closed sets of values some string fields take (tier, stage)."""

    types: Mapping[str, FieldType]
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def type_of(self, name: str) -> FieldType | None:
        return self.types.get(name)

    def known(self) -> list[str]:
        return sorted(self.types)


def customer_catalog(attributes: Mapping[str, FieldType], tiers: tuple[str, ...],
                     stages: tuple[str, ...] | None) -> Catalog:
    """Fields of a customer; `stages=None` leaves out `stage`, which lifecycle conditions define."""
    types: dict[str, FieldType] = {**CUSTOMER_FIELDS, **COMPUTED_FIELDS}
    types.update({f"attr.{name}": ftype for name, ftype in attributes.items()})
    choices = {"tier": tiers}
    if stages is None:
        del types["stage"]
    else:
        choices["stage"] = stages
    return Catalog(types, choices)


def with_event(catalog: Catalog, data_fields: Mapping[str, FieldType]) -> Catalog:
    """The catalog of an event-triggered playbook: customer fields plus the event's own."""
    types = {**catalog.types, **EVENT_FIELDS}
    types.update({f"event.data.{key}": ftype for key, ftype in data_fields.items()})
    return Catalog(types, catalog.choices)


# What people call the fields (engine/language/wording.py says conditions in words with these).
LABELS: Mapping[str, tuple[str, str]] = {  # field: (en, zh)
    "id": ("id", "编号"), "name": ("name", "姓名"), "phone": ("phone", "电话"),
    "email": ("email", "邮箱"), "birthday": ("birthday", "生日"),
    "joined_on": ("joining date", "入网日期"), "plan": ("plan", "套餐"),
    "arpu": ("ARPU", "ARPU"), "balance": ("balance", "余额"),
    "usage_change_pct": ("usage change (%)", "用量变化(%)"),
    "churn_score": ("churn score", "流失评分"), "contract_end": ("contract end", "合约到期日"),
    "last_active_on": ("last active", "最近活跃日"), "churned_on": ("churn date", "流失日期"),
    "manager": ("account manager", "客户经理"), "tags": ("tags", "标签"),
    "opt_out": ("opt-outs", "退订"), "tenure_days": ("tenure (days)", "在网天数"),
    "tier": ("tier", "等级"), "stage": ("stage", "生命周期阶段"),
    "days_to_birthday": ("days to birthday", "距生日天数"),
    "event.id": ("event id", "事件编号"), "event.type": ("event type", "事件类型"),
    "event.customer_id": ("event customer", "事件客户"), "event.at": ("event time", "事件时间"),
}


# The shipped config's event data keys (config.yaml events:) in Chinese; in English a key
# reads as itself ("days at least 7"). A key an operator adds keeps its own name in both.
EVENT_DATA_ZH: Mapping[str, str] = {
    "days": "天数", "amount": "金额", "minutes": "通话分钟数", "balance": "余额",
    "other_operator": "呼转至其他运营商", "reason": "原因", "months": "月数",
    "number": "号码", "plan": "套餐", "status": "状态",
}


def field_label(name: str, lang: str) -> str:
    """A field's name in `lang` ("en" or "zh"); declared attributes and event data keep
    their own names, without the `attr.` / `event.data.` prefix (the shipped event data
    keys have Chinese names)."""
    known = LABELS.get(name)
    if known is not None:
        return known[1] if lang == "zh" else known[0]
    key = name.removeprefix("event.data.")
    if lang == "zh" and key != name and key in EVENT_DATA_ZH:
        return EVENT_DATA_ZH[key]
    for prefix in ("attr.", "event.data."):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name
