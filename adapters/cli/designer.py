"""`tend validate`, `schema`, `test`, `preview`, `explain`: the designer's commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from adapters.cli.base import (
    clock_of,
    config_from,
    engine_for,
    main,
    reports_errors,
)
from adapters.cli.words import Speech, lang_option
from engine.config import Config
from engine.folders import Folders
from engine.formats.values import given_instant

if TYPE_CHECKING:
    from adapters.tickets.designer import Preview

SAMPLE = 10  # treatment ids a preview shows, spread over the treatment


def _designer_paths(folders: Folders, paths: tuple[Path, ...], *,
                    cases_only: bool) -> list[Path]:
    """The named paths, or the library's folders (rules, workflows, offers, rules' tests/)."""
    if paths:
        return list(paths)
    if cases_only:
        return [folders.tests]
    return [folders.rules, folders.workflows,
            *([folders.offers] if folders.offers.is_dir() else []),
            *([folders.tests] if folders.tests.is_dir() else [])]


def _checked(ctx: click.Context, paths: list[Path], speech: Speech) -> Any:
    """check_paths, printing every problem to stderr (in `speech`'s language) and exiting 1
    if there is any."""
    from engine.playbooks.library import check_paths

    checked = check_paths(paths, config_from(ctx))
    if checked.problems:
        for problem in checked.problems:
            click.echo(speech.problem(problem), err=True)
        click.echo(speech.problems(len(checked.problems)), err=True)
        sys.exit(1)
    return checked


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@lang_option("the problems, warnings and lines of good files")
@click.pass_context
@reports_errors
def validate(ctx: click.Context, paths: tuple[Path, ...], lang: str | None) -> None:
    """Check playbooks, workflows and test cases (files or folders; default: the library)."""
    speech = Speech.chosen(lang)
    checked = _checked(ctx, _designer_paths(config_from(ctx).folders, paths, cases_only=False),
                       speech)
    for line in checked.summaries:
        click.echo(speech.summary(line))
    # the exit status stays 0: engine/playbooks/policy_fit.py says why
    for warning in checked.warnings:
        click.echo(speech.problem(warning), err=True)
    click.echo(speech.files_ok(len(checked.summaries), len(checked.warnings)))


@main.command()
@click.pass_context
@reports_errors
def schema(ctx: click.Context) -> None:
    """Print the JSON Schema of playbooks, for editors (e.g. VS Code's YAML extension)."""
    import json

    from engine.playbooks.library import installed_library
    from engine.playbooks.playbook_schema import playbook_schema

    config = config_from(ctx)
    document = playbook_schema(config, installed_library(config).workflows)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@lang_option("the problems of the cases' files and the tally")
@click.pass_context
@reports_errors
def run_tests(ctx: click.Context, paths: tuple[Path, ...], lang: str | None) -> None:
    """Run designer test cases (default: the tests/ folder beside the playbooks)."""
    from engine.playbooks.caserun import run_case

    speech = Speech.chosen(lang)
    checked = _checked(ctx, _designer_paths(config_from(ctx).folders, paths, cases_only=True),
                       speech)
    outcomes = [run_case(case, config_from(ctx)) for case in checked.cases]
    for outcome in outcomes:
        for line in outcome.lines():
            click.echo(line)
    failed = sum(1 for outcome in outcomes if not outcome.passed)
    click.echo(speech.cases(len(outcomes) - failed, failed))
    if failed:
        sys.exit(1)


# --- preview and explain ---


@contextmanager
def _designer_context(ctx: click.Context) -> Iterator[tuple[Config, Any, Any]]:
    """Config, installed library and a database connection for preview and explain."""
    from engine.playbooks.library import load_library

    config = config_from(ctx)
    library = load_library(config)
    with engine_for(ctx) as engine, engine.connect() as conn:
        yield config, library, conn


def _chosen(ref: str | None, library: Any, config: Config) -> list[Any]:
    from engine.playbooks.library import find_playbook

    if ref:
        return [find_playbook(ref, library, config)]
    return sorted(library.playbooks.values(), key=lambda p: p.id)


@main.command("preview")
@click.argument("playbook", required=False)
@click.option("--all", "every", is_flag=True, help="Preview every playbook of the library.")
@click.option("--at", "at_text", metavar="T", help="YYYY-MM-DD or ISO timestamp (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the selection as JSON.")
@click.pass_context
@reports_errors
def preview_command(ctx: click.Context, playbook: str | None, every: bool, at_text: str | None,
                    as_json: bool) -> None:
    """Who PLAYBOOK (an id, or the path of a draft .yaml) selects at --at."""
    from adapters.tickets import designer

    if every == bool(playbook):
        raise click.UsageError("give a PLAYBOOK or --all")
    with _designer_context(ctx) as (config, library, conn):
        at = given_instant(at_text, config.timezone, "--at", clock_of(ctx)())
        found = [designer.preview(conn, pb, config, at, library.offers)
                 for pb in _chosen(playbook, library, config)]
    if as_json:
        docs = [p.as_json() for p in found]
        click.echo(json.dumps(docs[0] if len(docs) == 1 else docs, ensure_ascii=False))
    else:
        click.echo("\n\n".join(_preview_text(p) for p in found))


@main.command("explain")
@click.argument("customer")
@click.option("--playbook", "playbook", help="Only this playbook (an id or a draft path).")
@click.option("--at", "at_text", metavar="T", help="YYYY-MM-DD or ISO timestamp (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.pass_context
@reports_errors
def explain_command(ctx: click.Context, customer: str, playbook: str | None,
                    at_text: str | None, as_json: bool) -> None:
    """For CUSTOMER, which conditions of each playbook held and which failed, with values."""
    from adapters.tickets import designer

    with _designer_context(ctx) as (config, library, conn):
        at = given_instant(at_text, config.timezone, "--at", clock_of(ctx)())
        found = designer.explain(conn, customer, _chosen(playbook, library, config), config, at)
    click.echo(json.dumps(found, ensure_ascii=False, default=str) if as_json
               else designer.explanation_text(found))


def _variant_lines(split: dict[str, object], counted: bool) -> list[str]:
    """The variant step's split under its line: each variant's treatment and the offers it
    gives with how many of them are eligible (`counted`: offers were counted at all)."""
    lines = []
    for v in split["variants"]:  # type: ignore[attr-defined]
        given = ", ".join(f"{n} {k:,}" for n, k in v["offers"].items())
        offers = f"   (eligible: {given})" if given else "   (no offers)" if counted else ""
        lines.append(f"      variant {v['name']:<14} {v['treatment']:>16,}{offers}")
    return lines


def _preview_text(found: Preview) -> str:
    """A preview as a designer reads it in a terminal."""
    from adapters.tickets.report_text import power_lines
    from adapters.tickets.store import warnings_of
    from adapters.tickets.sweep import REPLAY_WINDOW

    playbook, sel = found.playbook, found.selection
    trigger = (f"events {playbook.trigger.event} of the last {REPLAY_WINDOW.days} days"
               if playbook.trigger.event else f"sweep ({playbook.trigger.schedule})")
    if playbook.trigger.contact:
        trigger = (f"contact on {', '.join(playbook.trigger.contact)} (who would enter if "
                   f"they contacted us now)")
    suppressed = sum(len(ids) for ids in sel.suppressed.values())
    reasons = ", ".join(f"{r} {len(ids):,}" for r, ids in sel.suppressed.items())
    lines = [
        f"{playbook.id} v{playbook.version} at {found.at} — {playbook.title}",
        f"  trigger     {trigger}",
        f"  matched     {len(sel.matched):>9,}",
        f"  treatment   {len(sel.treatment):>9,}",
        f"  control     {len(sel.control):>9,}   (holdout {playbook.holdout:.0%})",
        f"  suppressed  {suppressed:>9,}" + (f"   ({reasons})" if reasons else ""),
        "  steps:",
    ]
    split = found.variants or {}
    for step in playbook.steps:
        named = ", ".join(f"{n} {k:,}" for n, k in found.offers.get(step.id, {}).items())
        lines.append(f"    {step.id:<14} {step.channel:<16} {sel.steps.get(step.id, 0):>9,}"
                     + (f"   (eligible: {named})" if named else ""))
        if split.get("step") == step.id:
            lines.extend(_variant_lines(split, bool(found.offers)))
    lines.extend(power_lines(found.power, [w for w in warnings_of(
        {"power": found.power, "treatment": len(sel.treatment)})]))
    if sel.treatment:
        stride = max(1, len(sel.treatment) // SAMPLE)
        lines.append("  sample:     " + ", ".join(sel.treatment[::stride][:SAMPLE]))
    return "\n".join(lines)


@main.command("promote")
@click.argument("playbook_id", metavar="PLAYBOOK")
@click.option("--variant", "variant", required=True, metavar="NAME",
              help="The variant of the playbook's variant step that becomes the step.")
@click.option("--ticket", "ticket_id", type=int, metavar="N",
              help="Judge by ticket N (default: the newest ticket of the library's version "
                   "that started).")
@click.option("--reason", "note", metavar="TEXT", help="Why, in your words (kept with the "
              "measured evidence in the version history); required when the variant is not "
              "the ticket's winner at the corrected level (docs/EVALUATION.md, Variants).")
@click.option("--by", "by", metavar="NAME", help="Who promotes (default: the login name).")
@click.pass_context
@reports_errors
def promote_command(ctx: click.Context, playbook_id: str, variant: str,
                    ticket_id: int | None, note: str | None, by: str | None) -> None:
    """Publish the next version of PLAYBOOK in which the variant step uses --variant alone:
    the playbook's file in the library folder is rewritten (version bumped) and the version
    is stored with the evidence as its reason."""
    import getpass

    from adapters.tickets import promotion
    from engine.playbooks.library import load_library

    config = config_from(ctx)
    library = load_library(config)
    who = by or getpass.getuser() or "cli"
    with engine_for(ctx) as engine, engine.connect() as conn:
        done = promotion.publish(conn, config, library, playbook_id, variant, who,
                                 clock_of(ctx)(), ticket_id, note)
    click.echo(f"wrote {done.file}: {done.playbook} v{done.version}")
    click.echo(done.reason)
