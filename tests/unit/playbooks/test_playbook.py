"""Playbook loading: the model of a shipped playbook, every malformed fixture placed exactly,
content hashes, and the version check."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from engine.config import Config
from engine.errors import ValidationError
from engine.formats.source import PathKey, load_yaml, plain
from engine.language.condition import All, Leaf, leaves
from engine.playbooks.library import Library, check_paths
from engine.playbooks.playbook import Trigger, check_versions, content_hash
from engine.playbooks.playbook_loader import parse_playbook

ROOT = Path(__file__).resolve().parents[3]
BAD = ROOT / "tests" / "fixtures" / "bad"
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.*)$", re.MULTILINE)

MINIMAL = """\
playbook: minimal
title: Minimal
version: 1
trigger: {schedule: "0 9 * * *"}
audience: {tier: {in: [gold, diamond]}}
workflow: standard
steps:
  - {id: sms, channel: sms, template: t}
"""


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_malformed_file_reports_every_problem_at_its_place(path: Path, config: Config) -> None:
    expected = [(int(line), int(col), text) for line, col, text in EXPECT.findall(path.read_text())]
    assert expected, f"{path.name} declares no '# expect: LINE:COL message' comment"
    problems = check_paths([path], config).problems
    got = [(p.line, p.column, p.message) for p in problems]
    assert {p.file for p in problems} == {str(path)}
    assert len(got) == len(expected), got
    for line, column, text in expected:
        here = [message.lower() for at_line, at_column, message in got
                if (at_line, at_column) == (line, column)]
        assert any(text.lower() in message for message in here), \
            f"no problem at {line}:{column} containing {text!r} in {got}"


def test_winback_model(library: Library) -> None:
    winback = library.playbooks["winback"]
    assert (winback.id, winback.version, winback.priority, winback.holdout) == \
        ("winback", 3, 40, 0.10)
    assert winback.trigger.schedule == "0 9 * * *" and winback.trigger.event is None
    assert winback.cooldown == dt.timedelta(days=90)
    assert winback.goal is not None and winback.goal.event == "plan_reactivated"
    assert isinstance(winback.audience, All)
    call, sms = winback.steps
    assert (call.route, call.params, call.delay) == ("manager", {"offer": "WB50"}, dt.timedelta(0))
    assert call.when == Leaf("tier", "eq", "diamond", call.when.ftype)  # type: ignore[union-attr]
    assert call.retry is not None and call.retry.on == ("no_answer",)
    assert call.retry.after == dt.timedelta(days=1) and call.retry.times == 2
    assert (sms.route, sms.delay, sms.unless, sms.retry) == \
        ("pool", dt.timedelta(days=3), "converted", None)
    assert winback.file.endswith("winback.yaml") and "playbook: winback" in winback.text


def test_defaults_of_optional_keys(config: Config, library: Library) -> None:
    playbook = parse_playbook(MINIMAL, "minimal.yaml", config, library.workflows)
    assert (playbook.owner, playbook.priority, playbook.holdout) == (None, 0, 0.0)
    assert playbook.contact_class == "sales"
    assert (playbook.exclude, playbook.cooldown, playbook.goal) == (None, None, None)
    assert playbook.steps[0].params == {} and playbook.steps[0].unless is None


@pytest.mark.parametrize(("owner", "known"), [
    ("retention-team", True), ("rita", True),  # a team of config.yaml, or one of its members
    ("retention", False), ("alice", False),     # what config.yaml does not list
])
def test_an_owner_is_a_declared_team_or_one_of_its_members(config: Config, library: Library,
                                                           owner: str, known: bool) -> None:
    text = MINIMAL.replace("title:", f"owner: {owner}\ntitle:", 1)
    line = text.splitlines().index(f"owner: {owner}") + 1
    if known:
        assert parse_playbook(text, "o.yaml", config, library.workflows).owner == owner
        return
    with pytest.raises(ValidationError) as caught:
        parse_playbook(text, "o.yaml", config, library.workflows)
    assert [(p.line, p.column) for p in caught.value.problems] == [(line, 1)]
    assert f"o.yaml:{line}:1: unknown owner {owner!r}: expected a team declared under `teams:`" \
        in str(caught.value)
    assert config.owners("retention-team") == {"retention-team", "rita", "ruben"}
    assert config.owners("rita") == {"rita"} and config.owners(None) == frozenset()


def test_event_playbook_sees_its_event_fields(library: Library) -> None:
    alert = library.playbooks["zero_usage_alert"]
    assert alert.trigger == Trigger(None, "zero_usage")
    assert "event.data.days" in {leaf.field for leaf in leaves(alert.audience)}


def test_structure_and_condition_problems_come_together(config: Config,
                                                        library: Library) -> None:
    text = MINIMAL.replace("title: Minimal", "titel: Minimal").replace("tier: {in", "teir: {in")
    with pytest.raises(ValidationError) as caught:
        parse_playbook(text, "m.yaml", config, library.workflows)
    assert [(p.line, p.message.split(":")[0]) for p in caught.value.problems] == \
        [(1, "title"), (2, "titel"), (5, "unknown field 'teir' — did you mean 'tier'? (known")]


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("tier: {in", "teir: {in", "unknown field 'teir' — did you mean 'tier'?"),
    ("[gold, diamond]", "[gold, diamnd]", "unknown tier 'diamnd' — did you mean 'diamond'?"),
    ("channel: sms", "channel: smss", "unknown channel 'smss' — did you mean 'sms'?"),
    ("workflow: standard", "workflow: standart",
     "unknown workflow 'standart' — did you mean 'standard'?"),
    ("steps:", "goal: {event: plan_reactivatd, within: 30d}\nsteps:",
     "unknown event type 'plan_reactivatd' — did you mean 'plan_reactivated'?"),
    ("template: t}", "template: t, offers: [prepay_186]}",
     "unknown offer 'prepay_186' — did you mean 'prepay_168'?"),
])
def test_an_unknown_name_comes_with_the_closest_known_ones(
        config: Config, library: Library, before: str, after: str, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_playbook(MINIMAL.replace(before, after), "m.yaml", config, library.workflows,
                       offers=library.offers)
    assert any(expected in p.message for p in caught.value.problems), caught.value.problems


def test_nothing_is_suggested_when_no_known_name_is_close(config: Config,
                                                          library: Library) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_playbook(MINIMAL.replace("channel: sms", "channel: fax"), "m.yaml", config,
                       library.workflows)
    assert "did you mean" not in caught.value.problems[0].message


def test_hash_ignores_comments_quoting_order_and_style(config: Config,
                                                      library: Library) -> None:
    reformatted = """\
