"""Step variants: a valid `variants:` loads into the model, assignment is a pure function of
playbook, step and customer, and the split follows the weights."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import Config
from engine.measurement.promotion import promoted_text, reason_of
from engine.playbooks.explain import explain_playbook, render_text
from engine.playbooks.library import load_library
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.selection import in_control
from engine.playbooks.variant import (
    SPACE,
    Variant,
    applied,
    assign,
    resolved,
    thresholds,
    variant_of,
)

PLAYBOOK = """\
playbook: split
title: Split
version: 1
trigger: {schedule: "0 9 * * *"}
audience: {tier: {in: [gold, diamond]}}
holdout: 0.2
workflow: standard
steps:
  - id: call
    channel: outbound_call
    template: call_a
    offers: [winback_credit]
    variants:
      - {name: champion, weight: 3}
      - {name: sms_only, weight: 1, channel: sms, template: sms_b, offers: []}
"""

IDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
              max_size=20)
WEIGHTS = st.lists(st.floats(min_value=0.01, max_value=1000, allow_nan=False), min_size=2,
                   max_size=6)


def _variants(weights: list[float]) -> tuple[Variant, ...]:
    return tuple(Variant(f"v{i}", w) for i, w in enumerate(weights))


def test_a_step_with_variants_loads_with_its_overrides(config: Config) -> None:
    library = load_library(config)
    playbook = parse_playbook(PLAYBOOK, "split.yaml", config, library.workflows,
                              library.offers)
    step = playbook.steps[0]
    assert [v.name for v in step.variants] == ["champion", "sms_only"]
    challenger = step.variants[1]
    assert (challenger.channel, challenger.template, challenger.offers) == ("sms", "sms_b", ())
    assert step.variants[0].channel is None and step.variants[0].offers is None


def test_resolved_applies_the_customers_variant_and_drops_the_split(config: Config) -> None:
    library = load_library(config)
    playbook = parse_playbook(PLAYBOOK, "split.yaml", config, library.workflows,
                              library.offers)
    step = playbook.steps[0]
    seen = {}
    for n in range(200):
        got, name = resolved("split", step, f"c{n}")
        seen[name] = got
        assert got.variants == ()
    assert seen["champion"].channel == "outbound_call"
    assert seen["champion"].offers == ("winback_credit",)
    assert (seen["sms_only"].channel, seen["sms_only"].template) == ("sms", "sms_b")
    assert seen["sms_only"].offers == ()


@given(IDS, IDS, IDS, WEIGHTS)
def test_assignment_is_deterministic(playbook: str, step: str, customer: str,
                                     weights: list[float]) -> None:
    variants = _variants(weights)
    first = assign(playbook, step, customer, variants)
    assert assign(playbook, step, customer, tuple(variants)) == first
    assert variant_of(playbook, [_Step(step, variants)], customer) == first.name


@given(WEIGHTS)
def test_thresholds_split_the_whole_space_in_order(weights: list[float]) -> None:
    bounds = thresholds(weights)
    assert bounds == sorted(bounds) and bounds[-1] == SPACE
    total = sum(weights)
    for bound, share in zip(bounds, _cumulative(weights), strict=True):
        assert abs(bound / SPACE - share / total) < 1e-9


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=9), min_size=2, max_size=4),
       st.text(alphabet="abc", min_size=1, max_size=5))
def test_the_split_follows_the_weights(weights: list[int], salt: str) -> None:
    variants = _variants([float(w) for w in weights])
    n = 6000
    counts = dict.fromkeys((v.name for v in variants), 0)
    for i in range(n):
        counts[assign(salt, "step", f"c{i:06d}", variants).name] += 1
    total = sum(weights)
    for variant, weight in zip(variants, weights, strict=True):
        p = weight / total
        sd = (p * (1 - p) / n) ** 0.5
        assert abs(counts[variant.name] / n - p) < 5 * sd + 1e-9, counts


def test_variants_are_drawn_independently_of_the_holdout() -> None:
    """Own salt: the control group and each variant get a fair share of each other."""
    variants = _variants([1.0, 1.0])
    ids = [f"c{i:05d}" for i in range(8000)]
    treated = [cid for cid in ids if not in_control("pb", cid, 0.5)]
    share = sum(assign("pb", "s", cid, variants).name == "v0" for cid in treated) / len(treated)
    assert share == pytest.approx(0.5, abs=0.03)


def _cumulative(weights: list[float]) -> list[float]:
    out, running = [], 0.0
    for w in weights:
        running += w
        out.append(running)
    return out


class _Step:
    def __init__(self, step_id: str, variants: tuple[Variant, ...]) -> None:
        self.id, self.variants = step_id, variants
        self.channel, self.template, self.offers = "sms", "t", ()


def test_promotion_rewrites_only_the_step_and_the_version(config: Config) -> None:
    library = load_library(config)
    text = PLAYBOOK.replace("audience:", "# who\naudience:")
    playbook = parse_playbook(text, "split.yaml", config, library.workflows, library.offers)
    challenger = playbook.steps[0].variants[1]
    new = promoted_text(text, "call", challenger, 7)
    changed = [line for line in difflib.ndiff(text.splitlines(), new.splitlines())
               if line[:1] in "+-"]
    assert changed == ["- version: 1", "+ version: 7", "-     channel: outbound_call",
                       "+     channel: sms", "-     template: call_a", "+     template: sms_b",
                       "-     offers: [winback_credit]", "-     variants:",
                       "-       - {name: champion, weight: 3}",
                       "-       - {name: sms_only, weight: 1, channel: sms, template: sms_b, "
                       "offers: []}"]
    again = parse_playbook(new, "split.yaml", config, library.workflows, library.offers)
    assert again.version == 7 and again.steps[0].variants == ()
    assert applied(playbook.steps[0], challenger) == again.steps[0]


def test_the_reason_reads_every_difference_from_the_winner() -> None:
    def u(absolute: float) -> dict[str, float]:
        return {"absolute": absolute, "low": absolute - 0.1, "high": absolute + 0.05,
                "level": 0.95}
    split = {"variants": [{"name": "a", "vs_control": u(0.02)},
                          {"name": "b", "vs_control": u(0.12)}],
             "pairwise": [{"a": "a", "b": "b", "uplift": u(-0.1)}]}
    assert reason_of("b", 4, split, "rita", None) == (
        "promoted variant b from ticket 4: +12.0 pts (95% CI +2.0 to +17.0) vs control, "
        "+10.0 pts (95% CI +5.0 to +20.0) vs a; by rita")
    no_goal = {"variants": [{"name": "a", "vs_control": None}], "pairwise": []}
    assert reason_of("a", 4, no_goal, "rita", "fewer complaints") == (
        "promoted variant a from ticket 4: no goal measured; by rita: fewer complaints")


def test_explain_names_the_variant_of_a_treatment_customer_only(config: Config) -> None:
    library = load_library(config)
    playbook = parse_playbook(PLAYBOOK, "split.yaml", config, library.workflows,
                              library.offers)
    at = dt.datetime(2026, 11, 20, 1, tzinfo=dt.UTC)
    seen: dict[str, dict[str, Any]] = {}
    for n in range(60):
        customer = {"id": f"c{n}", "joined_on": dt.date(2019, 1, 1), "arpu": 200.0}
        verdict = explain_playbook(customer, playbook, config, at)
        seen[verdict["group"] + ":" + str(verdict["steps"]["call"].get("variant"))] = verdict
    assert set(seen) == {"control:None", "treatment:champion", "treatment:sms_only"}
    assert seen["treatment:sms_only"]["steps"]["call"]["channel"] == "sms"
    assert seen["control:None"]["steps"]["call"]["channel"] == "outbound_call"
    text = render_text("c1", "2026-11-20", {}, [seen["treatment:sms_only"]])
    assert "step call (sms) variant sms_only: ✓" in text
