"""The funnel stages and the KPI arithmetic, without a database."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.config_loader import parse_config
from engine.errors import ValidationError
from engine.measurement.kpi import FUNNEL, EntryFacts, Funnel, Group, cost_of, stages_reached
from engine.tasks.task import STAGE

STATES = [*STAGE, "pending", "leased", "pushed", "cancelled", "dead"]


@pytest.mark.parametrize(("state", "attempts", "reached"), [
    ("pending", 0, ("tasks",)),
    ("pending", 1, ("tasks", "sent")),  # a push failed and will be retried
    ("cancelled", 0, ("tasks",)),
    ("suppressed", 0, ("tasks",)),  # the contact policy stopped it before any channel saw it
    ("leased", 0, ("tasks", "sent")),
    ("dead", 3, ("tasks", "sent")),
    ("failed", 1, ("tasks", "sent")),
    ("no_answer", 0, ("tasks", "sent")),
    ("delivered", 1, ("tasks", "sent", "delivered")),
    ("declined", 0, ("tasks", "sent", "delivered", "connected")),
    ("accepted", 0, ("tasks", "sent", "delivered", "connected", "accepted")),
    ("converted", 0, FUNNEL),
])
def test_a_task_counts_at_every_stage_up_to_its_result(state: str, attempts: int,
                                                       reached: tuple[str, ...]) -> None:
    assert stages_reached(state, attempts) == reached


@given(st.lists(st.tuples(st.sampled_from(STATES), st.integers(0, 3)), max_size=60))
def test_funnel_stages_never_grow_down_the_funnel(tasks: list[tuple[str, int]]) -> None:
    funnel = Funnel()
    for state, attempts in tasks:
        funnel.add(state, attempts)
    counts = [funnel.counts[stage] for stage in FUNNEL]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == len(tasks) == sum(funnel.states.values())


def test_cost_prices_only_priced_channels() -> None:
    prices = {"sms": 0.05, "push": None}
    assert cost_of({"sms": 10, "push": 7}, prices) == pytest.approx(0.5)
    assert cost_of({"push": 7}, prices) is None


def _entry(cid: str, grp: str, converted: bool | None = False,
           churned_on: dt.date | None = None) -> EntryFacts:
    return EntryFacts(cid, grp, dt.date(2026, 11, 5), converted, False, churned_on)


def test_a_group_s_rates_churn_and_contacts() -> None:
    group = Group()
    for entry in (_entry("a", "treatment", True), _entry("b", "treatment", False,
                                                          dt.date(2026, 11, 9)),
                  _entry("c", "treatment", None), _entry("d", "control", False,
                                                         dt.date(2026, 10, 1)),
                  _entry("e", "control", True)):
        group.add_entry(entry)
    group.add_task("a", "sms", "delivered", 1)
    group.add_task("a", "outbound_call", "connected", 0)
    group.add_task("b", "sms", "pending", 0)
    found = group.summary({"sms": 0.05, "outbound_call": 2.0}, dt.date(2026, 11, 30))
    assert found["entries"] == {"treatment": 3, "control": 2}
    assert found["with_goal"] == {"treatment": 2, "control": 2}  # c's playbook has no goal
    assert found["retention_success_rate"] == 0.5 and found["control_success_rate"] == 0.5
    assert found["churn"]["targeted"] == {"customers": 3, "churned": 1, "rate": 1 / 3}
    # d had churned before entering: left out, not counted as a churn
    assert found["churn"]["untargeted"] == {"customers": 1, "churned": 0, "rate": 0.0}
    assert found["contacts_per_customer"] == pytest.approx(2 / 3)
    assert found["max_contacts"] == 2 and found["connect_rate"] == 0.5
    assert found["cost"] == pytest.approx(2.05)


def test_winback_customers_churned_at_entry_are_not_churn_among_the_treated() -> None:
    """Win-back enters churned customers, some churned the very day of the entry (5 Nov)."""
    group = Group()
    entry_day = dt.date(2026, 11, 5)
    for cid, grp, churned in (("w1", "treatment", entry_day), ("w2", "treatment",
                                                               dt.date(2026, 9, 1)),
                              ("w3", "control", entry_day),
                              ("r1", "treatment", dt.date(2026, 11, 6)),  # churned after
                              ("r2", "treatment", None)):
        group.add_entry(_entry(cid, grp, churned_on=churned))
    churn = group.summary({}, dt.date(2026, 11, 30))["churn"]
    assert churn["targeted"] == {"customers": 2, "churned": 1, "rate": 0.5}
    assert churn["untargeted"] == {"customers": 0, "churned": 0, "rate": None}


def test_a_channel_cost_is_a_number_of_zero_or_more() -> None:
    base = "tiers: [{tier: a, min_arpu: 0}]\nlifecycle: [{stage: s}]\n"
    good = parse_config(base + "channels: {sms: {adapter: log, cost: 0.05}}\n", "c.yaml")
    assert good.channels["sms"].cost == 0.05
    with pytest.raises(ValidationError, match="cost"):
        parse_config(base + "channels: {sms: {adapter: log, cost: -1}}\n", "c.yaml")
