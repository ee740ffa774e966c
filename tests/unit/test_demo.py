"""Demo data: the same seed gives the same files, and the mix looks like a telecom base."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from engine.config import Config
from engine.config_loader import load_config
from engine.demo import DemoSpec, customer_header, generate
from engine.language.customer import tier_of

AT = dt.date(2026, 5, 20)


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(Path(__file__).resolve().parents[2] / "config.yaml")


def spec(cfg: Config, customers: int, events: int = 0, seed: int = 1) -> DemoSpec:
    return DemoSpec(customers, events, seed, AT, cfg.attributes, cfg.events,
                    tuple(cfg.channels))


@pytest.fixture(scope="module")
def sample(cfg: Config) -> list[dict[str, Any]]:
    header = customer_header(spec(cfg, 0))
    return [dict(zip(header, row, strict=True)) for row, _ in generate(spec(cfg, 20_000))]


def test_same_seed_same_data_and_events_do_not_change_customers(cfg: Config) -> None:
    first = list(generate(spec(cfg, 300, 50)))
    assert first == list(generate(spec(cfg, 300, 50)))
    assert [row for row, _ in first] == [row for row, _ in generate(spec(cfg, 300, 0))]
    assert first != list(generate(spec(cfg, 300, 50, seed=2)))
    assert sum(len(events) for _, events in first) == 50


def share(sample: list[dict[str, Any]], test: Any) -> float:
    return sum(1 for c in sample if test(c)) / len(sample)


def test_tiers_follow_the_arpu_mix(cfg: Config, sample: list[dict[str, Any]]) -> None:
    tiers = Counter(tier_of(float(c["arpu"]) if c["arpu"] else None, cfg.tiers) for c in sample)
    assert 0.02 < tiers["diamond"] / len(sample) < 0.04
    assert 0.08 < tiers["gold"] / len(sample) < 0.12
    assert 0.22 < tiers["silver"] / len(sample) < 0.28
    assert 0.01 < share(sample, lambda c: not c["arpu"]) < 0.03
    managed = [c for c in sample if c["manager"]]
    assert managed and all(float(c["arpu"] or 0) >= 150 for c in managed)


def test_lifecycle_signals(sample: list[dict[str, Any]]) -> None:
    churned = [c for c in sample if c["churned_on"]]
    assert 0.06 < len(churned) / len(sample) < 0.10
    assert all(float(c["churn_score"]) >= 0.7 and float(c["usage_change_pct"]) < -30
               for c in churned)
    recent = [c for c in churned if (AT - dt.date.fromisoformat(c["churned_on"])).days <= 90]
    assert 0.25 < len(recent) / len(churned) < 0.6
    assert all(0 <= (AT - dt.date.fromisoformat(c["churned_on"])).days <= 365 for c in churned)
    onboarding = share(sample, lambda c: (AT - dt.date.fromisoformat(c["joined_on"])).days <= 30)
    assert 0.02 < onboarding < 0.06
    declining = share(sample, lambda c: not c["churned_on"] and (
        float(c["usage_change_pct"]) <= -30 or float(c["churn_score"]) >= 0.6))
    assert 0.10 < declining < 0.20
    oldest = min(dt.date.fromisoformat(c["joined_on"]) for c in sample)
    assert (AT - oldest).days > 7 * 365


def test_contracts_birthdays_tags_and_opt_outs(sample: list[dict[str, Any]]) -> None:
    with_contract = [c for c in sample if c["contract_end"]]
    assert 0.55 < len(with_contract) / len(sample) < 0.65
    assert any(0 <= (dt.date.fromisoformat(c["contract_end"]) - AT).days <= 60
               for c in with_contract)
    assert any(c["birthday"].endswith("-02-29") for c in sample)
    tags = Counter(t for c in sample for t in c["tags"].split(";") if t)
    assert {"vip", "family_plan", "do_not_winback", "complaint_open", "senior"} <= set(tags)
    assert 0.005 < share(sample, lambda c: c["opt_out"] == "all") < 0.015
    assert 0.02 < share(sample, lambda c: c["opt_out"] not in ("", "all")) < 0.04
    assert {c["region"] for c in sample} and {c["broadband"] for c in sample} == {"true", "false"}


def test_events_fit_the_config_and_the_week_before(cfg: Config) -> None:
    found = [e for _, events in generate(spec(cfg, 2000, 3000)) for e in events]
    assert len(found) == 3000
    assert {e["type"] for e in found} <= set(cfg.events)
    assert len({e["type"] for e in found}) >= 5
    for event in found:
        assert set(event["data"]) == set(cfg.events[event["type"]])
        moment = dt.datetime.fromisoformat(event["at"])
        assert AT - dt.timedelta(days=7) <= moment.date() < AT
    assert len({e["id"] for e in found}) == len(found)


def test_plan_fee_follows_the_plan_and_leaves_the_other_values_as_they_were(
        cfg: Config, sample: list[dict[str, Any]]) -> None:
    """Some customers are on the 96-yuan plan that rules/offers/prepay_168 is for; the fee is
    taken from the plan, so declaring it changes no other generated value."""
    fees = Counter(row["plan_fee"] for row in sample)
    assert 500 < fees["96"] < 5_000
    assert all(row["plan_fee"] == "96" for row in sample if row["plan"] == "data_60")
    without = {k: v for k, v in cfg.attributes.items() if k != "plan_fee"}
    before = DemoSpec(300, 0, 1, AT, without, cfg.events, tuple(cfg.channels))
    header = customer_header(spec(cfg, 0))
    rows = [dict(zip(header, row, strict=True)) for row, _ in generate(spec(cfg, 300))]
    old_header = customer_header(before)
    old = [dict(zip(old_header, row, strict=True)) for row, _ in generate(before)]
    assert [{k: v for k, v in row.items() if k != "plan_fee"} for row in rows] == old
