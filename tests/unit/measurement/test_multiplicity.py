"""Champion/challenger corrected as one family (engine/measurement/multiplicity.py): Holm's adjusted
p-values, Bonferroni's intervals, the winner, and, over seeded trials with three variants and
no true effect, a false winner (or any false `significant`) in at most 5% of them."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ValidationError
from engine.measurement.multiplicity import comparisons, family, holm, level_text
from engine.measurement.promotion import reason_of
from engine.measurement.uplift import SIGNIFICANT, uplift

TRIALS = 400  # about 1.5 s
ALPHA = 0.05


def test_holm_adjusts_step_down_and_keeps_the_order_given() -> None:
    # Holm's own arithmetic: sorted 0.01, 0.02, 0.04 -> 3*0.01, 2*0.02, 1*0.04 (running max)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert holm([0.9, 0.3]) == pytest.approx([0.9, 0.6])  # never below a smaller one
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.7, 0.6, 0.01]) == pytest.approx([1.0, 1.0, 0.03])
    assert holm([]) == []
    with pytest.raises(ValidationError, match="between 0 and 1"):
        holm([1.2])


def test_the_family_is_every_comparison_with_bonferroni_intervals() -> None:
    assert [comparisons(k) for k in (2, 3, 4)] == [3, 6, 10]
    found = family((500, 25), {"plain": (500, 30), "credit": (500, 70), "call": (500, 24)})
    fixed = found["correction"]
    assert fixed["comparisons"] == 6 and fixed["level"] == pytest.approx(1 - 0.05 / 6)
    credit = found["vs_control"]["credit"]
    raw = uplift(500, 70, 500, 25, level=1 - 0.05 / 6)
    assert (credit["low"], credit["high"]) == pytest.approx((raw.low, raw.high))
    assert credit["p_adjusted"] >= credit["p_value"]
    assert credit["verdict"] == SIGNIFICANT
    assert found["winner"] == "credit"
    assert level_text(credit["level"]) == "99.2%" and level_text(0.95) == "95%"


def test_a_variant_that_only_beats_control_is_no_winner() -> None:
    # both challengers beat control clearly but not each other
    found = family((1000, 50), {"a": (1000, 120), "b": (1000, 125)})
    assert {n: u["verdict"] for n, u in found["vs_control"].items()} == {
        "a": SIGNIFICANT, "b": SIGNIFICANT}
    assert found["pairwise"][0]["uplift"]["verdict"] == "not significant"
    assert found["winner"] is None


def test_a_borderline_difference_is_significant_alone_but_not_in_a_family_of_six() -> None:
    alone = uplift(2000, 130, 2000, 100)  # p ≈ 0.04
    assert alone.verdict == SIGNIFICANT
    found = family((2000, 100), {"x": (2000, 130), "y": (2000, 101), "z": (2000, 99)})
    assert found["vs_control"]["x"]["verdict"] == "not significant"
    assert found["winner"] is None


def _trial(rng: np.random.Generator, members: int = 400, rate: float = 0.1
           ) -> tuple[dict[str, object], bool]:
    """Three variants and a control, all converting at `rate`: the corrected family, and
    whether any comparison read at 5% on its own would have said significant."""
    control = (members, int(rng.binomial(members, rate)))
    arms = {name: (members, int(rng.binomial(members, rate))) for name in ("a", "b", "c")}
    found = family(control, arms, ALPHA)
    raw = [u["p_value"] for u in found["vs_control"].values()]
    raw += [p["uplift"]["p_value"] for p in found["pairwise"]]
    return found, any(p is not None and p < ALPHA for p in raw)


def test_with_no_true_effect_a_false_winner_stays_under_alpha() -> None:
    """400 seeded trials of three equal variants against an equal control: Holm's correction
    names a winner, or calls any of the 6 comparisons significant, in at most 5% of them
    (seed 2026: 11 of 400 say anything, none names a winner), while reading each comparison
    at 5% on its own would have found something in 70 of them (17.5%)."""
    rng = np.random.default_rng(2026)
    winners = anything = uncorrected = 0
    for _ in range(TRIALS):
        found, raw = _trial(rng)
        winners += found["winner"] is not None
        anything += any(u["verdict"] == SIGNIFICANT for u in found["vs_control"].values()) or \
            any(p["uplift"]["verdict"] == SIGNIFICANT for p in found["pairwise"])
        uncorrected += raw
    assert winners <= anything <= ALPHA * TRIALS
    assert uncorrected > 2 * ALPHA * TRIALS  # the correction is what keeps it down


def test_the_promotion_reason_says_whether_the_variant_is_the_corrected_winner() -> None:
    found = family((500, 25), {"plain": (500, 30), "credit": (500, 70)})
    split = {"variants": [{"name": n, "vs_control": u} for n, u in found["vs_control"].items()],
             "pairwise": found["pairwise"], "correction": found["correction"],
             "winner": found["winner"]}
    won = reason_of("credit", 7, split, "rita", None)
    assert won.startswith("promoted variant credit from ticket 7: +9.0 pts (98.3% CI ")
    assert won.endswith("vs plain; the winner at 5% (Holm, 3 comparisons); by rita")
    lost = reason_of("plain", 7, split, "rita", "cheaper")
    assert "; not the winner at 5% (Holm, 3 comparisons; winner: credit); by rita: cheaper" \
        in lost
