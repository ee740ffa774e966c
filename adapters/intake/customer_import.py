"""`tend import customers FILE.csv`: stream a CSV into the customers table, upserting by id.

Parsing (adapters.intake.customer_csv) and writing (adapters.intake.customer_store) are separate
stages.
For a large file the parsing runs in a child process (adapters.intake.background) and hands over
chunks of typed rows while this process writes the previous chunk, so two cores parse and
write at once: the import benchmark holds us to at most twice the time of a raw bulk
insert that does neither validation nor indexing.

Decisions DESIGN.md leaves open:
- The whole file is one transaction: a file-level error (say, bytes that are not UTF-8 halfway
  through) writes nothing, and `strict` rolls back when any row was bad.
- Duplicate ids in one file: the last row wins; rows after the first for an id count as updates.
- Blank lines are skipped. A row with too few or too many cells is a bad row.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from adapters.db.engines import refresh_statistics
from adapters.intake.assignment import assign_after_import
from adapters.intake.background import stream_from_child
from adapters.intake.customer_csv import Parsed, parse_customers, read_layout
from adapters.intake.customer_store import open_writer
from engine.config import Config
from engine.errors import Problem

BACKGROUND_MIN_BYTES = 16 << 20  # below this, starting a process costs more than it saves

Report = Callable[[Problem], None]
Progress = Callable[[int, int], None]


@dataclass
class CustomerImport:
    """What an import did, for the summary; bad rows went to `report` as they were found."""

    file: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    bad: int = 0
    ignored_columns: tuple[str, ...] = ()
    written: bool = False
    assigned: int = 0  # customers given a manager by the assignment rules after the import

    def summary(self) -> list[str]:
        lines = [f"{self.file}: {self.read} rows read, {self.inserted} inserted, "
                 f"{self.updated} updated, {self.bad} bad"]
        if self.ignored_columns:
            lines.append(f"{self.file}: ignored undeclared columns (not stored): "
                         + ", ".join(self.ignored_columns))
        if not self.written:
            lines.append(f"{self.file}: nothing written (--strict and {self.bad} bad rows)")
        if self.assigned:
            lines.append(f"{self.file}: {self.assigned} customer(s) assigned a manager "
                         f"(config.yaml assignment:)")
        return lines


def import_customers(engine: Engine, config: Config, path: Path, *, report: Report,
                     strict: bool = False, progress: Progress | None = None,
                     background: bool | None = None, now: dt.datetime) -> CustomerImport:
    """Upsert every good row of `path`; each bad cell goes to `report` as file:line:column.

    `background` parses in a child process; by default it does for files of 16 MB and more
    on a machine with two cores or more.
    """
    layout = read_layout(path, config)
    size = path.stat().st_size
    if background is None:
        background = size >= BACKGROUND_MIN_BYTES and _spare_core()
    result = CustomerImport(str(path), ignored_columns=layout.ignored)
    channels = tuple(config.channels)
    with _gc_paused(), open_writer(engine, layout, now) as writer:
        chunks: Generator[Parsed, None, None] = stream_from_child(
            "adapters.intake.customer_csv:parse_customers", path, layout, channels, writer.missing,
        ) if background else parse_customers(path, layout, channels, writer.missing)
        with closing(chunks):  # on an error, stop the parsing child now
            for chunk in chunks:
                if not result.read:
                    writer.expect(chunk.read * size // max(chunk.position, 1))
                for problem in chunk.problems:
                    report(problem)
                result.read += chunk.read
                result.bad += chunk.bad
                if not (strict and result.bad):
                    writer.write(chunk.rows)
                if progress is not None:
                    progress(chunk.position, size)
        result.written = not (strict and result.bad)
        result.inserted = writer.finish(commit=result.written)
    if result.written:
        result.updated = result.read - result.bad - result.inserted
        refresh_statistics(engine, "customers")
        result.assigned = assign_after_import(engine, config, now)
    return result


def _spare_core() -> bool:
    """Two cores or more: parse in a child while this process writes.

    The one-minute load average was tried as a gate, but it lags: right after any other
    CPU-bound job it reads about 1 on an idle machine and the import ran 1.6x slower.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1
    return cores >= 2


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Chunks are millions of short-lived tuples without reference cycles, which reference
    counting frees; letting the cyclic collector scan them too made the import twice as slow."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
