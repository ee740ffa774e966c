#!/usr/bin/env bash
# Make sure a Chinese (CJK) font exists for the evaluation report's charts in Chinese
# (adapters/tickets/report_charts.py, the Program page's charts): Debian's fonts-noto-cjk
# (Noto Sans CJK SC), installed with apt-get (after apt-get update) when `fc-list :lang=zh`
# finds no font. Never fails the build: without one, Chinese charts keep English words (no
# boxes), and this says so.
set -u

have() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; }

if have; then
    echo "CJK font for Chinese charts: $(fc-list :lang=zh family | sort | head -n 1)"
    exit 0
fi

fail() {
    echo "No CJK font ($1): Chinese charts will keep English words." \
         "Install Debian's fonts-noto-cjk package for Chinese ones." >&2
    exit 0
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || fail "not root and no sudo"
    sudo="sudo -n"
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available"

echo "Installing Debian's fonts-noto-cjk for Chinese charts..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || fail "apt-get update failed"
$sudo apt-get install -y -qq --no-install-recommends fonts-noto-cjk fontconfig >/dev/null \
    || fail "apt-get install failed"
have || fail "fonts-noto-cjk installed but fc-list finds no Chinese font"
echo "CJK font for Chinese charts: $(fc-list :lang=zh family | sort | head -n 1)"
