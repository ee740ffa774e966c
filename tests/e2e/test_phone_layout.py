"""Every console page at a phone's width (390 px), in English and in Chinese, in a real
browser against a real `tend serve`: nothing scrolls sideways (document scrollWidth is not
above the window's width), long tables are cards, and the approver reaches Approve without
scrolling past the rehearsal's sample. Screenshots: var/screenshots/<lang>-390-<page>.png
(docs/CONSOLE.md, "Phones and tablets")."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from support.browser import chromium, missing, screenshot, sign_in, sign_out, widths
from test_console_browser import DRAFT, SHOTS, Site, site  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")
PHONE = (390, 844)


def _fits(driver: WebDriver, lang: str, name: str) -> None:
    scroll, client = widths(driver)
    screenshot(driver, SHOTS / f"{lang}-390-{name}.png")
    assert scroll <= client <= PHONE[0], (name, lang, scroll, client)


def _draft(driver: WebDriver, text: str) -> None:
    driver.execute_script("document.getElementById('yaml').value = arguments[0];"
                          "document.getElementById('yaml').form.submit();", text)
    driver.find_element(By.CSS_SELECTOR, "#problems, #preview")


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_every_console_page_fits_a_phone(site: Site, tmp_path: Path,  # noqa: F811
                                         lang: str) -> None:
    site.tokens["root"] = site.cli("users", "add", "root", "--role", "admin").splitlines()[-1]
    with chromium(tmp_path / "profile", lang) as driver:
        driver.set_window_size(*PHONE)
        driver.get(site.base + "/console/signin")
        _fits(driver, lang, "signin")
        sign_in(driver, site.base, site.tokens["lena"], "lena")
        _fits(driver, lang, "inbox")
        rows = driver.find_elements(By.CSS_SELECTOR, "#awaiting tbody tr")
        (row,) = [r for r in rows if "high_value_upsell" in r.text]  # the one with a sample
        driver.get(row.find_element(By.TAG_NAME, "a").get_attribute("href") or "")
        _fits(driver, lang, "ticket")
        approve = driver.find_element(By.ID, "approve")
        top = driver.execute_script("return arguments[0].getBoundingClientRect().top "
                                    "+ window.scrollY", approve)
        assert top < 4 * PHONE[1], top  # within a few thumbs' scrolls, not below the sample
        assert not driver.find_element(By.ID, "sample").get_attribute("open")
        sign_out(driver)

        sign_in(driver, site.base, site.tokens["root"], "root")
        for name, path in (("playbooks", "/console/playbooks"),
                           ("playbook", "/console/playbooks/high_value_upsell"),
                           ("explain", "/console/explain?customer=d01"),
                           ("customers", "/console/customers"),
                           ("customer", "/console/customers/d01"),
                           ("compact", "/console/customers/d01/compact"),
                           ("not-found", "/console/tickets/99999")):
            driver.get(site.base + path)
            _fits(driver, lang, name)
        driver.get(site.base + "/console/playbooks")
        row = driver.find_element(By.CSS_SELECTOR, "#library tbody tr")
        assert row.value_of_css_property("display") == "block"  # a card, not a table row
        assert driver.find_element(By.CSS_SELECTOR, "#library td").get_attribute("data-label")
        driver.get(site.base + "/console/draft")
        _fits(driver, lang, "draft")
        _draft(driver, DRAFT.replace("[gold, diamond]", "[gold, platinum]"))
        _fits(driver, lang, "draft-errors")
        _draft(driver, DRAFT)
        _fits(driver, lang, "draft-preview")
        sign_out(driver)

        sign_in(driver, site.base, site.tokens["mia"], "mia")
        driver.get(site.base + "/console/desk")
        _fits(driver, lang, "desk")
