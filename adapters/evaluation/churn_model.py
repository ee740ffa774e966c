"""`tend score churn`: train the churn model on snapshots, judge it, write `churn_score`.

The rows come from `customer_snapshots` (what was known at the start of each month); the only
thing read from today's `customers` rows for training is `churned_on`, for the label, and only
a churn dated after the snapshot counts (engine/measurement/churn.py). The latest labelled month is
held out: the model trained on the months before it is judged on it (AUC, top-decile lift, and the
seeds' naive Bayes as the floor). The model that writes the scores is then refitted on every
labelled month, and scores today's customers from today's values, the same features the
snapshots keep; customers who have churned already keep the score they had.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from random import Random
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import begin_writes, load_customers
from adapters.db.schema import customer_snapshots, customers
from adapters.evaluation.snapshots import event_counts
from engine.config import Config
from engine.errors import ValidationError
from engine.measurement import churn

CHUNK = 5_000
MAX_ROWS = 200_000  # training rows kept per month: plenty for a dozen features
SNAPSHOT_COLUMNS = ("tenure_days", "arpu", "balance", "usage_change_pct", "days_inactive",
                    "contract_days_left", "event_counts")


@dataclass(frozen=True)
class ChurnRun:
    trained_on: list[dt.date]  # months
    metrics: churn.Metrics
    signals: list[tuple[str, float]]  # of the model that wrote the scores
    scored: int


def labelled_months(conn: Connection, config: Config, horizon: int, today: dt.date,
                    max_rows: int = MAX_ROWS) -> list[churn.Month]:
    """Training rows per snapshot month whose label window has ended by `today`: all of
    them, or a uniform sample of `max_rows` in a larger month (memory stays bounded)."""
    types = churn.event_types(config.events)
    snap = customer_snapshots.c
    query = (sa.select(snap.month, snap.as_of, snap.churned_on,
                       *(snap[name] for name in SNAPSHOT_COLUMNS),
                       customers.c.churned_on.label("churned_now"))
             .join(customers, customers.c.id == snap.customer_id)
             .order_by(snap.month, snap.customer_id))
    grouped: dict[dt.date, tuple[list[list[float]], list[bool]]] = defaultdict(
        lambda: ([], []))
    seen: Counter[dt.date] = Counter()
    rng = Random(0)
    result = conn.execute(query, execution_options={"yield_per": CHUNK})
    for row in result.mappings():
        if churn.add_months(row["as_of"], horizon) > today:
            continue
        y = churn.label(row["as_of"], row["churned_on"], row["churned_now"], horizon)
        if y is None:
            continue
        rows, labels = grouped[row["month"]]
        seen[row["month"]] += 1
        if len(rows) < max_rows:
            rows.append(churn.features(dict(row), types))
            labels.append(y)
            continue
        slot = rng.randrange(seen[row["month"]])  # a uniform sample of the month's rows
        if slot < max_rows:
            rows[slot], labels[slot] = churn.features(dict(row), types), y
    return [churn.Month(month, rows, labels) for month, (rows, labels) in sorted(grouped.items())]


def score_churn(conn: Connection, config: Config, now: dt.datetime,
                horizon: int = 2) -> ChurnRun:
    """Train, judge on the held-out month, and write today's scores. SQLite's write lock is
    taken only to write the scores, so training does not stop other writers."""
    if not 1 <= horizon <= 12:
        raise ValidationError(f"expected 1 to 12 months, got {horizon}", field="--horizon")
    today = config.today(now)
    months = labelled_months(conn, config, horizon, today)
    churn.check_months(months, horizon, today)
    metrics = churn.evaluate(months[:-1], months[-1])
    model = churn.fit(months)
    return ChurnRun([m.month for m in months[:-1]], metrics,
                    churn.signals(model, churn.event_types(config.events)),
                    _write_scores(conn, config, model, now))


def _write_scores(conn: Connection, config: Config, model: Any, now: dt.datetime) -> int:
    begin_writes(conn)
    types = churn.event_types(config.events)
    today = config.today(now)
    counts = event_counts(conn, now)
    ids = list(conn.scalars(sa.select(customers.c.id).where(customers.c.churned_on.is_(None))
                            .order_by(customers.c.id)))
    update = (customers.update().where(customers.c.id == sa.bindparam("cid"))
              .values(churn_score=sa.bindparam("score"), updated_at=now))
    for start in range(0, len(ids), CHUNK):
        records = list(load_customers(conn, config, ids[start:start + CHUNK]).values())
        rows = [churn.features(churn.snapshot_values(c, counts.get(c["id"], {}), today), types)
                for c in records]
        predicted = churn.scores(model, rows)
        conn.execute(update, [{"cid": c["id"], "score": round(p, 4)}
                              for c, p in zip(records, predicted, strict=True)])
    return len(ids)
