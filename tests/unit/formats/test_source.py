"""The one YAML reader bounds what a file may cost before anything walks it: alias bombs,
deep nesting, structures that contain themselves and oversized files are refused at their
place, quickly, for every caller (the CLI, the API and the console read drafts through it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli import run
from support.hostile import BOMB, BOMB_LINE, bounded

from engine.errors import ValidationError
from engine.formats.source import load_yaml
from engine.limits import MAX_DEPTH, MAX_YAML_BYTES


def problem(text: str) -> str:
    with bounded(), pytest.raises(ValidationError) as caught:
        load_yaml(text, "p.yaml")
    return str(caught.value)


def test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    assert problem(BOMB).startswith(f"p.yaml:{BOMB_LINE}:")
    assert "more than 10000 values (aliases count as what they repeat)" in problem(BOMB)


def test_aliases_that_stay_small_still_load() -> None:
    root = load_yaml("base: &b {sms: 1}\nuse: *b\nmerged: {<<: *b, call: 2}\n", "p.yaml").root
    assert root["use"] == {"sms": 1} and dict(root["merged"]) == {"sms": 1, "call": 2}


def test_deep_nesting_is_refused_where_it_gets_too_deep() -> None:
    text = "a:\n" + " [\n" * 5000 + " ]\n" * 5000
    assert problem(text) == f"p.yaml:{1 + MAX_DEPTH}:2: nested deeper than {MAX_DEPTH} levels"
    shallow = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert load_yaml(shallow, "p.yaml").root["a"] is not None


def test_a_structure_that_contains_itself_is_refused() -> None:
    assert problem("a: &x [1, *x]\n") == \
        "p.yaml:1:11: alias *x inside its own anchor (a recursive structure)"


def test_an_oversized_file_is_refused_before_parsing() -> None:
    text = "a: [" + "1, " * (MAX_YAML_BYTES // 3) + "]\n"
    assert problem(text) == f"p.yaml:1:1: larger than {MAX_YAML_BYTES} bytes"


def test_tend_validate_refuses_the_bomb_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    result = run(CliRunner(), "validate", str(path))
    assert result.exit_code == 1
    assert f"{path}:{BOMB_LINE}:" in result.stderr and "more than 10000 values" in result.stderr
