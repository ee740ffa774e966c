"""The library: all-or-nothing loading, duplicates across files, the folders' environment
variables, drafts, and the examples of docs/PLAYBOOKS.md."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from engine.caserun import run_case
from engine.condition import Parser
from engine.config import Config
from engine.errors import NotFound, ValidationError
from engine.library import check_paths, find_playbook, load_draft, load_library
from engine.source import load_yaml, plain

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"welcome", "upsell", "high_value_upsell", "renewal", "churn_risk", "winback",
           "birthday", "zero_usage_alert", "competitor_call_alert", "vip_care",
           "retention_inbound"}
BAD = ROOT / "tests" / "fixtures" / "bad"


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Copies of the shipped folders, named by TEND_RULES and TEND_WORKFLOWS."""
    rules, workflows = tmp_path / "my_rules", tmp_path / "my_workflows"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "workflows", workflows)
    monkeypatch.setenv("TEND_RULES", str(rules))
    monkeypatch.setenv("TEND_WORKFLOWS", str(workflows))
    return rules, workflows


def test_shipped_library_loads(config: Config) -> None:
    library = load_library(ROOT / "rules", ROOT / "workflows", config)
    assert set(library.playbooks) == SHIPPED
    assert set(library.workflows) == {"standard", "high_value", "alerts"}
    assert {p.workflow for p in library.playbooks.values()} <= set(library.workflows)


def test_environment_names_the_folders(config: Config, folders: tuple[Path, Path]) -> None:
    rules, _ = folders
    (rules / "winback.yaml").unlink()
    assert set(load_library(None, None, config).playbooks) == SHIPPED - {"winback"}


def test_one_bad_file_loads_nothing_and_every_problem_is_reported(
        config: Config, folders: tuple[Path, Path]) -> None:
    rules, _ = folders
    shutil.copy(BAD / "unknown_names.yaml", rules)
    shutil.copy(BAD / "duplicate_steps.yaml", rules)
    with pytest.raises(ValidationError) as caught:
        load_library(None, None, config)
    files = {Path(p.file).name for p in caught.value.problems}
    assert files == {"unknown_names.yaml", "duplicate_steps.yaml"}
    assert len(caught.value.problems) == 5


def test_duplicate_playbook_ids_across_files(config: Config) -> None:
    with pytest.raises(ValidationError) as caught:
        load_library(BAD / "duplicate_ids", ROOT / "workflows", config)
    (problem,) = caught.value.problems
    assert (Path(problem.file).name, problem.line, problem.column) == ("second.yaml", 1, 1)
    assert "duplicate playbook id 'twin': also in" in problem.message
    assert "first.yaml:1" in problem.message


def test_a_broken_workflow_is_not_echoed_by_its_playbooks(
        config: Config, folders: tuple[Path, Path]) -> None:
    _, workflows = folders
    text = (workflows / "standard.yaml").read_text().replace("role: campaign_lead", "role: x")
    (workflows / "standard.yaml").write_text(text)
    with pytest.raises(ValidationError) as caught:
        load_library(None, None, config)
    (problem,) = caught.value.problems
    assert problem.file.endswith("standard.yaml") and "unknown role 'x'" in problem.message


def test_missing_folder(config: Config, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file or folder"):
        load_library(tmp_path / "nowhere", ROOT / "workflows", config)


def test_draft_is_checked_against_the_installed_workflows(config: Config,
                                                          tmp_path: Path) -> None:
    library = load_library(ROOT / "rules", ROOT / "workflows", config)
    draft = tmp_path / "winback.yaml"
    draft.write_text((ROOT / "rules" / "winback.yaml").read_text().replace(
        "version: 1", "version: 2").replace("within_last: 90d", "within_last: 120d"))
    playbook = load_draft(draft, library, config)
    assert (playbook.id, playbook.version) == ("winback", 2)
    assert playbook.hash != library.playbooks["winback"].hash
    draft.write_text(draft.read_text().replace("workflow: standard", "workflow: express"))
    with pytest.raises(ValidationError, match=r"winback.yaml:\d+:1: unknown workflow 'express'"):
        load_draft(draft, library, config)


def test_a_playbook_argument_is_an_id_or_a_path(config: Config, tmp_path: Path) -> None:
    library = load_library(ROOT / "rules", ROOT / "workflows", config)
    assert find_playbook("winback", library, config) is library.playbooks["winback"]
    draft = tmp_path / "draft.yaml"
    draft.write_text((ROOT / "rules" / "birthday.yaml").read_text())
    assert find_playbook(str(draft), library, config).id == "birthday"
    with pytest.raises(NotFound, match=r"unknown playbook 'winbak' \(expected one of: birthday"):
        find_playbook("winbak", library, config)
    with pytest.raises(ValidationError, match=r"no-such\.yaml: cannot read"):
        find_playbook("no-such.yaml", library, config)


def test_a_file_named_twice_is_read_once(config: Config) -> None:
    checked = check_paths([ROOT / "rules", ROOT / "rules" / "winback.yaml"], config)
    assert checked.problems == () and len(checked.summaries) == len(SHIPPED)


def test_checking_a_draft_ignores_problems_of_other_installed_files(
        config: Config, folders: tuple[Path, Path], tmp_path: Path) -> None:
    rules, _ = folders
    shutil.copy(BAD / "unknown_names.yaml", rules)
    draft = tmp_path / "draft.yaml"
    draft.write_text((ROOT / "rules" / "upsell.yaml").read_text())
    checked = check_paths([draft], config)
    assert checked.problems == ()
    assert checked.summaries == (f"{draft}: OK, playbook upsell version 2",)


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
def test_doc_examples_validate(block: str, config: Config, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEND_RULES", str(ROOT / "rules"))
    monkeypatch.setenv("TEND_WORKFLOWS", str(ROOT / "workflows"))
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
