#!/usr/bin/env bash
# Installs the system packages the test suite needs and pip cannot provide: redis-server (the
# shared weight-budget tests start and stop their own instance). Idempotent, quiet, non-interactive;
# does nothing when everything is already there. Needs root (or sudo) only when something is missing.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_test_deps: redis-server is missing and apt-get is not available; install redis-server" \
         "with your package manager (the Redis budget tests are skipped without it)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install_test_deps: need root to apt-get install redis-server (the Redis budget tests will be skipped)" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# The package may start a system-wide service where an init system runs; the tests never use it.
command -v redis-server >/dev/null 2>&1
