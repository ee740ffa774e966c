"""The approver's power figures: checked against the textbook sample-size formula and the
rule that a result with small expected cells is never read."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from engine.errors import ValidationError
from engine.measurement.power import holdout_needed, minimum_detectable_effect, power_of
from engine.measurement.uplift import SIGNIFICANT, uplift


def textbook_size(p0: float, p1: float, level: float = 0.95, power: float = 0.8) -> float:
    """Per-group size for equal groups (Fleiss, Levin & Paik 4.14, no continuity correction)."""
    za, zb = norm.ppf(0.5 + level / 2), norm.ppf(power)
    pbar = (p0 + p1) / 2
    top = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p0 * (1 - p0))
    return float((top / (p1 - p0)) ** 2)


@pytest.mark.parametrize(("p0", "p1"), [(0.05, 0.10), (0.10, 0.15), (0.20, 0.25), (0.02, 0.05)])
def test_the_mde_of_the_textbook_size_is_the_effect_it_was_sized_for(p0: float, p1: float) -> None:
    n = math.ceil(textbook_size(p0, p1))
    mde = minimum_detectable_effect(n, n, p0)
    assert mde is not None
    assert mde == pytest.approx(p1 - p0, abs=0.002)


def test_a_nineteen_customer_control_can_never_tell_anything() -> None:
    assert minimum_detectable_effect(1000, 19, 0.05) is None
    reading = power_of(1000, 19, base_rate=0.05)
    assert reading.under_powered
    assert reading.minimum_detectable_effect is None


def test_an_effect_at_the_mde_is_found_about_four_times_in_five() -> None:
    """Simulate the test the results are read with, at the planned sizes and the MDE."""
    import random

    rng = random.Random(20261205)
    n1, n0, p0 = 4000, 800, 0.06
    mde = minimum_detectable_effect(n1, n0, p0)
    assert mde is not None
    found = 0
    runs = 400
    for _ in range(runs):
        x1 = sum(rng.random() < p0 + mde for _ in range(n1))
        x0 = sum(rng.random() < p0 for _ in range(n0))
        found += uplift(n1, x1, n0, x0).verdict == SIGNIFICANT and x1 / n1 > x0 / n0
    assert 0.72 <= found / runs <= 0.88


@settings(deadline=None, max_examples=60)
@given(st.integers(50, 20000), st.integers(50, 20000), st.floats(0.01, 0.5))
def test_bigger_groups_never_need_a_bigger_effect(n1: int, n0: int, p0: float) -> None:
    small = minimum_detectable_effect(n1, n0, p0)
    large = minimum_detectable_effect(n1 * 2, n0 * 2, p0)
    if small is not None:
        assert large is not None and large <= small + 1e-9


def test_the_holdout_needed_is_the_smallest_share_that_detects_the_effect() -> None:
    share = holdout_needed(10000, 0.05, 0.02)
    assert share is not None
    control = round(10000 * share)
    mde = minimum_detectable_effect(10000 - control, control, 0.05)
    assert mde is not None and mde <= 0.02
    smaller = round(10000 * (share - 0.005))
    before = minimum_detectable_effect(10000 - smaller, smaller, 0.05)
    assert before is None or before > 0.02
    assert holdout_needed(600, 0.10, 0.05) is None


def test_the_reading_says_where_its_base_rate_came_from() -> None:
    assert power_of(900, 100).base_rate_source == "default"
    measured = power_of(900, 100, base_rate=0.12)
    assert measured.base_rate_source == "history"
    assert measured.baseline_conversions == pytest.approx(108)
    assert measured.expected_conversions == pytest.approx(900 * 0.17)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_rates_outside_zero_and_one_are_refused_by_name(bad: float) -> None:
    with pytest.raises(ValidationError, match="base_rate"):
        minimum_detectable_effect(100, 100, bad)
