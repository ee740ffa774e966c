"""The command line in the reader's language: `tend validate` and `tend test` word the
problems of casebooks and workflow files in Chinese with `--lang zh` (or TEND_LOCALE), keeping
each problem's `file:line:col` and YAML path; English stays exactly the engine's sentences."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli import run

ROOT = Path(__file__).resolve().parents[3]
BAD = ROOT / "tests" / "fixtures" / "bad"


@pytest.fixture(autouse=True)
def no_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEND_LOCALE", raising=False)


def test_validate_words_a_bad_casebook_in_chinese() -> None:
    result = run(CliRunner(), "validate", "--lang", "zh", str(BAD / "cases_customers.yaml"))
    assert result.exit_code == 1 and not result.stdout
    said = result.stderr.splitlines()
    where = f"{BAD / 'cases_customers.yaml'}"
    assert f"{where}:12:22: 未知客户 'c9'（应为本用例的客户之一：c1, c2）" in said
    assert f"{where}:9:10: 客户编号 'c1' 重复" in said
    assert f"{where}:10:9: 客户缺少 'id'（必填列）" in said
    assert f"{where}:8:41: 'tier' 在评估时计算得出：请改为设置 arpu" in said
    assert f"{where}:9:41: opt_out: 未知渠道 'fax'（应为以下之一：sms, outbound_call, email, " \
           "push, store, account_manager, all）" in said
    assert said[-1] == "11 个问题"


def test_validate_words_a_bad_workflow_file_in_chinese() -> None:
    result = run(CliRunner(), "validate", "--lang", "zh", str(BAD / "workflow_levels.yaml"))
    assert result.exit_code == 1
    where = f"{BAD / 'workflow_levels.yaml'}"
    assert result.stderr.splitlines() == [
        f"{where}:6:5: 第 1 级审批每一张工单：不能设置 'when'",
        f"{where}:7:5: 应为第 2 级：审批级别按审批先后编号为 1、2……",
        f"{where}:8:5: 未知角色 'ceo'（应为 {ROOT / 'config.yaml'} 中 roles: 下列出的角色："
        "campaign_lead, director）",
        "3 个问题",
    ]


def test_english_is_the_engine_s_sentences_as_before() -> None:
    result = run(CliRunner(), "validate", str(BAD / "workflow_levels.yaml"))
    where = f"{BAD / 'workflow_levels.yaml'}"
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{where}:6:5: level 1 approves every ticket: it takes no 'when'",
        f"{where}:7:5: expected level 2: levels are numbered 1, 2, ... in the order they "
        "approve",
        f"{where}:8:5: unknown role 'ceo' (expected a role listed under roles: in "
        f"{ROOT / 'config.yaml'}: campaign_lead, director)",
        "3 problem(s)",
    ]
    good = run(CliRunner(), "validate", "--lang", "en")
    assert good.exit_code == 0 and good.stdout.splitlines()[-1].endswith(" file(s) OK")


def test_tend_locale_chooses_chinese_and_tend_test_words_its_problems(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEND_LOCALE", "zh_CN")
    result = run(CliRunner(), "test", str(BAD / "cases_events.yaml"))
    assert result.exit_code == 1
    where = f"{BAD / 'cases_events.yaml'}"
    said = result.stderr.splitlines()
    assert f"{where}:10:27: 应为 'zero_usage'，即该策略的触发事件" in said
    assert f"{where}:10:60: 事件 'zero_usage' 没有数据字段 'hours'（应为以下之一：days）" in said
    assert said[-1] == "5 个问题"
    good = run(CliRunner(), "validate")
    assert good.exit_code == 0 and good.stdout.splitlines()[-1].endswith(" 个文件通过检查")
    english = run(CliRunner(), "test", "--lang", "en", str(BAD / "cases_events.yaml"))
    assert english.stderr.splitlines()[-1] == "5 problem(s)"
