"""Every problem the draft editor or `tend validate` can show has a Chinese wording: the bad
fixtures and drafts made bad on purpose (each value of shipped playbooks replaced by a wrong
one, each key taken away or added) are parsed as the editor parses a draft, the bad fixtures
are checked as `tend validate` checks the library (casebooks and workflow files too), and
each problem they produce must fit a shape of adapters/http/problem_shapes.py, whose
sentences the catalog translates."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel
from ruamel.yaml import YAML

from adapters.cli.words import Speech
from adapters.http import problem_words as words
from adapters.http.console.i18n import TRANSLATIONS
from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.formats.values import given_instant
from engine.playbooks.library import Library, check_paths, load_library
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.policy_fit import policy_warnings

ROOT = Path(__file__).resolve().parents[3]
BAD = ROOT / "tests" / "fixtures" / "bad"
# Playbooks of every trigger and feature: an event alert, a contact trigger, offers, retries
# and step conditions, a monthly schedule with cooldown (about 3,000 drafts).
MUTATED = ("arrears_alert", "retention_inbound", "churn_risk", "high_value_upsell")
WRONG: tuple[Any, ...] = ("x", "", -1, True, [1], None)
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def library(config: Config) -> Library:
    return load_library(config)


def _problems(text: str, config: Config, library: Library) -> list[str]:
    try:
        parse_playbook(text, "draft.yaml", config, library.workflows)
    except ValidationError as exc:
        return [p.message for p in exc.problems]
    return []


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        yield (*path, key)
        yield from _walk(value, (*path, key))


def _dump(doc: Any) -> str:
    out = io.StringIO()
    YAML().dump(doc, out)
    return out.getvalue()


def _bad_drafts(library: Library) -> Iterator[str]:
    """Each shipped playbook of MUTATED with one value made wrong, one key taken away, or an
    unknown key added to one mapping."""
    yaml = YAML()
    for name in MUTATED:
        base = yaml.load(library.playbooks[name].text)
        for path in list(_walk(base)):
            for wrong in (*WRONG, _DELETE, _ADD):
                doc = copy.deepcopy(base)
                parent = doc
                for key in path[:-1]:
                    parent = parent[key]
                if wrong is _DELETE:
                    del parent[path[-1]]
                elif wrong is _ADD:
                    if not isinstance(parent[path[-1]], dict):
                        continue
                    parent[path[-1]]["bogus_key"] = 1
                else:
                    parent[path[-1]] = copy.deepcopy(wrong)
                yield _dump(doc)


_DELETE, _ADD = object(), object()


def _draft_messages(config: Config, library: Library) -> dict[str, str]:
    """message → where it came from, for every problem of the fixtures and bad drafts, and
    the editor's own: the `at` field, a draft too long, and the contact policy's warnings."""
    found: dict[str, str] = {}
    for path in sorted(BAD.rglob("*.yaml")):
        for message in _problems(path.read_text(), config, library):
            found.setdefault(message, path.name)
    for text in _bad_drafts(library):
        for message in _problems(text, config, library):
            found.setdefault(message, text[:60])
    for at in ("next tuesday", "0001-01-01"):
        with pytest.raises(ValidationError) as caught:
            given_instant(at, config.timezone, "at", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        found.setdefault(str(caught.value.problems[0].message), f"at={at}")
    found.setdefault("a draft has at most 200,000 characters", "a long draft")
    eager = library.playbooks["churn_risk"].text.replace("times: 2", "times: 6")
    playbook = parse_playbook(eager, "draft.yaml", config, library.workflows)
    for warning in policy_warnings(playbook, config):
        found.setdefault(warning.message, "policy warning")
    return found


def test_every_problem_a_draft_can_show_has_a_chinese_wording(config: Config,
                                                              library: Library) -> None:
    found = _draft_messages(config, library)
    assert len(found) > 300 and any(m.startswith("warning: ") for m in found)
    assert {message: where for message, where in found.items()
            if not words.known(message)} == {}
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "zh",
          default_translation_directories=str(TRANSLATIONS))
    with app.test_request_context():
        unworded = {m: str(words.problem_words(m)) for m in found
                    if not HAN.search(str(words.problem_words(m)))}
    assert unworded == {}


@pytest.mark.parametrize(("message", "chinese"), [
    ("expected a cron string 'minute hour day month weekday' like '0 9 * * *': hour field "
     "'25': expected values in 0-23", "小时字段 &#39;25&#39;：取值应在 <code>0-23</code> 范围内"),
    ("unknown event type 'zero_use' — did you mean 'zero_usage'? (expected one of the events "
     "in config.yaml: zero_usage)", "未知事件类型 'zero_use'"),
    ("steps.0.retry: is empty (expected a value)", "<code>steps.0.retry</code>: 为空"),
    ("operator not allowed 'contains' for number field 'arpu' (expected one of: eq, ne)",
     "数字 字段 'arpu'"),
])
def test_a_problem_reads_in_chinese_with_its_values(message: str, chinese: str) -> None:
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "zh", default_translation_directories=str(TRANSLATIONS))
    with app.test_request_context():
        shown = str(words.problem_words(message))
    assert chinese in shown, shown
    if "did you mean" in message:
        assert "是否想写 &#39;zero_usage&#39;？" in shown


def test_an_unknown_shape_shows_as_the_engine_wrote_it() -> None:
    assert not words.known("something nobody wrote a shape for")
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "zh", default_translation_directories=str(TRANSLATIONS))
    with app.test_request_context():
        assert str(words.problem_words("x.y: odd")) == "<code>x.y</code>: odd"




def _library_messages(config: Config) -> dict[str, str]:
    """message → file, for every problem `tend validate` finds in the bad fixtures as the
    library checks them: casebooks, workflows, files of no kind, ids across files, a missing
    path (the problems only a casebook or a workflow file has, beside the playbooks')."""
    checked = check_paths([BAD, BAD / "duplicate_ids", BAD / "missing.yaml"], config)
    return {p.message: Path(p.file).name for p in checked.problems}


def test_every_problem_of_a_casebook_or_workflow_file_has_a_chinese_wording(
        config: Config) -> None:
    found = _library_messages(config)
    for shape in ("unknown customer '", "unknown role '", "expected level 2:",
                  "level 1 approves", "unknown data field", "duplicate playbook id",
                  "no such file or folder", "expected a playbook (a 'playbook:' key)"):
        assert any(shape in message for message in found), shape
    assert {message: where for message, where in found.items()
            if not words.known(message)} == {}
    speech = Speech.chosen("zh")
    assert {m: speech.message(m) for m in found if not HAN.search(speech.message(m))} == {}
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "zh", default_translation_directories=str(TRANSLATIONS))
    with app.test_request_context():
        assert {m for m in found if not HAN.search(str(words.problem_words(m)))} == set()


def test_the_command_line_words_a_problem_in_plain_text_keeping_its_place() -> None:
    """The terminal shows no markup: lists of names as they are, the path as it is; English
    stays the engine's sentence exactly."""
    message = "cases.0.customers.1: unknown customer field 'shoe_size' (expected one of: id, arpu)"
    assert Speech.chosen("zh").message(message) == (
        "cases.0.customers.1: 未知客户字段 'shoe_size'（应为以下之一：id, arpu）")
    assert Speech.chosen("en").message(message) == message
    problem = Problem("w.yaml", 7, 5, "expected level 2: levels are numbered 1, 2, ... in the "
                                      "order they approve")
    assert Speech.chosen("zh").problem(problem) == (
        "w.yaml:7:5: 应为第 2 级：审批级别按审批先后编号为 1、2……")
    assert Speech.chosen("en").problem(problem) == str(problem)
