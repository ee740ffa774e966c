"""`tend demo-data`: stream engine.demo's customers and events into DIR/customers.csv and
DIR/events.jsonl, so a million customers never sit in memory."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from engine.config import Config
from engine.demo import DemoSpec, customer_header, generate
from engine.errors import TendError


@dataclass(frozen=True)
class DemoFiles:
    customers: Path
    events: Path
    customer_count: int
    event_count: int


def demo_spec(config: Config, customers: int, events: int, seed: int, at: dt.date) -> DemoSpec:
    return DemoSpec(customers=customers, events=events, seed=seed, at=at,
                    attributes=config.attributes, event_types=config.events,
                    channels=tuple(config.channels))


def write_demo(spec: DemoSpec, out: Path) -> DemoFiles:
    try:
        out.mkdir(parents=True, exist_ok=True)
        customers, events = out / "customers.csv", out / "events.jsonl"
        count = 0
        with customers.open("w", encoding="utf-8", newline="") as cfile, \
                events.open("w", encoding="utf-8") as efile:
            writer = csv.writer(cfile, lineterminator="\n")
            writer.writerow(customer_header(spec))
            for row, row_events in generate(spec):
                writer.writerow(row)
                for event in row_events:
                    efile.write(json.dumps(event, separators=(",", ":")) + "\n")
                    count += 1
    except OSError as exc:
        raise TendError(f"{out}: cannot write demo data: {exc.strerror}") from None
    return DemoFiles(customers, events, spec.customers, count)
