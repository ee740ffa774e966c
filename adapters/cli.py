"""`tend`: the command line. Each command parses its arguments and calls one function elsewhere.

User mistakes surface as `TendError`s and are printed as messages with exit code 1, never as
tracebacks; click itself reports bad arguments with exit code 2.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.config import Config, load_config
from engine.errors import TendError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn a TendError into its message on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TendError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def config_from(ctx: click.Context) -> Config:
    """The config, loaded once per invocation (TEND_CONFIG or --config)."""
    obj = ctx.ensure_object(dict)
    if "config" not in obj:
        obj["config"] = load_config(obj.get("config_path"))
    config: Config = obj["config"]
    return config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="config.yaml to use (default: $TEND_CONFIG or ./config.yaml)")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """Tend: declarative retention playbooks, compiled to rules, run as approved tickets."""
    ctx.ensure_object(dict)["config_path"] = config_path


# --- data commands: db, import, demo-data ---


# --- designer commands: validate, schema, test ---


# --- preview and explain ---
