"""Customers CSV → typed value rows, in chunks, with every bad cell named by file:line:column.

A chunk is converted column by column: a column's cells go through one comprehension, and
values that repeat (dates, tags, opt-outs, booleans) are parsed once with
engine.formats.values.parse_cell and remembered. That keeps per-row Python work near what the csv
module itself costs. A column that fails the fast path is parsed cell by cell to name every
bad cell. Chunks are small so that a chunk's strings stay in the CPU cache across the column
passes (measured: large chunks were markedly slower).

adapters.intake.customer_import may run `parse_customers` in a child process
(adapters.intake.background).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

from adapters.intake.csv_cells import (
    Converted,
    Memo,
    attrs_json,
    date_text,
    encode_list,
    ids,
    memoized,
    nul_cells,
    numbers,
    opt_out_parser,
    strings,
)
from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.formats.values import FieldType, parse_cell
from engine.language.fields import CUSTOMER_FIELDS
from engine.limits import MAX_COLUMNS, MAX_TEXT

REQUIRED = ("id", "joined_on")
CHUNK_ROWS = 1024
# The csv module refuses longer cells before building them; the same bound as every other
# text (engine.limits). Set at import, so a parsing child process (adapters.intake.background) has
# it.
csv.field_size_limit(MAX_TEXT)

Kind = FieldType | str  # "id" and "opt_out" are strings with their own checks
TEXT_KINDS = ("id", FieldType.STRING, FieldType.LIST)  # stored as the text they were given


@dataclass(frozen=True)
class Layout:
    """Which file column (0-based) feeds which field or attribute; the rest are ignored."""

    width: int
    fields: tuple[tuple[int, str], ...]
    attrs: tuple[tuple[int, str, FieldType], ...]
    ignored: tuple[str, ...]

    def sources(self) -> Iterator[tuple[int, str, Kind]]:
        """The columns to convert: fields, then attributes (rows carry the attributes as
        one JSON text after the fields)."""
        for index, name in self.fields:
            yield index, name, name if name in ("id", "opt_out") else CUSTOMER_FIELDS[name]
        for index, name, ftype in self.attrs:
            yield index, name, ftype


@dataclass(frozen=True)
class Parsed:
    """One chunk: the good rows as value tuples (the layout's fields, then the attributes'
    JSON text if the file has attribute columns), how many rows were read and bad, and where."""

    rows: list[tuple[Any, ...]]
    read: int
    bad: int
    problems: list[Problem]
    position: int  # bytes of the file consumed so far, for progress


def open_csv(path: Path) -> tuple[IO[bytes], Any]:
    """The raw file (its position tells progress) and a csv reader over it."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ValidationError([Problem(str(path), 0, 0, f"cannot read: {exc.strerror}")]) \
            from None
    return raw, csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))


def read_layout(path: Path, config: Config) -> Layout:
    raw, reader = open_csv(path)
    with raw:
        return plan_columns(_read_header(reader, str(path)), config, str(path))


def parse_customers(path: Path, layout: Layout, channels: tuple[str, ...], missing: Any,
                    chunk_rows: int = CHUNK_ROWS) -> Generator[Parsed, None, None]:
    """Chunks of typed rows; an empty cell becomes `missing` (see adapters.intake.csv_cells)."""
    raw, reader = open_csv(path)
    with raw:
        _read_header(reader, str(path))
        parser = ColumnParser(layout, channels, missing)
        for rows, first, last, refused in _chunks(reader, chunk_rows, str(path)):
            parsed = parser.convert(rows, first, last, str(path), raw.tell())
            if refused is not None:
                parsed = dataclasses.replace(parsed, read=parsed.read + 1, bad=parsed.bad + 1,
                                             problems=[*parsed.problems, refused])
            yield parsed


def _read_header(reader: Any, name: str) -> list[str]:
    try:
        for row in reader:
            if row:
                return [cell.strip() for cell in row]
    except UnicodeDecodeError:
        raise ValidationError([undecodable(Path(name))]) from None
    except csv.Error as exc:
        raise ValidationError([Problem(name, reader.line_num, 0,
                                       f"cannot read the header: {exc}")]) from None
    raise ValidationError([Problem(name, 0, 0, "empty file: expected a header line with "
                                   "at least the columns id and joined_on")])


