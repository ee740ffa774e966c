"""The uplift statistics against published and hand-computed values, and their invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import ValidationError
from engine.measurement.uplift import reading, uplift

# Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10 (hybrid score).
NEWCOMBE_TABLE_II = [
    ((70, 56, 80, 48), (0.0524, 0.3339)),
    ((10, 9, 10, 3), (0.1705, 0.8090)),
    ((7, 6, 7, 2), (0.0582, 0.8062)),
    ((56, 5, 29, 0), (-0.0381, 0.1926)),
    ((10, 0, 20, 0), (-0.1611, 0.2775)),
    ((10, 0, 10, 0), (-0.2775, 0.2775)),
    ((10, 10, 20, 0), (0.6791, 1.0000)),
    ((10, 10, 10, 0), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "interval"), NEWCOMBE_TABLE_II)
def test_interval_is_newcombes_hybrid_score_interval(
    counts: tuple[int, int, int, int], interval: tuple[float, float]
) -> None:
    result = uplift(*counts)
    assert result.low is not None and result.high is not None
    assert (round(result.low, 4), round(result.high, 4)) == interval


def test_a_clear_difference_in_large_groups_is_significant() -> None:
    # pooled p = 104/150; se = sqrt(p(1-p)(1/70 + 1/80)) = 0.075467; z = 0.2/se = 2.6502
    result = uplift(70, 56, 80, 48)
    assert result.treatment_rate == pytest.approx(0.8)
    assert result.control_rate == pytest.approx(0.6)
    assert result.absolute == pytest.approx(0.2)
    assert result.relative == pytest.approx(0.2 / 0.6)
    assert result.p_value == pytest.approx(0.008045, abs=1e-6)
    assert result.verdict == "significant"


def test_a_small_difference_is_not_significant() -> None:
    # 1000 × 5.5% vs 1000 × 5%: pooled 0.0525, se = 0.009973, z = 0.5013, p = 0.6161
    result = uplift(1000, 55, 1000, 50)
    assert result.p_value == pytest.approx(0.6161, abs=1e-4)
    assert result.verdict == "not significant"
    assert result.low is not None and result.high is not None
    assert result.low < 0 < result.high


def test_groups_with_too_few_expected_conversions_are_too_small_to_tell() -> None:
    # pooled 12/20: control expects 10 × 0.4 = 4 non-conversions, under 5
    result = uplift(10, 9, 10, 3)
    assert result.p_value is not None and result.p_value < 0.05
    assert result.verdict == "too small to tell"


def test_an_empty_group_gives_no_rates_and_no_reading() -> None:
    result = uplift(100, 10, 0, 0)
    assert result.treatment_rate == pytest.approx(0.1)
    assert result.control_rate is None
    assert result.absolute is None and result.low is None and result.p_value is None
    assert result.verdict == "too small to tell"


def test_relative_uplift_is_none_when_control_never_converted() -> None:
    result = uplift(1000, 30, 1000, 0)
    assert result.absolute == pytest.approx(0.03)
    assert result.relative is None


def test_level_changes_the_interval_and_the_threshold() -> None:
    # p = 0.0080: significant at 99%, not at 99.9%
    assert uplift(70, 56, 80, 48, level=0.99).verdict == "significant"
    assert uplift(70, 56, 80, 48, level=0.999).verdict == "not significant"


@pytest.mark.parametrize(
    "args",
    [(-1, 0, 10, 0), (10, 11, 10, 0), (10, 0, 10, -1), (10, 1, 10, 1, 1.0), (10, 1, 10, 1, 0.0)],
)
def test_impossible_counts_are_refused(args: tuple) -> None:
    with pytest.raises(ValidationError):
        uplift(*args)


@st.composite
def groups(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n1 = draw(st.integers(1, 5000))
    n0 = draw(st.integers(1, 5000))
    return n1, draw(st.integers(0, n1)), n0, draw(st.integers(0, n0))


levels = st.sampled_from([0.8, 0.9, 0.95, 0.99])


@given(groups(), levels)
def test_interval_holds_the_estimate_and_stays_in_bounds(
    counts: tuple[int, int, int, int], level: float
) -> None:
    result = uplift(*counts, level=level)
    assert result.low is not None and result.high is not None and result.absolute is not None
    assert -1 <= result.low <= result.absolute <= result.high <= 1
    assert result.p_value is not None and 0 <= result.p_value <= 1


@given(groups(), levels)
def test_swapping_the_groups_mirrors_the_result(
    counts: tuple[int, int, int, int], level: float
) -> None:
    n1, x1, n0, x0 = counts
    forward, backward = uplift(n1, x1, n0, x0, level), uplift(n0, x0, n1, x1, level)
    assert forward.absolute == pytest.approx(-backward.absolute)  # type: ignore[operator]
    assert forward.low == pytest.approx(-backward.high)  # type: ignore[operator]
    assert forward.high == pytest.approx(-backward.low)  # type: ignore[operator]
    assert forward.p_value == pytest.approx(backward.p_value)
    assert forward.verdict == backward.verdict


@given(groups())
def test_a_higher_level_never_narrows_the_interval(counts: tuple[int, int, int, int]) -> None:
    narrow, wide = uplift(*counts, level=0.9), uplift(*counts, level=0.99)
    assert wide.low <= narrow.low + 1e-12  # type: ignore[operator]
    assert wide.high >= narrow.high - 1e-12  # type: ignore[operator]


@given(groups(), levels)
def test_verdict_follows_the_p_value_and_the_expected_counts(
    counts: tuple[int, int, int, int], level: float
) -> None:
    n1, x1, n0, x0 = counts
    result = uplift(*counts, level=level)
    pooled = (x1 + x0) / (n1 + n0)
    big_enough = min(n1, n0) * min(pooled, 1 - pooled) >= 5
    assert result.p_value is not None
    if not big_enough:
        assert result.verdict == "too small to tell"
    elif result.p_value < 1 - level:
        assert result.verdict == "significant"
    else:
        assert result.verdict == "not significant"


@given(st.integers(1, 100), st.integers(0, 100), st.integers(1, 50), st.integers(1, 50))
def test_equal_rates_are_never_significant(den: int, num: int, m1: int, m0: int) -> None:
    num = min(num, den)
    result = uplift(den * m1, num * m1, den * m0, num * m0)
    assert result.absolute == pytest.approx(0)
    assert result.p_value == pytest.approx(1)
    assert result.verdict != "significant"


@pytest.mark.parametrize(("n1", "n0", "p1", "p0"), [
    (200, 40, 0.05, 0.05), (200, 20, 0.08, 0.03), (500, 50, 0.02, 0.02), (60, 15, 0.3, 0.2)])
def test_the_interval_covers_the_true_difference_at_small_rates(
        n1: int, n0: int, p1: float, p0: float) -> None:
    """Exact coverage (every outcome weighted by its binomial probability) for small rates and
    small holdouts, where the Wald interval falls short of its 95%."""
    from scipy.stats import binom

    w1, w0 = binom.pmf(range(n1 + 1), n1, p1), binom.pmf(range(n0 + 1), n0, p0)
    covered = 0.0
    for x1 in range(n1 + 1):
        if w1[x1] < 1e-12:
            continue
        for x0 in range(n0 + 1):
            if w0[x0] < 1e-12:
                continue
            result = uplift(n1, x1, n0, x0)
            assert result.low is not None and result.high is not None
            if result.low <= p1 - p0 <= result.high:
                covered += w1[x1] * w0[x0]
    assert covered >= 0.94


@pytest.mark.parametrize(("counts", "expected"), [
    ((1000, 200, 1000, 100), "works"),
    ((1000, 100, 1000, 200), "harms"),
    ((1000, 105, 1000, 100), "no difference"),
    ((10, 3, 10, 0), "too small to tell"),
    ((10, 3, 0, 0), "too small to tell"),
])
def test_the_verdict_in_the_words_people_decide_with(counts: tuple[int, int, int, int],
                                                     expected: str) -> None:
    u = uplift(*counts)
    assert reading(u.verdict, u.absolute) == expected
