"""Hostile import files on both backends: bounded work, the bad row or line named, the good
ones still loaded (docs/DATA.md, "Input limits")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from support.hostile import bounded

from adapters.db.engines import load_customer, make_engine
from adapters.intake.customer_import import CustomerImport, import_customers
from adapters.intake.event_import import import_events
from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.limits import MAX_COLUMNS, MAX_DEPTH, MAX_TEXT

NOW = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def load(engine: Engine, config: Config, path: Path, **options: Any,
         ) -> tuple[CustomerImport, list[str]]:
    problems: list[Problem] = []
    with bounded():
        result = import_customers(engine, config, path, report=problems.append, **options,
                                  now=NOW)
    return result, [str(dataclasses.replace(p, file=Path(p.file).name)) for p in problems]


def stored(engine: Engine, config: Config, cid: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return load_customer(conn, config, cid)


@pytest.mark.parametrize("background", [False, True])
def test_an_over_long_cell_is_a_bad_row_and_the_next_rows_load(
        engine: Engine, config: Config, tmp_path: Path, background: bool) -> None:
    path = tmp_path / "long.csv"
    path.write_text("id,joined_on,name\nc1,2024-01-01,a\n"
                    f"c2,2024-01-01,{'x' * (MAX_TEXT + 1)}\nc3,2024-01-01,{'y' * MAX_TEXT}\n"
                    "c4,2024-01-01,b\n")
    result, problems = load(engine, config, path, background=background)
    assert problems == [f"long.csv:3:0: cannot read the row: a cell longer than {MAX_TEXT} "
                        "characters"]
    assert (result.read, result.inserted, result.bad) == (4, 3, 1)
    assert stored(engine, config, "c2") is None
    assert (stored(engine, config, "c3") or {})["name"] == "y" * MAX_TEXT
    assert (stored(engine, config, "c4") or {})["name"] == "b"


@pytest.mark.parametrize("background", [False, True])
def test_bytes_that_are_not_utf8_are_named_at_their_line_and_cell(
        engine: Engine, config: Config, tmp_path: Path, background: bool) -> None:
    """The text layer decodes ahead: a GBK name on line 3,002 was reported at 2730:0."""
    path = tmp_path / "gbk.csv"
    path.write_bytes(b"id,joined_on,name\n" + b"c,2024-01-01,name\n" * 3000
                     + "g,2024-01-01,\u5f20\u4e09\n".encode("gbk"))
    with pytest.raises(ValidationError) as caught:
        load(engine, config, path, background=background)
    assert str(caught.value) == \
        f"{path}:3002:3: cannot read: bytes that are not UTF-8 (b'\\xd5')"
    assert stored(engine, config, "c") is None


def test_a_header_of_100000_columns_is_refused_at_once(engine: Engine, config: Config,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("id,joined_on," + ",".join(f"x{i}" for i in range(100_000)) + "\n")
    with pytest.raises(ValidationError) as caught:
        load(engine, config, path)
    assert str(caught.value) == f"{path}:1:{MAX_COLUMNS + 1}: expected at most " \
        f"{MAX_COLUMNS} columns, got 100002"


def test_duplicate_columns_of_the_widest_header_are_still_named(
        engine: Engine, config: Config, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    columns = [f"x{i}" for i in range(MAX_COLUMNS - 3)]
    path.write_text(",".join(["id", "joined_on", *columns, "x5"]) + "\n")
    with pytest.raises(ValidationError) as caught:
        load(engine, config, path)
    assert str(caught.value) == f"{path}:1:{MAX_COLUMNS}: duplicate column 'x5'"


def test_a_row_of_100000_fields_is_one_bad_row(engine: Engine, config: Config,
                                               tmp_path: Path) -> None:
    path = tmp_path / "row.csv"
    path.write_text("id,joined_on\nc1,2024-01-01\n" + "," * 99_999 + "\nc2,2024-01-01\n")
    result, problems = load(engine, config, path)
    assert problems == ["row.csv:3:3: expected 2 cells, got 100000"]
    assert (result.read, result.inserted, result.bad) == (3, 2, 1)


def test_an_event_line_nested_3000_deep_is_one_bad_line(engine: Engine, config: Config,
                                                        tmp_path: Path) -> None:
    good = {"customer_id": "c1", "type": "arrears", "at": "2026-05-01", "data": {"amount": 1}}
    deep = '{"customer_id": "c1", "data": ' + "[" * 3000 + "]" * 3000 + "}"
    shallow = {**good, "data": {"amount": json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)}}
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([json.dumps(good), deep, json.dumps(shallow), json.dumps(good)])
                    + "\n")
    problems: list[Problem] = []
    result = import_events(engine, config, path, report=problems.append, now=NOW)
    assert [str(dataclasses.replace(p, file="")) for p in problems][:2] == [
        f"JSON nested deeper than {MAX_DEPTH} levels",
        f"JSON nested deeper than {MAX_DEPTH} levels at data.amount" + ".0" * (MAX_DEPTH - 2),
    ]
    assert [p.line for p in problems] == [2, 3]
    assert (result.read, result.bad, result.stored) == (4, 2, 2)
