"""The console in a real browser against a real `tend serve` on loopback, in English and in
Chinese: two approvers approve a ticket level by level, the planner cannot (and a forged
form gets 403), a designer fixes a broken draft, an account manager records a call result
and opens the customer's page, which fits a 390 px phone screen.

Screenshots of the inbox, a ticket and the draft editor go to var/screenshots/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from support.browser import chromium, missing, screenshot
from support.clock import child_env
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
              "executing": "executing", "problem": "line", "recorded": "Result recorded"},
    "zh-CN": {"inbox": "等待您决定", "approved": "已批准。", "executing": "执行中",
              "problem": "第", "recorded": "已记录"},
}


@dataclass
class Site:
    base: str
    env: dict[str, str]
    cwd: Path
    tokens: dict[str, str]

    def cli(self, *args: str) -> str:
        command = [sys.executable, "-m", "adapters.cli", *args]
        done = subprocess.run(command, env=child_env(self.env),
                              cwd=self.cwd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    env = {**os.environ, "TEND_DATABASE_URL": sqlite_url, "TEND_CONFIG": str(ROOT / "config.yaml"),
           "TEND_RULES": str(ROOT / "rules"), "TEND_WORKFLOWS": str(ROOT / "workflows")}
    site = Site("", env, tmp_path, {})
    (tmp_path / "customers.csv").write_text("\n".join(CUSTOMERS) + "\n")
    site.cli("import", "customers", "customers.csv")
    for name, role in (("lena", "campaign_lead"), ("dong", "director"),
                       ("mia", "manager:m01")):
        site.tokens[name] = site.cli("users", "add", name, "--role", role).splitlines()[-1]
    site.tokens["pat"] = site.cli("users", "add", "pat", "--role", "designer", "--role",
                                  "campaign_lead").splitlines()[-1]
    assert "high_value_upsell v1 planned" in site.cli("sweep", "--at", AT)
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


def click(driver: WebDriver, css: str) -> None:
    """Click what `css` selects, which loads a page, and wait until the new page has
    replaced the old. When chromedriver has lost a freshly loaded page's node by the time
    the click lands, the same click is made from inside the page."""
    old = driver.find_element(By.TAG_NAME, "html")
    try:
        driver.find_element(By.CSS_SELECTOR, css).click()
    except WebDriverException as exc:
        if not _lost(exc):
            raise
        old = driver.find_element(By.TAG_NAME, "html")
        driver.execute_script("document.querySelector(arguments[0]).click()", css)
    WebDriverWait(driver, 60).until(lambda _: _replaced(old))


def _lost(exc: WebDriverException) -> bool:
    """A node of a page that is gone: selenium's stale element, or chromedriver's own word
    for it when the page was replaced mid-command."""
    return isinstance(exc, StaleElementReferenceException) or \
        "does not belong to the document" in (exc.msg or "")


def _replaced(old: WebElement) -> bool:
    try:
        old.is_enabled()
    except WebDriverException as exc:
        if _lost(exc):
            return True
        raise
    return False


def sign_in(driver: WebDriver, site: Site, name: str) -> None:
    driver.get(site.base + "/console/signin")
    driver.find_element(By.ID, "token").send_keys(site.tokens[name])
    click(driver, "form button[type=submit].primary")
    assert driver.find_element(By.CLASS_NAME, "who").text == name


def sign_out(driver: WebDriver) -> None:
    click(driver, ".signout button")
    assert driver.find_elements(By.ID, "token")


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
    planned_by_pat = plan_as(site, site.tokens["pat"], "renewal")
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
        click(driver, "#approve")
        assert text["approved"] in driver.find_element(By.CLASS_NAME, "flash").text
        assert "checked the sample" in driver.find_element(By.ID, "levels").text
        assert not driver.find_elements(By.ID, "approve")  # one person, one level
        ticket_url = driver.current_url
        sign_out(driver)

        # Level 2: the director approves; the ticket starts executing.
        sign_in(driver, site, "dong")
        driver.get(ticket_url)
        driver.find_element(By.ID, "comment").send_keys("ok for diamond")
        click(driver, "#approve")
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
        assert "high_value_upsell" in library and "v1" in library
        screenshot(driver, SHOTS / f"{lang}-library.png")
        driver.get(site.base + "/console/explain")
        driver.find_element(By.ID, "customer").send_keys("d01")
        click(driver, "form.filters button")
        assert "tier in [gold, diamond]" in driver.find_element(By.ID, "explained").text
        screenshot(driver, SHOTS / f"{lang}-explain.png")
        sign_out(driver)

        # The account manager records a call result on one of their customers' tasks.
        sign_in(driver, site, "mia")
        tasks = driver.find_elements(By.CSS_SELECTOR, "#desk-tasks tbody tr")
        customers = {t.find_element(By.TAG_NAME, "small").text.split(" ")[0] for t in tasks}
        assert customers and customers <= {"d01", "d04", "d07", "d10"}  # manager m01's only
        first = tasks[0]
        task_row = first.get_attribute("id")
        customer = first.find_element(By.TAG_NAME, "small").text.split(" ")[0]
        Select(first.find_element(By.TAG_NAME, "select")).select_by_value("accepted")
        first.find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("will upgrade")
        click(driver, f"#{task_row} button")
        assert text["recorded"] in driver.find_element(By.CLASS_NAME, "flash").text
        assert customer in driver.find_element(By.ID, "desk-results").text
        screenshot(driver, SHOTS / f"{lang}-desk.png")

        # The customer's page from the desk's link, on a phone's width: nothing sticks out.
        click(driver, f"#desk-results a[href^='/console/customers/{customer}']")
        assert driver.find_element(By.ID, "who").text and customer in driver.title + \
            driver.find_element(By.TAG_NAME, "h1").text
        driver.set_window_size(390, 844)
        driver.refresh()
        widths = driver.execute_script("return [document.documentElement.scrollWidth, "
                                       "document.documentElement.clientWidth]")
        assert widths[0] <= widths[1] <= 390, widths
        screenshot(driver, SHOTS / f"{lang}-customer-390.png")
        driver.set_window_size(1400, 1000)
