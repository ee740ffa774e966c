"""Computed fields at their boundaries: these decide who a playbook takes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.config_loader import load_config
from engine.language.customer import days_to_birthday, facts, tier_of

CONFIG = load_config(Path("config.yaml"))
D = dt.date


@pytest.mark.parametrize(("birthday", "today", "days"), [
    (D(1990, 11, 20), D(2026, 11, 20), 0),
    (D(1990, 11, 21), D(2026, 11, 20), 1),
    (D(1990, 11, 19), D(2026, 11, 20), 364),
    (D(1990, 11, 19), D(2027, 11, 20), 365),  # next anniversary is in a leap year
    (D(1992, 2, 29), D(2026, 2, 28), 0),      # 29 Feb counts as 28 Feb in other years
    (D(1992, 2, 29), D(2026, 3, 1), 364),
    (D(1992, 2, 29), D(2028, 2, 28), 1),      # ...but not in a leap year
    (D(1990, 1, 1), D(2026, 12, 31), 1),
])
def test_days_to_birthday(birthday: dt.date, today: dt.date, days: int) -> None:
    assert days_to_birthday(birthday, today) == days


@pytest.mark.parametrize(("arpu", "tier"), [
    (None, "standard"), (0.0, "standard"), (79.99, "standard"), (80.0, "silver"),
    (149.99, "silver"), (150.0, "gold"), (300.0, "diamond"), (10_000.0, "diamond"),
    (-5.0, "standard"),
])
def test_tier_from_arpu_thresholds(arpu: float | None, tier: str) -> None:
    assert tier_of(arpu, CONFIG.tiers) == tier


def customer(**fields: object) -> dict[str, object]:
    return {"id": "c1", "joined_on": D(2020, 1, 1), **fields}


@pytest.mark.parametrize(("fields", "stage"), [
    ({"churned_on": D(2026, 1, 1), "joined_on": D(2026, 11, 19)}, "churned"),
    ({"joined_on": D(2026, 10, 21)}, "onboarding"),            # tenure 30
    ({"joined_on": D(2026, 10, 20)}, "growth"),                # tenure 31
    ({"joined_on": D(2026, 10, 20), "churn_score": 0.6}, "decline"),
    ({"usage_change_pct": -30.0}, "decline"),
    ({"usage_change_pct": -29.9}, "maturity"),
    ({"joined_on": D(2025, 11, 20)}, "growth"),                # tenure 365
    ({"joined_on": D(2025, 11, 19)}, "maturity"),              # tenure 366
])
def test_stage_first_match_wins(fields: dict[str, object], stage: str) -> None:
    got = facts(customer(**fields), D(2026, 11, 20), CONFIG.tiers, CONFIG.lifecycle)
    assert got["stage"] == stage


def test_facts_flatten_attributes_and_compute_tenure() -> None:
    got = facts(customer(attrs={"region": "north"}, birthday=D(1990, 11, 22)),
                D(2026, 11, 20), CONFIG.tiers, CONFIG.lifecycle)
    assert got["attr.region"] == "north"
    assert got["tenure_days"] == (D(2026, 11, 20) - D(2020, 1, 1)).days
    assert got["days_to_birthday"] == 2
    assert got["tier"] == "standard"
