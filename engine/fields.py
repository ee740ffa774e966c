"""The fields a condition may name, with their types: one catalog for every backend.

A condition is checked against a catalog when it is parsed, so a typo or a literal of the wrong
type fails validation instead of silently selecting nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.values import FieldType

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
