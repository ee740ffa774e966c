"""Did treatment convert more than control, and can we tell?

The interval is Newcombe's hybrid score interval (method 10 of Newcombe 1998): built from the
two Wilson score intervals, it keeps close to its nominal coverage for small rates and small
groups, stays inside [-1, 1], and exists when a group has no conversions at all, where the
Wald interval collapses to a point.

The p-value is the pooled two-proportion z-test, which is the 2x2 chi-square test. That
approximation is trusted only when every expected cell count under "no difference" is at
least 5: for each group, n·p ≥ 5 and n·(1 − p) ≥ 5 with p the pooled rate (the usual rule for
the chi-square test). Below that the verdict is "too small to tell"; the numbers are still
given, but they are not the reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from engine.errors import ValidationError

MIN_EXPECTED = 5
SIGNIFICANT = "significant"
NOT_SIGNIFICANT = "not significant"
TOO_SMALL = "too small to tell"


@dataclass(frozen=True)
class Uplift:
    treatment: int
    treatment_conversions: int
    control: int
    control_conversions: int
    treatment_rate: float | None
    control_rate: float | None
    absolute: float | None
    relative: float | None
    low: float | None
    high: float | None
    p_value: float | None
    level: float
    verdict: str


def uplift(
    treatment: int,
    treatment_conversions: int,
    control: int,
    control_conversions: int,
    level: float = 0.95,
) -> Uplift:
    """Compare treatment's conversion rate with control's at confidence `level`."""
    _check(treatment, treatment_conversions, "treatment")
    _check(control, control_conversions, "control")
    if not 0 < level < 1:
        raise ValidationError(f"must be between 0 and 1, got {level}", field="level")
    t_rate = treatment_conversions / treatment if treatment else None
    c_rate = control_conversions / control if control else None
    absolute = low = high = p_value = relative = None
    if t_rate is not None and c_rate is not None:
        absolute = t_rate - c_rate
        relative = absolute / c_rate if c_rate else None
        z = float(norm.ppf(0.5 + level / 2))
        low, high = _newcombe(treatment_conversions, treatment, control_conversions, control, z)
        p_value = _p_value(treatment_conversions, treatment, control_conversions, control)
    return Uplift(
        treatment=treatment,
        treatment_conversions=treatment_conversions,
        control=control,
        control_conversions=control_conversions,
        treatment_rate=t_rate,
        control_rate=c_rate,
        absolute=absolute,
        relative=relative,
        low=low,
        high=high,
        p_value=p_value,
        level=level,
        verdict=_verdict(
            treatment, treatment_conversions, control, control_conversions, p_value, level
        ),
    )


WORKS = "works"
HARMS = "harms"
NO_DIFFERENCE = "no difference"


def reading(verdict: str, absolute: float | None) -> str:
    """The verdict as the people who decide read it: `works` (treatment converted more, and
    the test can tell), `harms` (less, and it can tell), `no difference` (the test cannot
    tell the groups apart), `too small to tell` (too few customers for the test)."""
    if verdict == SIGNIFICANT and absolute is not None and absolute != 0:
        return WORKS if absolute > 0 else HARMS
    if verdict == NOT_SIGNIFICANT:
        return NO_DIFFERENCE
    return TOO_SMALL


def _check(n: int, conversions: int, group: str) -> None:
    if n < 0:
        raise ValidationError(f"must be 0 or more, got {n}", field=group)
    if not 0 <= conversions <= n:
        raise ValidationError(f"must be between 0 and {n}, got {conversions}",
                              field=f"{group}_conversions")


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _newcombe(x1: int, n1: int, x0: int, n0: int, z: float) -> tuple[float, float]:
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = _wilson(x1, n1, z)
    l0, u0 = _wilson(x0, n0, z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return max(-1.0, low), min(1.0, high)


def _p_value(x1: int, n1: int, x0: int, n0: int) -> float:
    """Two-sided; 1.0 when both groups converted all or none (no difference can be seen)."""
    pooled = (x1 + x0) / (n1 + n0)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n0)
    if variance <= 0:
        return 1.0
    z = (x1 / n1 - x0 / n0) / math.sqrt(variance)
    return float(min(1.0, 2 * norm.sf(abs(z))))


def _verdict(n1: int, x1: int, n0: int, x0: int, p_value: float | None, level: float) -> str:
    if p_value is None:
        return TOO_SMALL
    pooled = (x1 + x0) / (n1 + n0)
    expected = (n * share for n in (n1, n0) for share in (pooled, 1 - pooled))
    if any(cell < MIN_EXPECTED for cell in expected):
        return TOO_SMALL
    return SIGNIFICANT if p_value < 1 - level else NOT_SIGNIFICANT
