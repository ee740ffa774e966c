"""`tend` run in process, as the CLI tests drive it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from adapters.cli import main
from engine.folders import Folders
from support.folders import SHIPPED

CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


def run(runner: CliRunner, *args: str, config: Path = CONFIG, folders: Folders = SHIPPED,
        **invoke: Any) -> Result:
    """`tend --config <config> <args>` on the library `folders`, handed in where an operator
    sets TEND_RULES and TEND_WORKFLOWS. Whatever the input, the user gets a message: a
    traceback in the output, or an exception other than the exit, fails the test."""
    result = runner.invoke(main, ["--config", str(config), *args],
                           obj={"folders": folders}, **invoke)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result
