"""The designer's pages in a real browser at 1440 and 390 px, in English and Chinese, against a
real `tend serve`: two stored versions of churn_risk compared side by side (old | new, changed
lines marked, no unified-diff markers) with what each version selects now, and a draft's
problem link that puts the cursor in the YAML at the line. Nothing may scroll sideways at
390 px. Screenshots go to var/screenshots/ (`<lang>-diff-<width>.png`,
`<lang>-draft-<width>.png`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from support.browser import chromium, click, missing, screenshot, sign_in, widths
from support.clock import run_tend
from support.served import operator_env
from support.server import serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
MONDAY, TUESDAY = "2026-12-07T09:00:00", "2026-12-08T09:00:00"  # churn_risk's working days
# Six declining customers: two silver, two gold, two diamond (arpu thresholds in config.yaml).
CUSTOMERS = ["id,name,joined_on,arpu,churn_score,manager"] + [
    f"k{i:02d},{name},2019-01-01,{arpu},0.85,m01"
    for i, (name, arpu) in enumerate([("王晓明", 100), ("Li Hua", 120), ("陈静", 200),
                                      ("Zhang Wei", 220), ("刘洋", 350), ("Sun Li", 400)])]
TEXT = {"en-US": {"selected": "selected", "focus": "line"},
        "zh-CN": {"selected": "选中", "focus": "行"}}

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@dataclass
class Site:
    base: str
    token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """churn_risk planned on v3 (silver and up), then on v4 (gold and up): both stored."""
    tmp = tmp_path_factory.mktemp("designer")
    rules = tmp / "rules"
    subprocess.run(["cp", "-r", str(ROOT / "rules"), str(rules)], check=True)
    env = operator_env(f"sqlite:///{tmp / 'tend.db'}", rules)
    run_tend(env, tmp, "db", "upgrade")
    (tmp / "customers.csv").write_text("\n".join(CUSTOMERS) + "\n")
    run_tend(env, tmp, "import", "customers", "customers.csv")
    token = run_tend(env, tmp, "users", "add", "pat", "--role", "designer").splitlines()[-1]
    assert "churn_risk" in run_tend(env, tmp, "sweep", "--at", MONDAY)
    path = rules / "churn_risk.yaml"
    path.write_text(path.read_text().replace("version: 3", "version: 4")
                    .replace("tier: {ne: standard}", "tier: {in: [gold, diamond]}"))
    assert "churn_risk" in run_tend(env, tmp, "sweep", "--at", TUESDAY)
    with serving(env, tmp, workers=1) as base:
        yield Site(base, token)


def _fits(driver: WebDriver, width: int) -> None:
    driver.set_window_size(width, 1000)
    driver.refresh()
    if width <= 390:
        scroll, client = widths(driver)
        assert scroll <= client <= width, (scroll, client, _widest(driver))


def _widest(driver: WebDriver) -> list[str]:
    """What sticks out of the window (for the failure's message)."""
    found: list[str] = driver.execute_script(
        "var w = document.documentElement.clientWidth, out = [];"
        "document.querySelectorAll('body *').forEach(function (e) {"
        "  var r = e.getBoundingClientRect();"
        "  if (r.right > w + 1) { out.push(e.tagName + '#' + e.id + '.' + e.className + ' '"
        "    + Math.round(r.right)); } });"
        "return out.slice(0, 8);")
    return found


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_version_diff_side_by_side_with_the_audience_effect(site: Site, tmp_path: Path,
                                                            language: str) -> None:
    lang = language[:2]
    with chromium(tmp_path / "profile", language) as driver:
        sign_in(driver, site.base, site.token, "pat")
        driver.get(site.base + "/console/playbooks/churn_risk?a=3&b=4")
        for width in (1440, 390):
            _fits(driver, width)
            table = driver.find_element(By.ID, "diff-table")
            changed = table.find_elements(By.CSS_SELECTOR, "tr.changed")
            pairs = {(row.find_element(By.CSS_SELECTOR, "td.old").text,
                      row.find_element(By.CSS_SELECTOR, "td.new").text) for row in changed}
            assert ("version: 3", "version: 4") in pairs
            assert any("ne: standard" in old and "gold, diamond" in new for old, new in pairs)
            assert "@@" not in table.text and "+++" not in table.text
            # a short line is one line high: no blank line between two rows of code
            heights = {r.size["height"] for r in table.find_elements(By.CSS_SELECTOR, "tr")
                       if 0 < len(r.text) < 24 and "⋯" not in r.text}
            assert heights and max(heights) < 30, heights
            effect = driver.find_element(By.ID, "effect").text
            assert effect.count(TEXT[language]["selected"]) == 2
            assert "6" in effect and "4" in effect and "(-2)" in effect, effect
            screenshot(driver, SHOTS / f"{lang}-diff-{width}.png")


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_a_problem_link_puts_the_cursor_at_its_line(site: Site, tmp_path: Path,
                                                    language: str) -> None:
    lang = language[:2]
    with chromium(tmp_path / "profile", language) as driver:
        sign_in(driver, site.base, site.token, "pat")
        for width in (1440, 390):
            driver.set_window_size(width, 1000)
            driver.get(site.base + "/console/draft?from=churn_risk")
            area = driver.find_element(By.ID, "yaml")
            text = area.get_property("value")
            broken = text.replace("stage: {eq: decline}", "stgae: {eq: decline}")
            driver.execute_script("arguments[0].value = arguments[1]", area, broken)
            click(driver, "#check")
            problems = driver.find_element(By.ID, "problems").text
            hint = {"en": "did you mean 'stage'?", "zh": "是否想写 'stage'？"}[lang]
            assert hint in problems, problems
            link = driver.find_element(By.CSS_SELECTOR, "#problems a.where[data-line]")
            line = int(link.get_attribute("data-line") or 0)
            assert line == 1 + broken.splitlines().index("    - stgae: {eq: decline}")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
            link.click()
            focused = driver.execute_script(
                "var a = document.activeElement; return [a.id, a.value.slice("
                "a.selectionStart, a.selectionEnd), a.value.slice(0, a.selectionStart)"
                ".split('\\n').length]")
            assert focused[0] == "yaml"
            assert "stgae" in focused[1] and focused[2] == line, focused
            if width <= 390:
                scroll, client = widths(driver)
                assert scroll <= client <= width, (scroll, client)
            screenshot(driver, SHOTS / f"{lang}-draft-{width}.png")