# the same playbook, written differently
playbook: 'minimal'
version: 1
title: "Minimal"
trigger:
  schedule: '0 9 * * *'
audience:
  tier:
    in:
      - gold
      - diamond
steps: [{template: t, channel: sms, id: sms}]
workflow: standard   # comment
"""
    first = parse_playbook(MINIMAL, "a.yaml", config, library.workflows)
    second = parse_playbook(reformatted, "b.yaml", config, library.workflows)
    assert first.hash == second.hash == content_hash(load_yaml(MINIMAL, "x.yaml").root)
    changed = parse_playbook(MINIMAL.replace("gold, diamond", "diamond, gold"), "c.yaml",
                             config, library.workflows)
    assert changed.hash != first.hash
    assert re.fullmatch(r"[0-9a-f]{64}", first.hash)


def test_check_versions_wants_a_bump_for_changed_content(config: Config,
                                                        library: Library) -> None:
    playbook = parse_playbook(MINIMAL, "rules/minimal.yaml", config, library.workflows)
    assert check_versions([playbook], {}) == []
    assert check_versions([playbook], {("minimal", 1): playbook.hash}) == []
    assert check_versions([playbook], {("minimal", 2): "0" * 64}) == []
    (problem,) = check_versions([playbook], {("minimal", 1): "0" * 64})
    assert (problem.file, problem.line, problem.column) == ("rules/minimal.yaml", 3, 1)
    assert "bump the version" in problem.message and "version 1" in problem.message


def _paths(node: Any, prefix: tuple[PathKey, ...] = ()) -> list[tuple[PathKey, ...]]:
    found = [prefix] if prefix else []
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else [])
    for key, value in items:
        found.extend(_paths(value, (*prefix, key)))
    return found


WINBACK = plain(load_yaml((ROOT / "rules" / "winback.yaml").read_text(), "winback.yaml").root)
ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6) | st.sampled_from(["90d", "2026-01-01", "gold", "sms", "all"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["all", "any", "not", "tier", "eq", "in", "x"]), inner,
                      max_size=2),
    max_leaves=6)


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(_paths(WINBACK)), value=ANYTHING)
def test_any_value_anywhere_is_a_problem_or_a_playbook(config: Config, library: Library,
                                                       path: tuple[PathKey, ...],
                                                       value: Any) -> None:
    """The loader's promise: whatever a designer writes, problems come back, never a crash."""
    document = copy.deepcopy(WINBACK)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    text = io.StringIO()
    YAML().dump(document, text)
    try:
        parse_playbook(text.getvalue(), "fuzzed.yaml", config, library.workflows)
    except ValidationError as exc:
        assert exc.problems and all(p.file == "fuzzed.yaml" for p in exc.problems)


def test_every_shipped_playbook_has_a_chinese_title(library: Library) -> None:
    for playbook in library.playbooks.values():
        zh = playbook.title_in("zh")
        assert zh != playbook.title_in("en") and re.search(r"[\u4e00-\u9fff]", zh), playbook.id


@pytest.mark.parametrize(("title", "problem"), [
    ("{zh: 挽回}", "expected a non-empty string or {zh, en}"),
    ("{zh: 挽回, en: '', fr: x}", "expected a non-empty string or {zh, en}"),
    ("''", "expected a non-empty string or {zh, en}"),
    ("[a]", "expected a non-empty string or {zh, en}"),
])
def test_a_title_is_a_string_or_one_text_per_language(config: Config, library: Library,
                                                      title: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_playbook(MINIMAL.replace("title: Minimal", f"title: {title}"), "x.yaml", config,
                       library.workflows)
    assert caught.value.problems[0].message.startswith(f"title: {problem}")
    assert (caught.value.problems[0].line, caught.value.problems[0].column) == (2, 1)


def test_a_plain_title_reads_the_same_in_both_languages(config: Config,
                                                       library: Library) -> None:
    plain_title = parse_playbook(MINIMAL, "x.yaml", config, library.workflows)
    assert plain_title.title_in("zh") == plain_title.title_in("en") == "Minimal"
    both = parse_playbook(MINIMAL.replace("title: Minimal", "title: {zh: 最小, en: Minimal}"),
                          "x.yaml", config, library.workflows)
    assert (both.title, both.title_in("zh"), both.title_in("en")) == ("Minimal", "最小", "Minimal")
