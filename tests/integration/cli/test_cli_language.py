"""The command line in the reader's language (`--lang`, else TEND_LOCALE, else en): `tend
validate` and `tend test` word the problems of casebooks and workflow files in Chinese, keeping
each problem's `file:line:col` and YAML path, and `tend report` prints its text in the words
of its page; English stays exactly what it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli import run
from support.evaluated import run_ticket, seed_customers

from adapters.db.engines import make_engine
from engine.config import Config
from engine.playbooks.library import Library

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
    assert any(line.endswith("winback.yaml：通过，策略 winback 第 3 版")
               for line in good.stdout.splitlines())
    assert any(line.endswith("alerts.yaml：通过，流程 alerts") for line in good.stdout.splitlines())
    cases = run(CliRunner(), "test")
    assert cases.exit_code == 0
    assert re.fullmatch(r"测试用例：\d+ 个通过，0 个失败", cases.stdout.splitlines()[-1])
    english = run(CliRunner(), "test", "--lang", "en", str(BAD / "cases_events.yaml"))
    assert english.stderr.splitlines()[-1] == "5 problem(s)"


def test_report_prints_in_the_chosen_language(sqlite_url: str, config: Config,
                                              library: Library,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`tend report --lang zh` prints the report in the page's words (states, verdicts,
    roles, audit actions from the same catalog); ids, numbers, instants and codes as they
    are. Without --lang the text is English, as it always was."""
    engine = make_engine(sqlite_url)
    seed_customers(engine, 200)
    ticket_id = run_ticket(engine, config, library)
    engine.dispose()
    monkeypatch.setenv("TEND_DATABASE_URL", sqlite_url)
    chinese = run(CliRunner(), "report", str(ticket_id), "--lang", "zh")
    assert chinese.exit_code == 0, chinese.output
    said = chinese.stdout.splitlines()
    assert said[0] == f"工单 {ticket_id}：winback 第 3 版 — 已关闭"
    assert said[1] == "  计划        2026-11-20T01:00:00+00:00，由 系统 计划（schedule）"
    assert said[2] == "  实验组            176" and said[4] == "  暂不触达    无"
    assert "  检验功效    检验功效 80% 下检不出任何效果，基准转化率 5.0%（默认值）" in said
    assert "  第 1 级：bob（活动负责人）于 2026-11-20T01:00:00+00:00 已批准：ok" in said
    assert "    实验组          53 转化 / 共       176  30.1%" in said
    assert "    提升       +21.8 个百分点（95% 置信区间 +3.2 个百分点 至 +31.1 个百分点；" \
           "相对提升 +261.4%, p=0.025）：显著" in said
    assert "    步骤 call（outbound_call）：任务 32、已发送 32、已送达 27、已接通 27、已接受 21、" \
           "已转化 10" in said
    assert "    2026-11-20T01:00:00+00:00  bob（活动负责人）已批准：待审批 → 已批准  ok" in said
    english = run(CliRunner(), "report", str(ticket_id))
    said = english.stdout.splitlines()
    assert said[0] == f"ticket {ticket_id}: winback v3 — closed"
    assert said[1] == "  planned     2026-11-20T01:00:00+00:00 by system (schedule)"
    assert "    uplift     +21.8 pts (95% CI +3.2 pts to +31.1 pts; +261.4% relative, " \
           "p=0.025): significant" in said
    assert "    2026-11-20T01:00:00+00:00  bob (campaign_lead) approve: planned → approved  ok" \
        in said
    monkeypatch.setenv("TEND_LOCALE", "zh_CN")
    assert run(CliRunner(), "report", str(ticket_id)).stdout == chinese.stdout
