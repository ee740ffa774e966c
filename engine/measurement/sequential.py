"""A playbook version's pooled readout, safe to look at every day.

One ticket's uplift (engine/measurement/uplift.py) is read once, when its window has closed. A
version runs many tickets, and people look at how it does every morning. Reading a fixed-sample test
at every look inflates its false positives far beyond 5% (Johari, Koomen, Pekelis & Walsh,
"Peeking at A/B tests", KDD 2017), so the pooled readout is an *always-valid* one:

- **The estimate** is the Mantel–Haenszel risk difference over the version's tickets, each
  ticket a stratum (weights n₁n₀/(n₁+n₀)), so tickets of different sizes, seasons and base
  rates are compared within themselves, never treatment of one ticket against control of
  another. Its variance is Sato's (1989), which is consistent both for many small strata and
  for few large ones, and reduces to the two-sample variance for one ticket.
- **The interval** is a two-sided normal-mixture confidence sequence (Robbins' mixture; the
  mSPRT of Johari et al. 2017; Howard, Ramdas, McAuliffe & Sekhon, "Time-uniform,
  nonparametric, nonasymptotic confidence sequences", Ann. Statist. 2021, §3): with the
  estimate's variance V and a N(0, τ²) mixture over the effect,

      estimate ± √( V(V + τ²)/τ² · (2·ln(1/α) + ln((V + τ²)/V)) )

  covers the true difference at every look at once with probability ≥ 1 − α (for the normal
  approximation of the estimate), so a verdict reached on any day, after any number of looks,
  keeps its error rate. τ is the plausible effect (+5 pts): the mixture is tightest about
  where an effect of that size would be found.
- **The verdict**: `collecting` until the readout says something; `works` when the estimate
  exceeds the sequence's half width at the variance "no difference" implies (each ticket's
  pooled rate in both groups, as engine/measurement/uplift.py's pooled z-test: a small control's
  lucky low count would otherwise shrink the variance just when the estimate is high);
  `does not work` when it lies as far below 0 (the playbook harms); `no difference` when the
  interval holds 0 and no difference as large as the plausible effect (`bound`: no
  difference larger than that). Before every pooled expected cell reaches 5 (the rule of
  engine/measurement/uplift.py) the normal approximation is not trusted and the readout is
  `collecting`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from engine.errors import ValidationError
from engine.measurement.power import DEFAULT_PLAUSIBLE_EFFECT, POWER
from engine.measurement.uplift import MIN_EXPECTED

COLLECTING = "collecting"
WORKS = "works"
HARMS = "does not work"
NO_DIFFERENCE = "no difference"
VERDICTS = (COLLECTING, WORKS, HARMS, NO_DIFFERENCE)
ESTIMATOR = "mantel-haenszel risk difference (Sato variance)"
SEQUENCE = "normal-mixture confidence sequence"
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Stratum:
    """One ticket's counts so far: members and goal conversions per group."""

    treatment: int
    treatment_conversions: int
    control: int
    control_conversions: int


@dataclass(frozen=True)
class Readout:
    strata: int  # tickets with both groups
    treatment: int
    treatment_conversions: int
    control: int
    control_conversions: int
    estimate: float | None  # the pooled difference, a fraction (0.03 is +3 pts)
    variance: float | None
    low: float | None  # the confidence sequence at this look
    high: float | None
    level: float
    tau: float
    margin: float  # a difference this large is worth finding
    bound: float | None  # `no difference`: none larger than this (the wider side of the CS)
    verdict: str
    estimator: str = ESTIMATOR
    interval: str = SEQUENCE


def mantel_haenszel(strata: Iterable[Stratum]) -> tuple[float, float, float] | None:
    """The MH risk difference, its Sato variance, and its variance under "no difference"
    (each stratum's pooled rate in both groups), over the strata with both groups; None when
    no stratum has both."""
    weight = num = sato_p = sato_q = null = 0.0
    for s in strata:
        n1, n0 = s.treatment, s.control
        if n1 <= 0 or n0 <= 0:
            continue
        x1, x0, n = s.treatment_conversions, s.control_conversions, n1 + n0
        w, pooled = n1 * n0 / n, (x1 + x0) / n
        weight += w
        num += (x1 * n0 - x0 * n1) / n
        sato_p += (n1 * n1 * x0 - n0 * n0 * x1 + n1 * n0 * (n0 - n1) / 2) / (n * n)
        sato_q += (x1 * (n0 - x0) + x0 * (n1 - x1)) / (2 * n)
        null += w * w * pooled * (1 - pooled) * (1 / n1 + 1 / n0)
    if weight == 0:
        return None
    estimate = num / weight
    return estimate, (estimate * sato_p + sato_q) / (weight * weight), null / (weight * weight)


