"""The unified view in a real browser at a phone's width (390 px), in English and Chinese,
against a real `tend serve`: the account manager's desk shows each customer with the offers'
scripts, contract end and churn risk, and one call saves a result on the task and an outcome
on each offer; the store agent's customer page and the compact view a CRM frames fit the
screen too. Nothing may scroll sideways. Screenshots go to var/screenshots/
(`<lang>-desk-390.png`, `<lang>-agent-390.png`, `<lang>-compact-390.png`).
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select
from support.browser import chromium, click, missing, screenshot, sign_in, sign_out, widths
from support.clock import run_tend
from support.served import operator_env
from support.server import serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
MONDAY = "2026-12-07T09:00:00"  # churn_risk sweeps on working days at 09:00
CUSTOMERS = ["id,name,joined_on,arpu,churn_score,contract_end,manager,phone,plan_fee"] + [
    f"k{i:02d},{name},2019-01-01,100,0.8{i % 10},2027-02-{10 + i:02d},m01,1380013{i:04d},96"
    for i, name in enumerate(["王晓明", "Li Hua", "陈静", "Zhang Wei", "刘洋", "Sun Li"])]
TEXT = {"en-US": {"recorded": "Result recorded", "contract": "Contract ends",
                  "churn": "Churn risk", "save": "Save this call"},
        "zh-CN": {"recorded": "已记录", "contract": "合同到期", "churn": "流失风险",
                  "save": "保存本次外呼"}}

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@dataclass
class Site:
    base: str
    tokens: dict[str, str]


def _rules(tmp_path: Path) -> Path:
    """The shipped rules with the offers valid whatever year the suite runs in."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    for offer in (rules / "offers").glob("*.yaml"):
        offer.write_text(re.sub(r"valid: \{[^}]*\}", "valid: {from: 2000-01-01, until: "
                                "2999-12-31}", offer.read_text()))
    return rules


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    """churn_risk approved and executing: the six customers of manager m01 are called."""
    env = operator_env(sqlite_url, _rules(tmp_path))
    (tmp_path / "customers.csv").write_text("\n".join(CUSTOMERS) + "\n")
    run_tend(env, tmp_path, "import", "customers", "customers.csv")
    tokens = {name: run_tend(env, tmp_path, "users", "add", name, "--role", role).splitlines()[-1]
              for name, role in (("lena", "campaign_lead"), ("mia", "manager:m01"),
                                 ("sam", "agent:store"))}
    assert "churn_risk" in run_tend(env, tmp_path, "sweep", "--at", MONDAY)
    with serving(env, tmp_path, workers=1) as base:
        _approve(base, tokens["lena"], "churn_risk")
        yield Site(base, tokens)


def _approve(base: str, token: str, playbook: str) -> None:
    def call(path: str, body: dict[str, str] | None = None) -> dict[str, object]:
        request = urllib.request.Request(base + path, method="POST" if body else "GET",
                                         data=json.dumps(body).encode() if body else None)
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as reply:
            found: dict[str, object] = json.loads(reply.read())
        return found

    listed = call(f"/tickets?playbook={playbook}&state=planned")["items"]
    assert isinstance(listed, list) and listed
    assert call(f"/tickets/{listed[0]['id']}/approve", {"comment": "go"})["state"] == "executing"


def _fits(driver: WebDriver, shot: Path) -> None:
    """The page at 390 px: nothing scrolls sideways; its screenshot is kept."""
    driver.set_window_size(390, 844)
    driver.refresh()
    scroll, client = widths(driver)
    assert scroll <= client <= 390, (shot.name, scroll, client)
    screenshot(driver, shot)


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_desk_and_customer_pages_at_phone_width(site: Site, tmp_path: Path,
                                                language: str) -> None:
    text, lang = TEXT[language], language[:2]
    with chromium(tmp_path / "profile", language) as driver:
        sign_in(driver, site.base, site.tokens["mia"], "mia")
        driver.get(site.base + "/console/desk")
        driver.set_window_size(390, 844)
        cards = driver.find_elements(By.CSS_SELECTOR, "#desk-customers .desk-customer")
        assert len(cards) >= 3
        card = cards[0]
        customer = (card.get_attribute("id") or "").removeprefix("customer-")
        assert card.find_element(By.CSS_SELECTOR, "a.phone").get_attribute(
            "href").startswith("tel:1380013")  # the manager dials: the number in full
        facts = card.find_element(By.CLASS_NAME, "facts").text
        assert text["contract"] in facts and text["churn"] in facts
        scripts = card.find_elements(By.CSS_SELECTOR, ".offer .script")
        assert len(scripts) == 2 and ("168" in scripts[0].text)
        # One call, several results: the task and both offers, in one submit.
        offers = card.find_elements(By.CSS_SELECTOR, ".offer select")
        Select(offers[0]).select_by_value("interested")
        Select(offers[1]).select_by_value("declined")
        Select(card.find_element(By.CSS_SELECTOR, "select[name^='task:']")) \
            .select_by_value("connected")
        card.find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("callback Friday")
        assert card.find_element(By.CSS_SELECTOR, "button[type=submit]").text == text["save"]
        click(driver, f"#customer-{customer} button[type=submit]")
        assert text["recorded"] in driver.find_element(By.CLASS_NAME, "flash").text
        history = driver.find_element(By.CSS_SELECTOR, f"#customer-{customer} .history").text
        assert history.count("callback Friday") == 3  # the call's result and both outcomes
        _fits(driver, SHOTS / f"{lang}-desk-390.png")
        sign_out(driver)

        driver.set_window_size(1400, 1000)
        sign_in(driver, site.base, site.tokens["sam"], "sam")
        driver.get(f"{site.base}/console/customers/{customer}?channel=store")
        assert "****" in driver.find_element(By.ID, "who").text  # masked for agents
        assert len(driver.find_elements(By.CSS_SELECTOR, "#offers .offer")) == 2
        assert "callback Friday" in driver.find_element(By.ID, "trajectory").text
        _fits(driver, SHOTS / f"{lang}-agent-390.png")
        driver.get(f"{site.base}/console/customers/{customer}/compact?channel=store")
        assert not driver.find_elements(By.CSS_SELECTOR, "header.top")
        assert len(driver.find_elements(By.CSS_SELECTOR, "#offers .offer")) == 2
        _fits(driver, SHOTS / f"{lang}-compact-390.png")
