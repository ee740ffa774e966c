"""`tend demo-data`: stream engine.demo's customers and events into DIR/customers.csv and
DIR/events.jsonl, so a million customers never sit in memory; with `history`, also the same
customers as they stood at the start of earlier months, DIR/history/customers-<date>.csv,
for `tend snapshot --at <date>` (the churn model's history)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from random import Random

from engine.config import Config
from engine.demo import DemoSpec, customer_header, generate, history_months, history_row
from engine.errors import TendError


@dataclass(frozen=True)
class DemoFiles:
    customers: Path
    events: Path
    customer_count: int
    event_count: int
    history: tuple[Path, ...] = ()


def demo_spec(config: Config, customers: int, events: int, seed: int, at: dt.date) -> DemoSpec:
    return DemoSpec(customers=customers, events=events, seed=seed, at=at,
                    attributes=config.attributes, event_types=config.events,
                    channels=tuple(config.channels))


def write_demo(spec: DemoSpec, out: Path, history: int = 0) -> DemoFiles:
    months = history_months(spec.at, history)
    rng = Random(spec.seed + 2)  # its own stream: customers.csv stays the same for a seed
    try:
        out.mkdir(parents=True, exist_ok=True)
        customers, events = out / "customers.csv", out / "events.jsonl"
        past = tuple(out / "history" / f"customers-{day}.csv" for day in months)
        if past:
            past[0].parent.mkdir(exist_ok=True)
        count = 0
        with ExitStack() as files:
            writer = csv.writer(files.enter_context(
                customers.open("w", encoding="utf-8", newline="")), lineterminator="\n")
            efile = files.enter_context(events.open("w", encoding="utf-8"))
            writers = [csv.writer(files.enter_context(path.open("w", encoding="utf-8",
                                                                newline="")),
                                  lineterminator="\n") for path in past]
            for each in (writer, *writers):
                each.writerow(customer_header(spec))
            for row, row_events in generate(spec):
                writer.writerow(row)
                for event in row_events:
                    efile.write(json.dumps(event, separators=(",", ":")) + "\n")
                    count += 1
                for day, past_writer in zip(months, writers, strict=True):
                    then = history_row(rng, row, day)
                    if then is not None:
                        past_writer.writerow(then)
    except OSError as exc:
        raise TendError(f"{out}: cannot write demo data: {exc.strerror}") from None
    return DemoFiles(customers, events, spec.customers, count, past)
