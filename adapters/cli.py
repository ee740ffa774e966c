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


def _designer_paths(paths: tuple[Path, ...], *, cases_only: bool) -> list[Path]:
    """The named paths, or the library folders (TEND_RULES, TEND_WORKFLOWS, rules' tests/)."""
    from engine.library import rules_dir, tests_dir, workflows_dir

    if paths:
        return list(paths)
    if cases_only:
        return [tests_dir()]
    return [rules_dir(), workflows_dir(), *([tests_dir()] if tests_dir().is_dir() else [])]


def _checked(ctx: click.Context, paths: list[Path]) -> Any:
    """check_paths, printing every problem to stderr and exiting 1 if there is any."""
    from engine.library import check_paths

    checked = check_paths(paths, config_from(ctx))
    if checked.problems:
        for problem in checked.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(checked.problems)} problem(s)", err=True)
        sys.exit(1)
    return checked


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
@reports_errors
def validate(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check playbooks, workflows and test cases (files or folders; default: the library)."""
    checked = _checked(ctx, _designer_paths(paths, cases_only=False))
    for line in checked.summaries:
        click.echo(line)
    click.echo(f"{len(checked.summaries)} file(s) OK")


@main.command()
@click.pass_context
@reports_errors
def schema(ctx: click.Context) -> None:
    """Print the JSON Schema of playbooks, for editors (e.g. VS Code's YAML extension)."""
    import json

    from engine.library import installed_library
    from engine.playbook_schema import playbook_schema

    config = config_from(ctx)
    document = playbook_schema(config, installed_library(config).workflows)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
@reports_errors
def run_tests(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Run designer test cases (default: the tests/ folder beside the playbooks)."""
    from engine.caserun import run_case

    checked = _checked(ctx, _designer_paths(paths, cases_only=True))
    outcomes = [run_case(case, config_from(ctx)) for case in checked.cases]
    for outcome in outcomes:
        for line in outcome.lines():
            click.echo(line)
    failed = sum(1 for outcome in outcomes if not outcome.passed)
    click.echo(f"cases: {len(outcomes) - failed} passed, {failed} failed")
    if failed:
        sys.exit(1)


# --- preview and explain ---
