#!/usr/bin/env bash
# The local Binance Institutional Loan sandbox with its demo state and admin/fault endpoints, on
# 127.0.0.1 and a free port (it prints "listening on http://127.0.0.1:PORT" as its first line).
#
#   sandbox.sh start | stop
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_run_dir
load_env

start() {
    start_bg sandbox "$PY" -u -m binance_loan_sandbox --host 127.0.0.1 --port 0 --state demo --admin
    local logfile="$E2E_RUN_DIR/logs/sandbox.log" url="" i
    for ((i = 0; i < 100; i++)); do
        url="$(sed -n 's/^listening on //p' "$logfile" | head -n 1)"
        [[ -n "$url" ]] && break
        running sandbox || die "the sandbox exited while starting" "$logfile"
        sleep 0.2
    done
    [[ -n "$url" ]] || die "the sandbox did not print its URL within 20s" "$logfile"
    curl -sf -m 5 "$url/sandbox/state" >/dev/null || die "the sandbox's admin endpoint $url/sandbox/state does not answer" "$logfile"
    env_set E2E_SANDBOX_URL "$url"
    log "sandbox (demo state, admin endpoints) on $url"
}

case "${1:-}" in
    start) start ;;
    stop) stop_bg sandbox 10 ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