def undecodable(path: Path) -> Problem:
    """Where the file's first bytes that are not UTF-8 are, as line and cell.

    The text layer decodes blocks ahead of the csv reader, so the reader's line count when
    decoding fails can be hundreds of lines short; the file is read again line by line to
    find the place (UTF-8 never has a newline byte inside a character).
    """
    with path.open("rb") as raw:
        for number, line in enumerate(raw, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                try:
                    cell = len(next(csv.reader([line[:exc.start].decode("utf-8")]), [""]))
                except csv.Error:
                    cell = 0
                bad = line[exc.start:exc.end]
                return Problem(str(path), number, cell,
                               f"cannot read: bytes that are not UTF-8 ({bad!r})")
    return Problem(str(path), 0, 0, "cannot read: bytes that are not UTF-8")


def plan_columns(header: list[str], config: Config, name: str) -> Layout:
    """Which file column feeds which field or attribute; header mistakes stop the import."""
    if len(header) > MAX_COLUMNS:
        raise ValidationError([Problem(name, 1, MAX_COLUMNS + 1, f"expected at most "
                                       f"{MAX_COLUMNS} columns, got {len(header)}")])
    problems = []
    fields: list[tuple[int, str]] = []
    attrs: list[tuple[int, str, FieldType]] = []
    ignored: list[str] = []
    first_index: dict[str, int] = {}
    for index, column in enumerate(header):
        if not column:
            problems.append(Problem(name, 1, index + 1, "empty column name"))
        elif first_index.setdefault(column, index) != index:
            problems.append(Problem(name, 1, index + 1, f"duplicate column {column!r}"))
        elif column in CUSTOMER_FIELDS:
            fields.append((index, column))
        elif column in config.attributes:
            attrs.append((index, column, config.attributes[column]))
        else:
            ignored.append(column)
    problems.extend(Problem(name, 0, 0, f"missing required column {column!r}")
                    for column in REQUIRED if column not in first_index)
    if problems:
        raise ValidationError(problems)
    return Layout(len(header), tuple(fields), tuple(attrs), tuple(ignored))


Chunk = tuple[list[list[str]], int, int, Problem | None]


def _chunks(reader: Any, size: int, name: str) -> Iterator[Chunk]:
    """Rows with the first and last physical line they came from, and the row after them
    that the csv module refused (a cell over MAX_TEXT characters), if any: that row is bad,
    and reading goes on with the next line.

    `list.extend` keeps the rows an iterator gave before it raised, so the fast islice read
    loses none of them.
    """
    end = reader.line_num
    while True:
        rows: list[list[str]] = []
        refused = None
        try:
            rows.extend(islice(reader, size))
        except UnicodeDecodeError:
            raise ValidationError([undecodable(Path(name))]) from None
        except csv.Error as exc:
            reason = f"a cell longer than {MAX_TEXT} characters" \
                if "field limit" in str(exc) else str(exc)
            refused = Problem(name, reader.line_num, 0, f"cannot read the row: {reason}")
        if not rows and refused is None:
            return
        first, end = end + 1, reader.line_num
        yield rows, first, end - (refused is not None), refused


def _line_numbers(rows: list[list[str]], first: int, last: int) -> list[int]:
    """The line each row starts on: one line per row unless a quoted cell spans lines.

    Only computed for chunks that have something to report.
    """
    if last - first + 1 == len(rows):
        return list(range(first, last + 1))
    lines, line = [], first
    for row in rows:
        lines.append(line)
        line += 1 + sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in row)
    return lines


class ColumnParser:
    """Converts chunks column by column, remembering the parse of values that repeat."""

    def __init__(self, layout: Layout, channels: tuple[str, ...], missing: Any) -> None:
        self.layout = layout
        self.missing = missing
        self.memos: dict[str, Memo] = {}
        self.attr_memos: list[dict[Any, str]] = [{} for _ in layout.attrs]
        self.parsers: dict[Kind, Callable[[str], Any]] = {
            FieldType.DATE: date_text,
            FieldType.BOOL: lambda cell: parse_cell(cell, FieldType.BOOL),
            FieldType.LIST: lambda cell: encode_list(parse_cell(cell, FieldType.LIST)),
            "opt_out": opt_out_parser(channels),
        }

    def convert(self, rows: list[list[str]], first: int, last: int, name: str,
                position: int) -> Parsed:
        width = self.layout.width
        problems: list[Problem] = []
        lines: list[int] | None = None
        read = len(rows)
        if set(map(len, rows)) != {width}:
            lines = _line_numbers(rows, first, last)
            problems = [Problem(name, line, min(len(row), width) + 1,
                                f"expected {width} cells, got {len(row)}")
                        for row, line in zip(rows, lines, strict=True)
                        if row and len(row) != width]
            read = sum(1 for row in rows if row)  # blank lines are skipped, not read
            kept = [i for i, row in enumerate(rows) if len(row) == width]
            rows, lines = [rows[i] for i in kept], [lines[i] for i in kept]
        misshapen = len(problems)
        cells = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
        values: list[list[Any]] = []
        bad_rows: set[int] = set()
        for index, column, kind in self.layout.sources():
            converted, bad = self._column(column, kind, cells[index])
            if kind in TEXT_KINDS:
                bad = {**bad, **nul_cells(cells[index])}
            values.append(converted)
            if bad and lines is None:
                lines = _line_numbers(rows, first, last)
            for at, message in bad.items():
                bad_rows.add(at)
                problems.append(Problem(name, lines[at] if lines else 0, index + 1,
                                        f"column {column!r}: {message}"))
        if self.layout.attrs:
            fields = len(self.layout.fields)
            keys = [key for _, key, _ in self.layout.attrs]
            values[fields:] = [attrs_json(keys, values[fields:], self.attr_memos, self.missing)]
        good = list(zip(*values, strict=True))
        if bad_rows:
            good = [row for i, row in enumerate(good) if i not in bad_rows]
        return Parsed(good, read, misshapen + len(bad_rows), sorted(problems), position)

    def _column(self, column: str, kind: Kind, cells: tuple[str, ...]) -> Converted:
        if kind == "id":
            return ids(cells)
        if kind is FieldType.STRING:
            return strings(cells, self.missing)
        if kind is FieldType.NUMBER:
            return numbers(cells, self.missing)
        if column not in self.memos:
            self.memos[column] = Memo(self.parsers[kind], column == "joined_on", self.missing)
        return memoized(cells, self.memos[column])
