"""Workflows: the shipped ones, which levels a ticket needs, and problems gathered per file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.config import Config
from engine.errors import ValidationError
from engine.playbooks.workflow import Workflow, levels_for, parse_workflow, ticket_facts

ROOT = Path(__file__).resolve().parents[3]


def load(name: str, config: Config) -> Workflow:
    path = ROOT / "workflows" / f"{name}.yaml"
    return parse_workflow(path.read_text(encoding="utf-8"), str(path), config)


def test_standard_has_one_level(config: Config) -> None:
    standard = load("standard", config)
    assert [(level.level, level.role, level.when) for level in standard.levels] == \
        [(1, "campaign_lead", None)]
    assert (standard.sla.approve, standard.sla.execute) == (dt.timedelta(days=1),
                                                            dt.timedelta(days=3))
    assert (standard.rehearsal_sample, standard.evaluate_after, standard.standing) == \
        (20, "goal", False)


@pytest.mark.parametrize(("size", "tiers", "roles"), [
    (5000, {"gold"}, ["campaign_lead"]),
    (5001, {"gold"}, ["campaign_lead", "director"]),
    (10, {"gold", "diamond"}, ["campaign_lead", "director"]),
])
def test_director_approves_large_or_diamond_tickets(config: Config, size: int, tiers: set[str],
                                                    roles: list[str]) -> None:
    high_value = load("high_value", config)
    facts = ticket_facts(size, tiers, {"outbound_call"}, "high_value_upsell")
    assert [level.role for level in levels_for(high_value, facts)] == roles


def test_alerts_is_standing(config: Config) -> None:
    alerts = load("alerts", config)
    assert alerts.standing and alerts.sla.execute == dt.timedelta(hours=8)


def test_defaults(config: Config) -> None:
    text = "workflow: w\napprove: [{level: 1, role: director}]\nsla: {approve: 2h, execute: 1d}\n"
    workflow = parse_workflow(text, "w.yaml", config)
    assert (workflow.id, workflow.rehearsal_sample, workflow.evaluate_after,
            workflow.standing) == ("w", 20, "goal", False)


def test_every_problem_of_a_file_at_once(config: Config) -> None:
    text = ("workflow: Bad Id\napprove:\n  - {level: 2, role: boss}\n"
            "sla: {approve: soon}\nextra: 1\n")
    with pytest.raises(ValidationError) as caught:
        parse_workflow(text, "w.yaml", config)
    assert [(p.line, p.column) for p in caught.value.problems] == \
        [(1, 1), (3, 6), (3, 16), (4, 1), (4, 7), (5, 1)]
    messages = " | ".join(p.message for p in caught.value.problems)
    for part in ("expected an id", "expected level 1", "unknown role 'boss'",
                 "sla.execute: this key is required", "expected a duration like",
                 "extra: unknown key (expected one of: workflow, rehearsal, approve"):
        assert part.lower() in messages.lower()


def test_empty_approval_list(config: Config) -> None:
    with pytest.raises(ValidationError, match=r"approve: expected at least 1 item"):
        parse_workflow("workflow: w\napprove: []\nsla: {approve: 1d, execute: 1d}\n", "w.yaml",
                       config)
