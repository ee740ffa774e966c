"""Where an installation keeps its library: the rules folder (playbooks, with offers/ and
tests/ inside it) and the workflows folder.

Resolved once, where the config is loaded (`engine.config_loader.installed_config`, called at the
CLI's and the web app's startup), and carried on the `Config` from there: nothing below that
reads the environment for them, and tests hand folders in instead of setting variables.
Relative folders are read from the working directory, as the shipped layout expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RULES_VARIABLE = "TEND_RULES"
WORKFLOWS_VARIABLE = "TEND_WORKFLOWS"


@dataclass(frozen=True)
class Folders:
    rules: Path = Path("rules")
    workflows: Path = Path("workflows")

    @property
    def offers(self) -> Path:
        """Offers live in a folder of their own beside the playbooks (rules/offers/)."""
        return self.rules / "offers"

    @property
    def tests(self) -> Path:
        """Designer test cases live beside the playbooks they test (rules/tests/)."""
        return self.rules / "tests"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Folders:
        """TEND_RULES and TEND_WORKFLOWS, else ./rules and ./workflows: how an operator
        points an installation at its own library."""
        return cls(Path(environ.get(RULES_VARIABLE) or cls.rules),
                   Path(environ.get(WORKFLOWS_VARIABLE) or cls.workflows))
