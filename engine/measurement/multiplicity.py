"""Champion/challenger read as one family of comparisons: each variant against control and
every pair of variants, corrected together so that a "winner" found by chance stays rare.

With k variants a ticket's results make m = k + k(k−1)/2 comparisons (3 with two variants, 6
with three). Read each at 5%, the chance that at least one of them crosses by luck when no
variant differs is well above 5% (17.5% for three variants with no effect in the seeded
trials of tests/unit/measurement/test_multiplicity.py), and a variant promoted on such a crossing is
a false winner. So:

- **Verdicts: Holm's step-down** (Holm, "A simple sequentially rejective multiple test
  procedure", Scand. J. Statist. 6:65–70, 1979). The m p-values of engine/measurement/uplift.py's
  pooled z-test are sorted, p₍ᵢ₎ is compared with α/(m − i + 1), and rejections stop at the first
  that fails; the adjusted p-value is max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎), and a
  comparison is `significant` when it is below α. The family-wise error rate stays ≤ α under
  any dependence between the comparisons (they share control and variants), and Holm rejects
  everything Bonferroni does and more. It applies because each ticket's variants are read
  once, as fixed-sample tests when its window has closed; the pooled readout's sequential
  bound (engine/measurement/sequential.py) is not involved.
- **Intervals: Bonferroni**, each at level 1 − α/m, so all m hold their truth at once with
  probability ≥ 1 − α. Holm has no matching intervals (its thresholds depend on the order of
  the p-values), so at the edge an interval may just hold 0 while Holm's verdict says
  significant, as the pooled z-test's verdict and Newcombe's interval may for one ticket.
- **The winner** is the variant that beats control and every other variant, each of those
  comparisons significant after correction; None when no variant does. Since a winner needs
  at least one rejection, the chance of naming a false one is at most α.

A comparison "too small to tell" (engine/measurement/uplift.py's cell rule) stays counted in m: the
family is fixed before the data are seen, which keeps the correction valid.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import ValidationError
from engine.measurement.uplift import NOT_SIGNIFICANT, SIGNIFICANT, TOO_SMALL, uplift

ALPHA = 0.05
METHOD = "holm"
INTERVALS = "bonferroni"

Counts = tuple[int, int]  # members, conversions


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's adjusted p-values, in the order given: a hypothesis is rejected at level α by
    the step-down procedure exactly when its adjusted p-value is below α."""
    m = len(p_values)
    for p in p_values:
        if not 0 <= p <= 1:
            raise ValidationError(f"expected p-values between 0 and 1, got {p}",
                                  field="p_value")
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def level_text(level: float) -> str:
    """A confidence level as written: '95%', '98.3%' (Bonferroni's levels are not round)."""
    shown = f"{level * 100:.1f}".rstrip("0").rstrip(".")
    return f"{shown}%"


def comparisons(k: int) -> int:
    """The family's size for k variants: each against control, and every pair."""
    return k + k * (k - 1) // 2


def family(control: Counts, variants: Mapping[str, Counts], alpha: float = ALPHA
           ) -> dict[str, Any]:
    """Every variant against control and every pair (`a` as treatment, `b` as control, in
    the order given), with Bonferroni intervals and Holm's verdicts: `{"vs_control": {name:
    uplift}, "pairwise": [{"a", "b", "uplift"}], "correction": {...}, "winner"}`. Each uplift
    is engine.measurement.uplift's fields at level 1 − α/m plus `p_adjusted`; its `verdict` is
    Holm's."""
    if not 0 < alpha < 1:
        raise ValidationError(f"must be between 0 and 1, got {alpha}", field="alpha")
    names = list(variants)
    pairs = list(itertools.combinations(names, 2))
    m = len(names) + len(pairs)
    level = 1 - alpha / m if m else 1 - alpha
    found = [uplift(*_args(variants[n], control), level=level) for n in names]
    found += [uplift(*_args(variants[a], variants[b]), level=level) for a, b in pairs]
    adjusted = holm([1.0 if u.p_value is None else u.p_value for u in found])
    shaped = [{**dataclasses.asdict(u), "p_adjusted": None if u.p_value is None else adj,
               "verdict": _verdict(u.verdict, adj, alpha)}
              for u, adj in zip(found, adjusted, strict=True)]
    vs_control = dict(zip(names, shaped[:len(names)], strict=True))
    pairwise = [{"a": a, "b": b, "uplift": u}
                for (a, b), u in zip(pairs, shaped[len(names):], strict=True)]
    return {"vs_control": vs_control, "pairwise": pairwise,
            "correction": {"method": METHOD, "intervals": INTERVALS, "comparisons": m,
                           "alpha": alpha, "level": level},
            "winner": winner(vs_control, pairwise)}


def winner(vs_control: Mapping[str, Mapping[str, Any]],
           pairwise: Sequence[Mapping[str, Any]]) -> str | None:
    """The variant significantly better than control and than every other variant."""
    for name, against in vs_control.items():
        if not _beats(against):
            continue
        if all(_beats(p["uplift"]) if p["a"] == name else _loses(p["uplift"])
               for p in pairwise if name in (p["a"], p["b"])):
            return name
    return None


def _beats(u: Mapping[str, Any]) -> bool:
    return bool(u["verdict"] == SIGNIFICANT and (u["absolute"] or 0) > 0)


def _loses(u: Mapping[str, Any]) -> bool:
    return bool(u["verdict"] == SIGNIFICANT and (u["absolute"] or 0) < 0)


def _args(a: Counts, b: Counts) -> tuple[int, int, int, int]:
    return a[0], a[1], b[0], b[1]


def _verdict(uncorrected: str, adjusted: float, alpha: float) -> str:
    if uncorrected == TOO_SMALL:
        return TOO_SMALL
    return SIGNIFICANT if adjusted < alpha else NOT_SIGNIFICANT
