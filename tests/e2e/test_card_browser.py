"""The approval card, the re-rehearsal and the ranked inbox in a real browser, in English and
Chinese, at 1440 px and at a phone's 390 px, against a real `tend serve`. churn_risk is swept
on a Monday weeks before the suite's instant, so its rehearsal is stale and is run again when
the campaign lead opens it. Screenshots go to var/screenshots/ (`<lang>-inbox-<width>.png`,
`<lang>-ticket-<width>.png`; docs/CONSOLE.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from support.browser import chromium, click, missing, screenshot, sign_in
from support.clock import run_tend
from support.served import operator_env
from support.server import serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
MONDAY = "2026-12-07T09:00:00"  # churn_risk sweeps on working days at 09:00
CUSTOMERS = ["id,name,joined_on,arpu,churn_score,contract_end,manager,phone,plan_fee"] + [
    f"k{i:02d},name {i},2019-01-01,100,0.8{i % 10},2027-02-{10 + i:02d},m01,1380013{i:04d},96"
    for i in range(12)]
TEXT = {"en-US": {"card": "Approval card", "why": "Why your level", "since": "Rehearsed again",
                  "waiting": "Waiting for level 1", "swept": "Swept again now"},
        "zh-CN": {"card": "审批要点", "why": "为何需要您这一级", "since": "已重新演练",
                  "waiting": "等待第 1 级", "swept": "已重新筛选"}}

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@dataclass
class Site:
    base: str
    token: str


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    env = operator_env(sqlite_url)
    (tmp_path / "customers.csv").write_text("\n".join(CUSTOMERS) + "\n")
    run_tend(env, tmp_path, "import", "customers", "customers.csv")
    token = run_tend(env, tmp_path, "users", "add", "lena", "--role",
                 "campaign_lead").splitlines()[-1]
    assert "churn_risk" in run_tend(env, tmp_path, "sweep", "--at", MONDAY)
    with serving(env, tmp_path, workers=1) as base:
        yield Site(base, token)


def _card_fits(driver: object, width: int) -> None:
    """The card is no wider than the window: nothing in it scrolls sideways."""
    found = driver.execute_script(  # type: ignore[attr-defined]
        "var c = document.getElementById('approval-card'); "
        "return [c.scrollWidth, c.getBoundingClientRect().right, "
        "document.documentElement.clientWidth]")
    assert found[0] <= found[2] and found[1] <= found[2] + 1, (width, found)


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_card_rerehearsal_and_ranked_inbox(site: Site, tmp_path: Path, language: str) -> None:
    text, lang = TEXT[language], language[:2]
    with chromium(tmp_path / "profile", language) as driver:
        sign_in(driver, site.base, site.token, "lena")
        for width in (1440, 390):
            driver.set_window_size(width, 1000)
            driver.get(site.base + "/console/")
            ranked = driver.find_element(By.ID, "awaiting")
            assert text["why"] in ranked.text or width == 390  # the phone hides the heads
            rows = ranked.find_elements(By.CSS_SELECTOR, "tbody tr")
            assert any("churn_risk" in row.text for row in rows)
            screenshot(driver, SHOTS / f"{lang}-inbox-{width}.png")
            link = next(row for row in rows if "churn_risk" in row.text)
            href = link.find_element(By.TAG_NAME, "a").get_attribute("href")
            driver.get(href)
            card = driver.find_element(By.ID, "approval-card")
            assert text["card"] in card.text and text["waiting"] in card.text
            assert text["since"] in driver.find_element(By.ID, "since-planning").text
            assert text["swept"] in driver.find_element(By.ID, "audience-since").text
            assert driver.find_element(By.ID, "card-when").text
            _card_fits(driver, width)
            screenshot(driver, SHOTS / f"{lang}-ticket-{width}.png")
        assert driver.find_element(By.ID, "approve")
        click(driver, "#approve")
        assert driver.find_element(By.CLASS_NAME, "flash").text
