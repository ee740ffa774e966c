"""Step variants (champion/challenger): which variant of a step a customer gets, and the YAML
checks of `variants:`.

A step may carry `variants: [{name, weight, channel?, template?, offers?}]`: the treatment is
split between them by weight, each variant overriding the step's channel, template or offers.
Assignment is deterministic like the holdout (engine/playbooks/selection.py) but with its own salt,
so a customer's variant is independent of whether they are in control and the same on every run
and in every process: `sha256("tend-variant:<playbook>:<step>:<customer id>")`, its first 8
bytes as an unsigned integer, against the cumulative weights scaled to 2**64. A playbook has at
most one step with variants: a ticket then compares one set of alternatives, and each entry
records its variant (one column on `entries`), which is what the evaluation splits on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol, TypeVar

from marshmallow import validate

from engine.errors import Problem
from engine.formats.blocks import Format, listing
from engine.formats.schemas import IDENTIFIER, Number, Text
from engine.formats.source import PathKey, Source

VARIANT_SALT = "tend-variant"
SPACE = 2**64


@dataclass(frozen=True)
class Variant:
    """One alternative of a step; None keeps the step's own value."""

    name: str
    weight: float
    channel: str | None = None
    template: str | None = None
    offers: tuple[str, ...] | None = None


class _HasVariants(Protocol):
    """engine.playbooks.playbook.Step as this module reads it (the playbook module imports this
    one)."""

    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def offers(self) -> tuple[str, ...]: ...
    @property
    def variants(self) -> tuple[Variant, ...]: ...


S = TypeVar("S", bound=_HasVariants)


def bucket(playbook_id: str, step_id: str, customer_id: str) -> int:
    """The customer's place in [0, 2**64) for this step's split."""
    key = f"{VARIANT_SALT}:{playbook_id}:{step_id}:{customer_id}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def thresholds(weights: Sequence[float]) -> list[int]:
    """Upper bounds of each variant's share of [0, 2**64), the last being 2**64: exact
    (decimal weights as written, as fractions), so 1:1:1 splits the same way everywhere."""
    exact = [Fraction(Decimal(str(w))) for w in weights]
    total = sum(exact, Fraction(0))
    bounds, running = [], Fraction(0)
    for weight in exact:
        running += weight
        bounds.append(math.floor(running / total * SPACE))
    bounds[-1] = SPACE
    return bounds


def assign(playbook_id: str, step_id: str, customer_id: str,
           variants: Sequence[Variant]) -> Variant:
    """The variant a customer gets: the first whose cumulative share passes their bucket."""
    if not variants:
        raise ValueError("a step without variants assigns none")
    place = bucket(playbook_id, step_id, customer_id)
    for variant, bound in zip(variants, thresholds([v.weight for v in variants]), strict=True):
        if place < bound:
            return variant
    return variants[-1]  # unreachable: the last bound is 2**64


def variant_step(steps: Iterable[S]) -> S | None:
    """The playbook's one step with variants, if any."""
    return next((step for step in steps if step.variants), None)


def resolved(playbook_id: str, step: S, customer_id: str) -> tuple[S, str | None]:
    """The step as this customer gets it (the variant's overrides applied) and the variant's
    name; a step without variants is returned as it is, with None."""
    if not step.variants:
        return step, None
    chosen = assign(playbook_id, step.id, customer_id, step.variants)
    return applied(step, chosen), chosen.name


def applied(step: S, variant: Variant) -> S:
    """The step with one variant's overrides and no variants: what promotion makes of it."""
    changes: dict[str, Any] = {"variants": ()}
    if variant.channel is not None:
        changes["channel"] = variant.channel
    if variant.template is not None:
        changes["template"] = variant.template
    if variant.offers is not None:
        changes["offers"] = variant.offers
    return dataclasses.replace(step, **changes)  # type: ignore[type-var]


def offers_named(step: S) -> tuple[str, ...]:
    """Every offer the step may give, its variants' included: what a control customer is
    never offered and what a version registers."""
    named = [*step.offers, *(o for v in step.variants for o in (v.offers or ()))]
    return tuple(dict.fromkeys(named))


def variant_of(playbook_id: str, steps: Iterable[S], customer_id: str) -> str | None:
    """The name of the variant a treatment customer gets, None when no step has variants."""
    step = variant_step(steps)
    if step is None:
        return None
    return assign(playbook_id, step.id, customer_id, step.variants).name


class VariantSchema(Format):
    name = Text(required=True, validate=IDENTIFIER)
    weight = Number(required=True, validate=validate.Range(
        min=0, min_inclusive=False, error="expected a positive number, got {input}"))
    channel = Text()
    template = Text(validate=validate.Length(min=1, error="expected a non-empty string"))
    offers = listing(Text(validate=IDENTIFIER))


def build(raw: Iterable[Mapping[str, Any]]) -> tuple[Variant, ...]:
    """Variants from the loaded (already checked) YAML."""
    return tuple(Variant(
        name=item["name"], weight=float(item["weight"]), channel=item.get("channel"),
        template=item.get("template"),
        offers=tuple(dict.fromkeys(item["offers"])) if "offers" in item else None)
        for item in raw)


def problems(source: Source, doc: Mapping[str, Any], channels: Collection[str],
             offers: Collection[str] | None) -> list[Problem]:
    """What structure alone cannot judge: unique names, one step with variants, known channels
    and offers in the overrides, and at least two variants to compare."""
    found: list[Problem] = []
    steps = doc.get("steps")
    first: int | None = None
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        items = step.get("variants") if isinstance(step, dict) else None
        if not isinstance(items, list):
            continue
        if first is not None:
            line = source.at(["steps", first, "variants"], "").line
            found.append(source.at(["steps", i, "variants"], (
                f"only one step may carry variants (step {first} at line {line} does): "
                f"a ticket compares one set of alternatives")))
        first = i if first is None else first
        if len(items) < 2:
            found.append(source.at(["steps", i, "variants"],
                                   "expected at least 2 variants to compare"))
        found += _item_problems(source, i, items, channels, offers)
    return found


def _item_problems(source: Source, i: int, items: list[Any], channels: Collection[str],
                   offers: Collection[str] | None) -> list[Problem]:
    found: list[Problem] = []
    seen: dict[str, int] = {}
    for j, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        here: list[PathKey] = ["steps", i, "variants", j]
        name = item.get("name")
        if isinstance(name, str) and name in seen:
            line = source.at([*here[:-1], seen[name], "name"], "").line
            found.append(source.at([*here, "name"], (
                f"duplicate variant name {name!r} (first at line {line}): expected names "
                f"unique within the step")))
        elif isinstance(name, str):
            seen[name] = j
        channel = item.get("channel")
        if isinstance(channel, str) and channel not in channels:
            found.append(source.at([*here, "channel"], (
                f"unknown channel {channel!r} (expected one of the channels in the config: "
                f"{', '.join(channels) or 'none declared'})")))
        names = item.get("offers")
        for k, offer in enumerate(names if isinstance(names, list) else []):
            if offers is not None and isinstance(offer, str) and offer not in offers:
                found.append(source.at([*here, "offers", k], (
                    f"unknown offer {offer!r} (expected one of the offers in rules/offers/: "
                    f"{', '.join(sorted(offers)) or 'none loaded'})")))
    return found
