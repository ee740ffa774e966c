#!/usr/bin/env bash
# Make sure PostgreSQL server binaries exist for the tests and benchmarks, which start their own
# throwaway server with initdb (tests/support/postgres.py). Installs Debian's `postgresql`
# package when running as root; otherwise says what is missing. Never fails the build: without
# a server the PostgreSQL cases skip with a message.
set -u

found() {
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

if dir=$(found); then
    echo "PostgreSQL server binaries: $dir"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin and not root:" \
         "install Debian's postgresql package (sudo apt-get install postgresql) or the" \
         "PostgreSQL tests will be skipped." >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL server binaries not found and apt-get is not available:" \
         "the PostgreSQL tests will be skipped." >&2
    exit 0
fi

echo "Installing Debian's postgresql package for the tests..."
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; then
    if dir=$(found); then
        echo "PostgreSQL server binaries: $dir"
        exit 0
    fi
fi
echo "Could not install PostgreSQL: the PostgreSQL tests will be skipped." >&2
exit 0
