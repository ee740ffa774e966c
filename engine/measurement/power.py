"""Before approval: can this ticket's treatment and control sizes ever tell the effect apart?

An approver who signs a ticket with a 19-customer control group should be told that no
plausible effect will be readable from it. The figures here are the classic fixed-sample
power calculation for the same test `engine/measurement/uplift.py` reads results with (two-sided
pooled two-proportion z-test at the ticket's level): the minimum detectable effect (MDE) is the
smallest absolute uplift p₁ − p₀ that the test finds with probability `power`, solving

    z₍₁₋α/2₎·√(p̄(1−p̄)(1/n₁ + 1/n₀)) + z₍power₎·√(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀) = p₁ − p₀

for p₁ by bisection, p̄ the pooled rate under the alternative (Fleiss, Levin & Paik,
*Statistical Methods for Rates and Proportions*, 3rd ed., §4.2; without continuity correction,
like the test). `engine/measurement/uplift.py` also refuses to read a result when an expected cell
count is under 5; the MDE is raised until that rule holds, since a smaller effect would be "too
small to tell" whatever the data.

The base rate is the playbook's own control conversion rate from its history when it has one,
else a stated default; the warning compares the MDE with a plausible effect (configurable).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from engine.errors import ValidationError
from engine.measurement.uplift import MIN_EXPECTED

POWER = 0.8
DEFAULT_BASE_RATE = 0.05
DEFAULT_PLAUSIBLE_EFFECT = 0.05
_STEPS = 40  # bisection halvings: the effect to within 1e-12
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Power:
    """What an approver reads: sizes, the MDE, what to expect, and whether to worry."""

    treatment: int
    control: int
    base_rate: float
    base_rate_source: str
    level: float
    power: float
    minimum_detectable_effect: float | None
    baseline_conversions: float
    expected_conversions: float
    plausible_effect: float
    holdout_needed: float | None
    under_powered: bool


def minimum_detectable_effect(treatment: int, control: int, base_rate: float,
                              level: float = 0.95, power: float = POWER) -> float | None:
    """The smallest absolute uplift (a fraction: 0.05 is +5 pts) this split detects with
    probability `power`; None when no uplift up to a 100% rate would be detected."""
    _check_rate("base_rate", base_rate)
    _check_rate("level", level)
    _check_rate("power", power)
    if treatment <= 0 or control <= 0:
        return None
    z_alpha, z_power = _NORMAL.inv_cdf(0.5 + level / 2), _NORMAL.inv_cdf(power)
    if not _detected(treatment, control, base_rate, 1.0 - 1e-12, z_alpha, z_power):
        return None
    low, high = 0.0, 1.0 - base_rate
    for _ in range(_STEPS):
        middle = (low + high) / 2
        if _detected(treatment, control, base_rate, base_rate + middle, z_alpha, z_power):
            high = middle
        else:
            low = middle
    return high


def holdout_needed(audience: int, base_rate: float, effect: float,
                   level: float = 0.95, power: float = POWER) -> float | None:
    """The smallest control share (to 0.5%) of `audience` whose split detects `effect`;
    None when even an even split cannot. Up to an even split, a larger control share never
    needs a larger effect, so the share is found by bisection over the 0.5% steps."""

    def enough(step: int) -> bool:
        control = round(audience * step / 200)
        mde = minimum_detectable_effect(audience - control, control, base_rate, level, power)
        return mde is not None and mde <= effect

    if not enough(100):
        return None
    low, high = 0, 100  # enough(high); not enough(low), step 0 being no control at all
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high / 200


def power_of(treatment: int, control: int, *, base_rate: float | None = None,
             level: float = 0.95, plausible_effect: float = DEFAULT_PLAUSIBLE_EFFECT,
             power: float = POWER) -> Power:
    """The approver's reading of a planned split, from the playbook's measured base rate when
    it has one (`base_rate`), else DEFAULT_BASE_RATE, said as such in `base_rate_source`."""
    rate = DEFAULT_BASE_RATE if base_rate is None else base_rate
    mde = minimum_detectable_effect(treatment, control, rate, level, power)
    return Power(
        treatment=treatment,
        control=control,
        base_rate=rate,
        base_rate_source="default" if base_rate is None else "history",
        level=level,
        power=power,
        minimum_detectable_effect=mde,
        baseline_conversions=treatment * rate,
        expected_conversions=treatment * min(1.0, rate + plausible_effect),
        plausible_effect=plausible_effect,
        holdout_needed=holdout_needed(treatment + control, rate, plausible_effect, level, power),
        under_powered=mde is None or mde > plausible_effect,
    )


def _detected(n1: int, n0: int, p0: float, p1: float, z_alpha: float, z_power: float) -> bool:
    """Whether the two-sided test (critical value z_alpha) finds p1 − p0 with probability
    ≥ the power whose quantile is z_power, and the result would be read at all (every
    expected cell ≥ MIN_EXPECTED under the pooled rate)."""
    pooled = (n1 * p1 + n0 * p0) / (n1 + n0)
    if any(n * share < MIN_EXPECTED for n in (n1, n0) for share in (pooled, 1 - pooled)):
        return False
    null_sd = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    alt_sd = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    if alt_sd == 0:
        return p1 - p0 > 0
    return (p1 - p0 - z_alpha * null_sd) / alt_sd >= z_power


def _check_rate(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValidationError(f"must be between 0 and 1, got {value}", field=name)
