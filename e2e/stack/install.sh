#!/usr/bin/env bash
# Install what the e2e tier needs, on a fresh Debian machine or this one; idempotent: a second run
# installs nothing and only re-checks that every component works.
#
#   system:  PostgreSQL server (Debian), Chromium (Debian), curl; redis-server with EXECUTOR=celery
#   python:  the project's venv with the `e2e` extra (Airflow's postgres extra, psycopg2, playwright, pytest),
#            plus `e2e-celery` with EXECUTOR=celery, and the sandbox distribution (sandbox/)
#
# Installing a Debian package never starts its service here (policy-rc.d) and never creates
# PostgreSQL's default cluster: the tier runs its own throw-away instances.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_run_dir
EXECUTOR="${EXECUTOR:-local}"

# --- Debian packages -------------------------------------------------------------------------------
pg_bindir() { find /usr/lib/postgresql -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1 | xargs -r dirname; }

# Do not let package scripts start services (a Debian install would start postgres/redis on their
# default ports and leave them running); restore the machine's own policy afterwards.
POLICY=/usr/sbin/policy-rc.d
policy_added=""
restore_policy() { [[ -n "$policy_added" ]] && as_root rm -f "$POLICY"; policy_added=""; }
trap restore_policy EXIT
if [[ ! -e "$POLICY" ]] && command -v apt-get >/dev/null; then
    printf '#!/bin/sh\n# added by e2e/stack/install.sh while it installs packages\nexit 101\n' \
        | as_root tee "$POLICY" >/dev/null
    as_root chmod 755 "$POLICY"
    policy_added=1
fi

packages=(curl ca-certificates)
if [[ -z "$(pg_bindir)" ]]; then
    # No default cluster: the tier initialises its own data directory.
    as_root mkdir -p /etc/postgresql-common
    [[ -f /etc/postgresql-common/createcluster.conf ]] \
        || echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    packages+=(postgresql)
fi
command -v chromium >/dev/null || packages+=(chromium)
packages+=(fonts-liberation fonts-dejavu-core)   # readable screenshots (Chromium only recommends fonts)
[[ "$EXECUTOR" == celery ]] && { command -v redis-server >/dev/null || packages+=(redis-server); }
apt_install "${packages[@]}"
restore_policy

PG_BIN="$(pg_bindir)"
[[ -n "$PG_BIN" && -x "$PG_BIN/postgres" ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql after install"
CHROMIUM="$(command -v chromium || true)"
[[ -n "$CHROMIUM" ]] || die "chromium is not installed and could not be installed"
if [[ "$EXECUTOR" == celery ]]; then
    command -v redis-server >/dev/null || die "redis-server is not installed and could not be installed"
fi
env_set E2E_PG_BIN "$PG_BIN"
env_set E2E_CHROMIUM "$CHROMIUM"
log "PostgreSQL: $("$PG_BIN/postgres" --version); $("$CHROMIUM" --version 2>/dev/null | head -n 1)"

# --- the project's venv with the e2e extra ---------------------------------------------------------
extras="test,e2e"
[[ "$EXECUTOR" == celery ]] && extras="$extras,e2e-celery"
stamp="$VENV/.e2e-installed-${extras//,/-}"
if [[ ! -x "$PY" ]]; then
    log "creating $VENV"
    "${PYTHON:-python3}" -m venv "$VENV" || die "could not create the venv with ${PYTHON:-python3} (>= 3.11 needed)"
fi
if [[ ! -f "$stamp" || "$REPO/pyproject.toml" -nt "$stamp" || "$REPO/sandbox/pyproject.toml" -nt "$stamp" ]]; then
    log "installing the package with extras [$extras] and the sandbox into $VENV"
    "$PY" -m pip install -q --disable-pip-version-check uv >>"$E2E_RUN_DIR/logs/pip.log" 2>&1 \
        || die "pip install uv failed" "$E2E_RUN_DIR/logs/pip.log"
    (cd "$REPO" && "$VENV/bin/uv" pip install -q --python "$PY" -e ".[$extras]" -e "./sandbox[test]") \
        >>"$E2E_RUN_DIR/logs/pip.log" 2>&1 || die "installing .[$extras] and ./sandbox failed" "$E2E_RUN_DIR/logs/pip.log"
    # As `make venv` does: the editable build's egg-info in the tree would register the provider's
    # plugin a second time; the installed dist-info is what counts.
    rm -rf "$REPO/airflow_provider_binance_loan.egg-info" "$REPO/sandbox/src/binance_loan_sandbox.egg-info"
    touch "$stamp"
fi

# --- prove each piece works before anything starts --------------------------------------------------
"$PY" - "$CHROMIUM" >"$E2E_RUN_DIR/logs/preflight.log" 2>&1 <<'PYEOF' || die "preflight check failed" "$E2E_RUN_DIR/logs/preflight.log"
import sys

import airflow
import psycopg2  # the metadata database driver
from playwright.sync_api import sync_playwright

import airflow_binance_loan
import binance_loan_sandbox

print("airflow", airflow.__version__, "psycopg2", psycopg2.__version__, "provider", airflow_binance_loan.__name__,
      "sandbox", binance_loan_sandbox.__name__)
# The system Chromium through playwright (never `playwright install`): launch, render, close.
with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path=sys.argv[1], headless=True)
    page = browser.new_page()
    page.set_content("<p id=ok>chromium ok</p>")
    assert page.inner_text("#ok") == "chromium ok"
    print("chromium", browser.version)
    browser.close()
PYEOF
if [[ "$EXECUTOR" == celery ]]; then
    "$PY" -c "import airflow.providers.celery, redis" 2>>"$E2E_RUN_DIR/logs/preflight.log" \
        || die "the celery provider or redis client is missing from the venv" "$E2E_RUN_DIR/logs/preflight.log"
fi
log "installed and checked: $(tr '\n' ' ' < "$E2E_RUN_DIR/logs/preflight.log")"
