"""Headless Chromium from Debian's packages, driven by Selenium, for the console's browser tests,
and the steps they share (a click that loads a page, signing in and out, the page's width).

The driver is named in `Service(executable_path=...)`, so Selenium Manager is never asked to
find (or download) a browser or driver; each browser gets a fresh profile directory.
`scripts/ensure-chromium.sh` (run by `make test`) installs the packages when they are absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000")


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if absent:
        return (f"{' and '.join(absent)} absent: run scripts/ensure-chromium.sh (Debian packages "
                "chromium, chromium-driver, fonts-noto-cjk)")
    return None


@contextmanager
def chromium(profile: Path, language: str = "en-US") -> Iterator[WebDriver]:
    """A headless browser whose Accept-Language is `language`."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--lang={language}")
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: WebDriver, path: Path) -> None:
    """The whole page, not only the window: the window is stretched to the page first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(int(height) + 120, 800), 4000))
    driver.find_element(By.TAG_NAME, "body").screenshot(str(path))
    driver.set_window_size(width, 1000)


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


def sign_in(driver: WebDriver, base: str, token: str, name: str) -> None:
    """Sign in with a token on the console at `base`; the header then names the user."""
    driver.get(base + "/console/signin")
    driver.find_element(By.ID, "token").send_keys(token)
    click(driver, "form button[type=submit].primary")
    assert driver.find_element(By.CLASS_NAME, "who").text == name


def sign_out(driver: WebDriver) -> None:
    click(driver, ".signout button")
    assert driver.find_elements(By.ID, "token")


def widths(driver: WebDriver) -> tuple[int, int]:
    """The page's scroll width and the window's client width: a page that fits a phone has
    nothing to scroll sideways (the first is not above the second)."""
    found = driver.execute_script("return [document.documentElement.scrollWidth, "
                                  "document.documentElement.clientWidth]")
    return int(found[0]), int(found[1])
