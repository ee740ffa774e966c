"""The churn model: features from a monthly snapshot, the label from churn after it.

A customer's row today already knows who churned (their usage fell, their score was set by
hand, `churned_on` is filled), so a model trained on today's rows learns the answer, not the
warning signs. Training rows therefore come from snapshots: the values a customer had at the
start of month M (adapters/evaluation/snapshots.py), labelled 1 when `churned_on` falls in the
`horizon`
months after that day. Customers already churned at the snapshot are not at risk and are left
out, as are months whose horizon has not ended yet (their labels are still unknown).

The seeds' naive Bayes (002: P(X|C)·P(C) over a few monthly attributes) is kept as the floor;
the model is a logistic regression over standardized features, which ranks better when
features are correlated (usage and inactivity are). Both are scored on a held-out later month.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from engine.errors import TendError

EVENT_WINDOW = dt.timedelta(days=30)  # events counted before a snapshot
NOT_BEHAVIOUR = frozenset({"task_result"})  # our own contacts: they say who we targeted
MIN_MONTHS = 2  # one to train on, a later one to judge the model on
TOP_SHARE = 0.10


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _days(later: dt.date | None, earlier: dt.date) -> int | None:
    return None if later is None else (later - earlier).days


def snapshot_values(customer: Mapping[str, Any], counts: Mapping[str, int],
                    as_of: dt.date) -> dict[str, Any]:
    """The snapshot columns of one customer record (docs/ARCHITECTURE.md) on day `as_of`."""
    last_active = customer.get("last_active_on")
    return {
        "tenure_days": (as_of - customer["joined_on"]).days,
        "arpu": customer.get("arpu"),
        "balance": customer.get("balance"),
        "usage_change_pct": customer.get("usage_change_pct"),
        "days_inactive": None if last_active is None else (as_of - last_active).days,
        "contract_days_left": _days(customer.get("contract_end"), as_of),
        "churned_on": customer.get("churned_on"),
        "event_counts": dict(counts) or None,
    }


def event_types(config_events: Mapping[str, Any]) -> tuple[str, ...]:
    """The event types that describe the customer's behaviour, in a fixed order."""
    return tuple(sorted(t for t in config_events if t not in NOT_BEHAVIOUR))


def feature_names(types: Sequence[str]) -> list[str]:
    return ["log_tenure", "arpu", "arpu_missing", "balance", "usage_change_pct",
            "usage_missing", "days_inactive", "inactive_missing", "contract_days_left",
            "no_contract", *(f"events_{t}" for t in types)]


def features(values: Mapping[str, Any], types: Sequence[str]) -> list[float]:
    """One numeric row from snapshot values; a missing value is 0 plus a flag saying so."""
    def num(key: str, low: float, high: float) -> tuple[float, float]:
        value = values.get(key)
        if value is None:
            return 0.0, 1.0
        return min(high, max(low, float(value))), 0.0

    arpu, arpu_missing = num("arpu", 0, 5000)
    usage, usage_missing = num("usage_change_pct", -100, 500)
    inactive, inactive_missing = num("days_inactive", 0, 730)
    contract, no_contract = num("contract_days_left", -365, 1095)
    balance, _ = num("balance", -10_000, 100_000)
    counts = values.get("event_counts") or {}
    return [math.log1p(max(0, values["tenure_days"])), arpu, arpu_missing, balance, usage,
            usage_missing, inactive, inactive_missing, contract, no_contract,
            *(math.log1p(counts.get(t, 0)) for t in types)]


def label(as_of: dt.date, churned_then: dt.date | None, churned_now: dt.date | None,
          horizon: int) -> bool | None:
    """Churned within `horizon` months after `as_of`; None when the row is not a training row
    (already churned at the snapshot, or a churn dated before it that was recorded later)."""
    if churned_then is not None:
        return None
    if churned_now is None:
        return False
    if churned_now <= as_of:
        return None
    return churned_now <= add_months(as_of, horizon)


@dataclass(frozen=True)
class Month:
    """The labelled training rows of one snapshot month."""

    month: dt.date
    rows: list[list[float]]
    labels: list[bool]


@dataclass(frozen=True)
class Metrics:
    month: dt.date
    customers: int
    churn_rate: float
    auc: float
    floor_auc: float  # the naive Bayes floor on the same month
    top_decile_lift: float  # churn rate among the top-scored tenth over the month's rate


def check_months(months: Sequence[Month], horizon: int, today: dt.date) -> None:
    """Refuse to train on too little history, saying what is missing."""
    if len(months) < MIN_MONTHS:
        have = ", ".join(m.month.strftime("%Y-%m") for m in months) or "none"
        raise TendError(
            f"churn model: needs snapshots of at least {MIN_MONTHS} months whose {horizon}-month "
            f"label window has ended by {today} (one to train on, a later one to test on); "
            f"found {len(months)} ({have}). Take one each month with `tend snapshot` (the "
            "scheduler does on its first tick of a month).")
    for m in months:
        if len(set(m.labels)) < 2:
            what = "churned" if m.labels and m.labels[0] else "stayed"
            raise TendError(f"churn model: every customer of the {m.month:%Y-%m} snapshot "
                            f"{what} within {horizon} months; nothing to learn from or test on")


def fit(months: Sequence[Month]) -> Pipeline:
    rows = [row for m in months for row in m.rows]
    labels = [y for m in months for y in m.labels]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(np.asarray(rows), np.asarray(labels))
    return model


def _floor(months: Sequence[Month]) -> GaussianNB:
    floor = GaussianNB()
    floor.fit(np.asarray([row for m in months for row in m.rows]),
              np.asarray([y for m in months for y in m.labels]))
    return floor


def signals(model: Pipeline, types: Sequence[str], top: int = 4) -> list[tuple[str, float]]:
    """The features that move the score most: coefficients on standardized features, so
    they compare (positive: more of it, more churn)."""
    weights = zip(feature_names(types), model[-1].coef_[0], strict=True)
    return sorted(((name, float(w)) for name, w in weights), key=lambda nw: -abs(nw[1]))[:top]


def scores(model: Pipeline | GaussianNB, rows: Sequence[Sequence[float]]) -> list[float]:
    """The probability of churn within the horizon, per row."""
    if not rows:
        return []
    return [float(p) for p in model.predict_proba(np.asarray(rows))[:, 1]]


def evaluate(train: Sequence[Month], test: Month) -> Metrics:
    """Train on the earlier months, judge on the later one (ranking: AUC and top-decile lift)."""
    model = fit(train)
    predicted = scores(model, test.rows)
    labels = np.asarray(test.labels)
    rate = float(labels.mean())
    top = max(1, math.ceil(len(predicted) * TOP_SHARE))
    order = np.argsort(-np.asarray(predicted), kind="stable")[:top]
    return Metrics(test.month, len(labels), rate, float(roc_auc_score(labels, predicted)),
                   float(roc_auc_score(labels, scores(_floor(train), test.rows))),
                   float(labels[order].mean()) / rate)
