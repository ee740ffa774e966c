"""The console in a real browser against a real `tend serve` on loopback, in English and in
Chinese: two approvers approve a ticket level by level, the planner cannot (and a forged
form gets 403), a designer fixes a broken draft, an account manager records a call result
and opens the customer's page, which fits a 390 px phone screen.

Screenshots of the inbox, a ticket and the draft editor go to var/screenshots/.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select
from support import browser
from support.browser import chromium, click, missing, screenshot, sign_out, widths
from support.clock import run_tend
from support.served import operator_env
from support.server import serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
AT = "2026-06-01T09:00:00"
CUSTOMERS = ["id,name,joined_on,arpu,manager,phone"] + [
    f"d{i:02d},Customer {i},2019-01-01,{350 + i},m0{i % 3},1380000{i:04d}" for i in range(12)] + [
    f"g{i:02d},,2019-01-01,{160 + i},,1390000{i:04d}" for i in range(12)]
DRAFT = (ROOT / "rules" / "high_value_upsell.yaml").read_text().replace(
    "playbook: high_value_upsell", "playbook: hv_trial")
BROKEN = DRAFT.replace("[gold, diamond]", "[gold, platinum]")
BROKEN_LINE = 1 + DRAFT.splitlines().index("    - tier: {in: [gold, diamond]}")

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")

TEXT = {  # what each language shows, so the Chinese run checks the Chinese pages
    "en-US": {"inbox": "Awaiting your decision", "approved": "Approved.",
              "level_done": "the ticket now waits for level 2",
              "executing": "executing", "problem": "line", "recorded": "Result recorded"},
    "zh-CN": {"inbox": "等待您决定", "approved": "已批准。", "level_done": "工单现在等待第 2 级",
              "executing": "执行中",
              "problem": "第", "recorded": "已记录"},
}


@dataclass
class Site:
    base: str
    env: dict[str, str]
    cwd: Path
    tokens: dict[str, str]

    def cli(self, *args: str) -> str:
        return run_tend(self.env, self.cwd, *args)


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    env = operator_env(sqlite_url)
    site = Site("", env, tmp_path, {})
    (tmp_path / "customers.csv").write_text("\n".join(CUSTOMERS) + "\n")
    site.cli("import", "customers", "customers.csv")
    for name, role in (("lena", "campaign_lead"), ("dong", "director"),
                       ("mia", "manager:m01")):
        site.tokens[name] = site.cli("users", "add", name, "--role", role).splitlines()[-1]
    site.tokens["pat"] = site.cli("users", "add", "pat", "--role", "designer", "--role",
                                  "campaign_lead").splitlines()[-1]
    assert "high_value_upsell v2 planned" in site.cli("sweep", "--at", AT)
    with serving(env, tmp_path, workers=2) as base:
        site.base = base
        yield site


def plan_as(site: Site, token: str, playbook: str) -> int:
    request = urllib.request.Request(site.base + "/tickets", method="POST",
                                     data=json.dumps({"playbook": playbook}).encode())
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as reply:
        ticket_id: int = json.loads(reply.read())["id"]
    return ticket_id


def sign_in(driver: WebDriver, site: Site, name: str) -> None:
    browser.sign_in(driver, site.base, site.tokens[name], name)


def forged_post(driver: WebDriver, path: str, with_csrf: bool) -> int:
    """What a hand-made form POST from this signed-in browser gets back."""
    script = """
        const done = arguments[arguments.length - 1];
        const body = new URLSearchParams({comment: "forged"});
        if (arguments[1]) body.set("csrf_token",
            document.querySelector("input[name=csrf_token]").value);
        fetch(arguments[0], {method: "POST", body}).then(r => done(r.status));
    """
    status: int = driver.execute_async_script(script, path, with_csrf)
    return status


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_console_flow(site: Site, tmp_path: Path, language: str) -> None:
    text = TEXT[language]
    lang = language[:2]
    # vip_care selects the twelve diamond customers with a manager, so its ticket stays planned
    # (a ticket whose audience is empty is closed at once, with nothing left to decide).
    planned_by_pat = plan_as(site, site.tokens["pat"], "vip_care")
    with chromium(tmp_path / "profile", language) as driver:
        # Level 1: the campaign lead finds the swept ticket in the inbox and reads it.
        sign_in(driver, site, "lena")
        assert text["inbox"] in driver.page_source
        row = driver.find_element(By.XPATH, "//table[@id='awaiting']//tr[contains(., "
                                            "'high_value_upsell')]")
        ticket_id = row.get_attribute("data-ticket")
        assert "overdue" in row.get_attribute("class")
        screenshot(driver, SHOTS / f"{lang}-inbox.png")
        click(driver, f"#awaiting a[href$='/tickets/{ticket_id}']")
        rehearsal = driver.find_element(By.ID, "rehearsal").text
        assert "23" in rehearsal and "manager_call" in rehearsal
        assert driver.find_elements(By.CSS_SELECTOR, "#rehearsal details")  # the sample
        driver.find_element(By.ID, "comment").send_keys("checked the sample")
        screenshot(driver, SHOTS / f"{lang}-ticket.png")
        click(driver, "#approve")  # one level of two: the page says which level it waits for
        assert text["level_done"] in driver.find_element(By.CLASS_NAME, "flash").text
        assert "checked the sample" in driver.find_element(By.ID, "levels").text
        assert not driver.find_elements(By.ID, "approve")  # one person, one level
        ticket_url = driver.current_url
        sign_out(driver)

        # Level 2: the director approves; the ticket starts executing.
        sign_in(driver, site, "dong")
        driver.get(ticket_url)
        driver.find_element(By.ID, "comment").send_keys("ok for diamond")
        click(driver, "#approve")
        assert text["approved"] in driver.find_element(By.CLASS_NAME, "flash").text
        assert text["executing"] in driver.find_element(By.TAG_NAME, "h1").text
        assert driver.find_element(By.ID, "tasks").is_displayed()
        sign_out(driver)

        # The planner may hold the approver role but sees no button, and forging fails.
        sign_in(driver, site, "pat")
        driver.get(f"{site.base}/console/tickets/{planned_by_pat}")
        assert not driver.find_elements(By.ID, "approve")
        assert driver.find_element(By.ID, "no-decision").is_displayed()
        approve = f"/console/tickets/{planned_by_pat}/approve"
        assert forged_post(driver, approve, with_csrf=True) == 403
        assert forged_post(driver, approve, with_csrf=False) == 403

        # The designer tries a broken draft, sees the error at its line, then a fixed one.
        driver.get(site.base + "/console/draft")
        editor = driver.find_element(By.ID, "yaml")
        driver.execute_script("arguments[0].value = arguments[1]", editor, BROKEN)
        click(driver, "#check")
        bad = driver.find_element(By.CSS_SELECTOR, f"#line-{BROKEN_LINE}.bad")
        assert "platinum" in bad.text
        assert text["problem"] in driver.find_element(By.ID, "problems").text
        screenshot(driver, SHOTS / f"{lang}-draft-errors.png")
        editor = driver.find_element(By.ID, "yaml")
        driver.execute_script("arguments[0].value = arguments[1]", editor, DRAFT)
        click(driver, "#check")
        preview = driver.find_element(By.ID, "preview").text
        assert "hv_trial" in preview and "manager_call" in preview
        assert not driver.find_elements(By.ID, "problems")
        screenshot(driver, SHOTS / f"{lang}-draft-preview.png")

        # The library lists the playbook with the version its ticket ran on; explain a customer.
        driver.get(site.base + "/console/playbooks")
        library = driver.find_element(By.ID, "library").text
        assert "high_value_upsell" in library and "v2" in library
        screenshot(driver, SHOTS / f"{lang}-library.png")
        driver.get(site.base + "/console/explain")
        driver.find_element(By.ID, "customer").send_keys("d01")
        click(driver, "form.filters button")
        said = {"en": "tier is one of gold, diamond", "zh": "等级为以下之一: 金卡、钻石"}[lang]
        assert said in driver.find_element(By.ID, "explained").text  # in words
        screenshot(driver, SHOTS / f"{lang}-explain.png")
        sign_out(driver)

        # The account manager records a call on one of their customers' tasks.
        sign_in(driver, site, "mia")
        cards = driver.find_elements(By.CSS_SELECTOR, "#desk-customers .desk-customer")
        customers = {c.get_attribute("id").removeprefix("customer-") for c in cards}
        assert customers and customers <= {"d01", "d04", "d07", "d10"}  # manager m01's only
        first = cards[0]
        customer = first.get_attribute("id").removeprefix("customer-")
        Select(first.find_element(By.CSS_SELECTOR, "select[name^='task:']")) \
            .select_by_value("accepted")
        first.find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("will upgrade")
        click(driver, f"#customer-{customer} button[type=submit]")
        assert text["recorded"] in driver.find_element(By.CLASS_NAME, "flash").text
        assert customer in driver.find_element(By.ID, "desk-results").text
        screenshot(driver, SHOTS / f"{lang}-desk.png")

        # The customer's page from the desk's link, on a phone's width: nothing sticks out.
        click(driver, f"#desk-results a[href^='/console/customers/{customer}']")
        assert driver.find_element(By.ID, "who").text and customer in driver.title + \
            driver.find_element(By.TAG_NAME, "h1").text
        driver.set_window_size(390, 844)
        driver.refresh()
        scroll, client = widths(driver)
        assert scroll <= client <= 390, (scroll, client)
        screenshot(driver, SHOTS / f"{lang}-customer-390.png")
        driver.set_window_size(1400, 1000)
