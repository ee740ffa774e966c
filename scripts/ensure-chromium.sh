#!/usr/bin/env bash
# Make sure Debian's headless browser exists for the console's browser tests
# (tests/e2e/test_console_browser.py): /usr/bin/chromium, /usr/bin/chromedriver and CJK fonts
# for the Chinese pages. Installs the packages chromium, chromium-driver and fonts-noto-cjk
# with apt-get (after apt-get update) when one is absent. Never fails the build: if they cannot
# be installed it says why, and the browser tests skip naming what is missing.
set -u

have() { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }

if have; then
    echo "Chromium for the browser tests: /usr/bin/chromium, /usr/bin/chromedriver"
    exit 0
fi

fail() {
    echo "Chromium not installed ($1): the console's browser tests will be skipped." \
         "Install Debian's chromium, chromium-driver and fonts-noto-cjk packages to run them." >&2
    exit 0
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || fail "not root and no sudo"
    sudo="sudo -n"
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available"

echo "Installing Debian's chromium, chromium-driver and fonts-noto-cjk for the browser tests..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || fail "apt-get update failed"
$sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk \
    >/dev/null || fail "apt-get install failed"
have || fail "the packages installed but /usr/bin/chromium or /usr/bin/chromedriver is missing"
echo "Chromium for the browser tests: /usr/bin/chromium, /usr/bin/chromedriver"
