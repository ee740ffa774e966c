"""The churn model's pure parts: labels that only look after the snapshot, features, and a
planted signal that the model must find on a later month."""

from __future__ import annotations

import datetime as dt
import math
from random import Random

import pytest

from engine.errors import TendError
from engine.measurement import churn

AS_OF = dt.date(2026, 5, 1)
TYPES = ("competitor_call", "zero_usage")


def test_label_counts_only_churn_after_the_snapshot_within_the_horizon() -> None:
    assert churn.label(AS_OF, None, None, 2) is False
    assert churn.label(AS_OF, None, dt.date(2026, 5, 2), 2) is True
    assert churn.label(AS_OF, None, dt.date(2026, 7, 1), 2) is True
    assert churn.label(AS_OF, None, dt.date(2026, 7, 2), 2) is False
    # churned at the snapshot already: not at risk, not a training row
    assert churn.label(AS_OF, dt.date(2026, 4, 3), dt.date(2026, 4, 3), 2) is None
    # a churn dated before the snapshot but recorded later is not a churn "after" it
    assert churn.label(AS_OF, None, dt.date(2026, 4, 20), 2) is None


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert churn.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert churn.add_months(dt.date(2027, 12, 31), 2) == dt.date(2028, 2, 29)
    assert churn.add_months(dt.date(2026, 11, 15), 2) == dt.date(2027, 1, 15)


def test_features_flag_missing_values_and_count_events() -> None:
    customer = {"joined_on": dt.date(2025, 5, 1), "arpu": None, "balance": 10.0,
                "usage_change_pct": -40.0, "last_active_on": dt.date(2026, 4, 21),
                "contract_end": None, "churned_on": None}
    values = churn.snapshot_values(customer, {"zero_usage": 3}, AS_OF)
    assert values["tenure_days"] == 365 and values["days_inactive"] == 10
    row = dict(zip(churn.feature_names(TYPES), churn.features(values, TYPES), strict=True))
    assert row["arpu"] == 0 and row["arpu_missing"] == 1
    assert row["no_contract"] == 1 and row["usage_missing"] == 0
    assert row["events_zero_usage"] == pytest.approx(math.log1p(3))
    assert row["events_competitor_call"] == 0


def _month(rng: Random, month: dt.date, n: int) -> churn.Month:
    """Customers whose usage fell and who call competitors churn more: the planted signal."""
    rows, labels = [], []
    for _ in range(n):
        usage = rng.uniform(-100, 60)
        calls = rng.choice((0, 0, 0, 1, 2))
        values = {"tenure_days": rng.randrange(40, 3000), "arpu": rng.uniform(10, 400),
                  "balance": rng.uniform(-50, 500), "usage_change_pct": usage,
                  "days_inactive": rng.randrange(0, 60), "contract_days_left": None,
                  "event_counts": {"competitor_call": calls} if calls else None}
        risk = 1 / (1 + math.exp(-(-3.0 - 0.035 * usage + 0.8 * calls)))
        rows.append(churn.features(values, TYPES))
        labels.append(rng.random() < risk)
    return churn.Month(month, rows, labels)


def test_a_planted_signal_ranks_well_on_the_held_out_month() -> None:
    rng = Random(7)
    months = [_month(rng, dt.date(2026, m, 1), 600) for m in (3, 4, 5)]
    metrics = churn.evaluate(months[:-1], months[-1])
    assert metrics.month == dt.date(2026, 5, 1) and metrics.customers == 600
    assert metrics.auc > 0.75
    assert metrics.top_decile_lift > 2
    assert metrics.floor_auc > 0.6  # naive Bayes finds it too, less well or as well
    strongest = dict(churn.signals(churn.fit(months), TYPES, top=2))
    assert strongest.keys() == {"usage_change_pct", "events_competitor_call"}
    assert strongest["usage_change_pct"] < 0 < strongest["events_competitor_call"]


def test_noise_alone_scores_near_chance() -> None:
    rng = Random(3)
    months = [_month(rng, dt.date(2026, m, 1), 600) for m in (3, 4)]
    shuffled = churn.Month(months[1].month, months[1].rows,
                           rng.sample(months[1].labels, len(months[1].labels)))
    assert abs(churn.evaluate(months[:1], shuffled).auc - 0.5) < 0.1


def test_training_refuses_too_little_history_and_says_what_to_do() -> None:
    one = _month(Random(1), dt.date(2026, 5, 1), 50)
    with pytest.raises(TendError, match=r"at least 2 months.*found 1 \(2026-05\).*tend snapshot"):
        churn.check_months([one], 2, dt.date(2026, 11, 1))
    with pytest.raises(TendError, match="found 0 \\(none\\)"):
        churn.check_months([], 2, dt.date(2026, 11, 1))
    nobody = churn.Month(dt.date(2026, 6, 1), one.rows, [False] * len(one.rows))
    with pytest.raises(TendError, match="every customer of the 2026-06 snapshot stayed"):
        churn.check_months([one, nobody], 2, dt.date(2026, 11, 1))
