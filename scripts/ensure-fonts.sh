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

# shellcheck source=scripts/apt.sh
. "$(dirname "$0")/apt.sh"
apt_install "Installing Debian's fonts-noto-cjk for Chinese charts..." \
    fonts-noto-cjk fontconfig || fail "$APT_WHY"
have || fail "fonts-noto-cjk installed but fc-list finds no Chinese font"
echo "CJK font for Chinese charts: $(fc-list :lang=zh family | sort | head -n 1)"
