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

# shellcheck source=scripts/apt.sh
. "$(dirname "$0")/apt.sh"
apt_install "Installing Debian's chromium, chromium-driver and fonts-noto-cjk for the browser tests..." \
    chromium chromium-driver fonts-noto-cjk || fail "$APT_WHY"
have || fail "the packages installed but /usr/bin/chromium or /usr/bin/chromedriver is missing"
echo "Chromium for the browser tests: /usr/bin/chromium, /usr/bin/chromedriver"
