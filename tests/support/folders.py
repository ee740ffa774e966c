"""The library folders tests hand in (on the config, or to `tend` through `support.cli.run`)
instead of setting TEND_RULES and TEND_WORKFLOWS: the shipped ones, or a rules folder of the
test's own beside the shipped workflows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.config import Config
from engine.folders import Folders

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = Folders(ROOT / "rules", ROOT / "workflows")


def rules_in(rules: Path) -> Folders:
    """`rules` for the playbooks (and its offers/ and tests/), the shipped workflows."""
    return Folders(rules, SHIPPED.workflows)


def with_rules(config: Config, rules: Path) -> Config:
    """The config reading its playbooks from `rules` instead."""
    return dataclasses.replace(config, folders=rules_in(rules))