def half_width(variance: float, level: float = 0.95,
               tau: float = DEFAULT_PLAUSIBLE_EFFECT) -> float:
    """The normal-mixture confidence sequence's half width at an estimate's variance."""
    spread = variance + tau * tau
    return math.sqrt(variance * spread / (tau * tau)
                     * (2 * math.log(1 / (1 - level)) + math.log(spread / variance)))


def readout(strata: Sequence[Stratum], level: float = 0.95,
            tau: float = DEFAULT_PLAUSIBLE_EFFECT,
            margin: float = DEFAULT_PLAUSIBLE_EFFECT) -> Readout:
    """The pooled readout of a version's tickets at this look."""
    if not 0 < level < 1:
        raise ValidationError(f"must be between 0 and 1, got {level}", field="level")
    for s in strata:
        for n, x, group in ((s.treatment, s.treatment_conversions, "treatment"),
                            (s.control, s.control_conversions, "control")):
            if n < 0 or not 0 <= x <= n:
                raise ValidationError(f"{x} conversions of {n} members", field=group)
    both = [s for s in strata if s.treatment > 0 and s.control > 0]
    totals = [sum(getattr(s, key) for s in both) for key in
              ("treatment", "treatment_conversions", "control", "control_conversions")]
    pooled = mantel_haenszel(both)
    estimate = variance = low = high = bound = None
    verdict = COLLECTING
    if pooled is not None:
        estimate, variance, null = pooled
        if variance > 0 and null > 0 and _readable(*totals):
            width = half_width(variance, level, tau)
            low, high = max(-1.0, estimate - width), min(1.0, estimate + width)
            verdict, bound = _verdict(estimate, half_width(null, level, tau), low, high,
                                      margin)
    n1, x1, n0, x0 = totals
    return Readout(len(both), n1, x1, n0, x0, estimate=estimate, variance=variance, low=low,
                   high=high, level=level, tau=tau, margin=margin, bound=bound,
                   verdict=verdict)


def _readable(n1: int, x1: int, n0: int, x0: int) -> bool:
    """Every pooled expected cell under "no difference" is at least MIN_EXPECTED."""
    pooled = (x1 + x0) / (n1 + n0)
    return all(n * share >= MIN_EXPECTED for n in (n1, n0) for share in (pooled, 1 - pooled))


def _verdict(estimate: float, critical: float, low: float, high: float,
             margin: float) -> tuple[str, float | None]:
    """`works` and `does not work` test "no difference" with the variance it implies (as
    engine/measurement/uplift.py's pooled z-test does); `no difference` reads the interval."""
    if estimate > critical:
        return WORKS, None
    if estimate < -critical:
        return HARMS, None
    widest = max(high, -low)
    if low <= 0 <= high and widest <= margin:
        return NO_DIFFERENCE, math.ceil(widest * 1000 - 1e-9) / 1000  # up, to 0.1 pts
    return COLLECTING, None


def chance_of_works(planned: Sequence[tuple[int, int]], base_rate: float, effect: float,
                    level: float = 0.95, tau: float = DEFAULT_PLAUSIBLE_EFFECT) -> float:
    """The chance that the readout over tickets of these (treatment, control) sizes,
    evaluated, says `works` at one look when the true uplift is `effect` on `base_rate`.
    Normal approximation at the expected counts; 0 while they would not be read."""
    p0, p1 = base_rate, min(1.0, base_rate + effect)
    weight = spread = null = 0.0
    n1 = n0 = 0
    for t, c in planned:
        if t > 0 and c > 0:
            w, pooled = t * c / (t + c), (t * p1 + c * p0) / (t + c)
            weight += w
            spread += w * w * (p1 * (1 - p1) / t + p0 * (1 - p0) / c)
            null += w * w * pooled * (1 - pooled) * (1 / t + 1 / c)
            n1, n0 = n1 + t, n0 + c
    if not weight or not spread or not null:
        return 0.0
    if not _readable(n1, round(n1 * p1), n0, round(n0 * p0)):
        return 0.0
    critical = half_width(null / (weight * weight), level, tau)
    return _NORMAL.cdf((effect - critical) / math.sqrt(spread / (weight * weight)))


def verdict_day(planned: Sequence[tuple[float, int, int]], base_rate: float,
                effect: float = DEFAULT_PLAUSIBLE_EFFECT, power: float = POWER,
                level: float = 0.95, tau: float = DEFAULT_PLAUSIBLE_EFFECT) -> float | None:
    """The first day on which the readout has `power` to say `works` for `effect`, counting
    each ticket (day its window ends, treatment, control) once it is evaluated; None when the
    tickets given never reach it. Tickets still in their window add information the
    prediction leaves out, so the readout tends to get there sooner, not later."""
    done: list[tuple[int, int]] = []
    for day, t, c in sorted(planned):
        done.append((t, c))
        if chance_of_works(done, base_rate, effect, level, tau) >= power:
            return day
    return None
