"""The library: all-or-nothing loading, duplicates across files, the folders' environment
variables, drafts, and the examples of docs/PLAYBOOKS.md."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest
from support.folders import with_rules

from engine.config import Config
from engine.config_loader import installed_config
from engine.errors import NotFound, ValidationError
from engine.folders import Folders
from engine.formats.source import load_yaml, plain
from engine.language.condition import Parser
from engine.playbooks.caserun import run_case
from engine.playbooks.library import check_paths, find_playbook, load_draft, load_library

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = {"welcome", "upsell", "high_value_upsell", "renewal", "churn_risk", "winback",
           "birthday", "zero_usage_alert", "competitor_call_alert", "vip_care",
           "retention_inbound", "arrears_alert", "low_balance_alert", "call_forwarding_alert",
           "pre_disconnect_alert", "number_kept_alert", "zero_usage_monthly"}
BAD = ROOT / "tests" / "fixtures" / "bad"


@pytest.fixture
def copied(config: Config, tmp_path: Path) -> Config:
    """The config on copies of the shipped folders, which a test may break."""
    rules, workflows = tmp_path / "my_rules", tmp_path / "my_workflows"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "workflows", workflows)
    return dataclasses.replace(config, folders=Folders(rules, workflows))


def test_shipped_library_loads(config: Config) -> None:
    library = load_library(config)
    assert set(library.playbooks) == SHIPPED
    assert set(library.workflows) == {"standard", "high_value", "alerts"}
    assert {p.workflow for p in library.playbooks.values()} <= set(library.workflows)


def test_environment_names_the_folders(copied: Config) -> None:
    """An operator points an installation at its library with TEND_RULES and TEND_WORKFLOWS,
    read once with the config; without them it is ./rules and ./workflows."""
    (copied.folders.rules / "winback.yaml").unlink()
    environ = {"TEND_CONFIG": str(ROOT / "config.yaml"),
               "TEND_RULES": str(copied.folders.rules),
               "TEND_WORKFLOWS": str(copied.folders.workflows)}
    installed = installed_config(environ)
    assert installed.folders == copied.folders
    assert set(load_library(installed).playbooks) == SHIPPED - {"winback"}
    assert installed_config({"TEND_CONFIG": str(ROOT / "config.yaml")}).folders == Folders(
        Path("rules"), Path("workflows"))


def test_one_bad_file_loads_nothing_and_every_problem_is_reported(
        copied: Config) -> None:
    shutil.copy(BAD / "unknown_names.yaml", copied.folders.rules)
    shutil.copy(BAD / "duplicate_steps.yaml", copied.folders.rules)
    with pytest.raises(ValidationError) as caught:
        load_library(copied)
    files = {Path(p.file).name for p in caught.value.problems}
    assert files == {"unknown_names.yaml", "duplicate_steps.yaml"}
    assert len(caught.value.problems) == 5


def test_duplicate_playbook_ids_across_files(config: Config) -> None:
    with pytest.raises(ValidationError) as caught:
        load_library(with_rules(config, BAD / "duplicate_ids"))
    (problem,) = caught.value.problems
    assert (Path(problem.file).name, problem.line, problem.column) == ("second.yaml", 1, 1)
    assert "duplicate playbook id 'twin': also in" in problem.message
    assert "first.yaml:1" in problem.message


def test_a_broken_workflow_is_not_echoed_by_its_playbooks(
        copied: Config) -> None:
    standard = copied.folders.workflows / "standard.yaml"
    standard.write_text(standard.read_text().replace("role: campaign_lead", "role: x"))
    with pytest.raises(ValidationError) as caught:
        load_library(copied)
    (problem,) = caught.value.problems
    assert problem.file.endswith("standard.yaml") and "unknown role 'x'" in problem.message


def test_missing_folder(config: Config, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file or folder"):
        load_library(with_rules(config, tmp_path / "nowhere"))


def test_draft_is_checked_against_the_installed_workflows(config: Config,
                                                          tmp_path: Path) -> None:
    library = load_library(config)
    draft = tmp_path / "winback.yaml"
    draft.write_text((ROOT / "rules" / "winback.yaml").read_text().replace(
        "version: 3", "version: 4").replace("within_last: 90d", "within_last: 120d"))
    playbook = load_draft(draft, library, config)
    assert (playbook.id, playbook.version) == ("winback", 4)
    assert playbook.hash != library.playbooks["winback"].hash
    draft.write_text(draft.read_text().replace("workflow: standard", "workflow: express"))
    with pytest.raises(ValidationError, match=r"winback.yaml:\d+:1: unknown workflow 'express'"):
        load_draft(draft, library, config)


def test_a_playbook_argument_is_an_id_or_a_path(config: Config, tmp_path: Path) -> None:
    library = load_library(config)
    assert find_playbook("winback", library, config) is library.playbooks["winback"]
    draft = tmp_path / "draft.yaml"
    draft.write_text((ROOT / "rules" / "birthday.yaml").read_text())
    assert find_playbook(str(draft), library, config).id == "birthday"
    with pytest.raises(NotFound,
                       match=r"unknown playbook 'winbak' \(expected one of: "
                             r"arrears_alert, birthday"):
        find_playbook("winbak", library, config)
    with pytest.raises(ValidationError, match=r"no-such\.yaml: cannot read"):
        find_playbook("no-such.yaml", library, config)


def test_a_file_named_twice_is_read_once(config: Config) -> None:
    checked = check_paths([ROOT / "rules", ROOT / "rules" / "winback.yaml"], config)
    assert checked.problems == () and len(checked.summaries) == len(SHIPPED)


def test_checking_a_draft_ignores_problems_of_other_installed_files(
        copied: Config, tmp_path: Path) -> None:
    shutil.copy(BAD / "unknown_names.yaml", copied.folders.rules)
    draft = tmp_path / "draft.yaml"
    draft.write_text((ROOT / "rules" / "upsell.yaml").read_text())
    checked = check_paths([draft], copied)
    assert checked.problems == ()
    assert checked.summaries == (f"{draft}: OK, playbook upsell version 3",)


def test_validating_the_library_folders(config: Config) -> None:
    checked = check_paths([ROOT / "rules", ROOT / "workflows", ROOT / "rules" / "offers",
                           ROOT / "rules" / "tests"], config)
    assert checked.problems == ()
    assert len(checked.summaries) == 2 * len(SHIPPED) + 3 + 4  # playbooks and their cases,
    # workflows, offers
    assert len(checked.cases) >= 25


def doc_blocks(kind: str) -> list[str]:
    text = (ROOT / "docs" / "PLAYBOOKS.md").read_text(encoding="utf-8")
    return re.findall(rf"^```{kind}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("block", doc_blocks("yaml"), ids=lambda b: b.split("\n")[0][:40])
def test_doc_examples_validate(block: str, config: Config, tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(block, encoding="utf-8")
    checked = check_paths([path], config)
    assert checked.problems == (), [str(p) for p in checked.problems]
    assert all(run_case(case, config).passed for case in checked.cases)


@pytest.mark.parametrize("block", doc_blocks("yaml condition"))
def test_doc_conditions_parse(block: str, config: Config) -> None:
    source = load_yaml(block, "PLAYBOOKS.md")
    parser = Parser(source, config.catalog())
    assert parser.parse(plain(source.root), []) is not None, parser.problems


def test_doc_has_examples_of_every_kind() -> None:
    kinds = {next(iter(load_yaml(b, "x").root)) for b in doc_blocks("yaml")}
    assert {"playbook", "workflow"} <= kinds
    assert sum("cases:" in b for b in doc_blocks("yaml")) >= 2
    assert doc_blocks("yaml condition")
