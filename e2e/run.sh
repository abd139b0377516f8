#!/usr/bin/env bash
# The real-deployment test tier (`make e2e`, `make e2e EXECUTOR=celery`).
#
# Installs what is missing, starts PostgreSQL, the sandbox and Airflow's components as separate
# processes on 127.0.0.1, runs the scenario tests (REST API, CLI and a real Chromium) against them,
# and stops everything at the end: on success, on failure and on Ctrl-C. Prints the results folder
# (screenshots, junit.xml, the settlement report, every component's log).
#
# Environment:
#   EXECUTOR=local|celery   LocalExecutor (default) or CeleryExecutor + Redis + two workers
#   E2E_RESULTS_DIR=DIR     where results go (default e2e/results/<timestamp>[-celery])
#   E2E_KEEP=1              keep the throw-away run directory (AIRFLOW_HOME, pgdata) for inspection
#   E2E_PYTEST_ARGS="..."   extra pytest arguments, e.g. "-k deferral"
#   E2E_HOLD=1              start the stack and keep it up (no scenarios) until Ctrl-C, for development
set -euo pipefail
# shellcheck source=stack/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack/common.sh"

export EXECUTOR="${EXECUTOR:-local}"
case "$EXECUTOR" in local|celery) ;; *) die "EXECUTOR must be local or celery, not '$EXECUTOR'" ;; esac
suffix=""; [[ "$EXECUTOR" == celery ]] && suffix="-celery"
export E2E_RESULTS_DIR="${E2E_RESULTS_DIR:-$E2E_DIR/results/$(date -u +%Y%m%d-%H%M%S)$suffix}"
mkdir -p "$E2E_RESULTS_DIR"
E2E_RESULTS_DIR="$(cd "$E2E_RESULTS_DIR" && pwd)"
export E2E_RUN_DIR
E2E_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/binance-loan-e2e.XXXXXX")"
E2E_RUN_ID="binance-loan-e2e-$(basename "$E2E_RUN_DIR")"
export E2E_RUN_ID
mkdir -p "$E2E_RUN_DIR/pids" "$E2E_RUN_DIR/logs"
: > "$E2E_RUN_DIR/stack.env"
env_set E2E_RESULTS_DIR "$E2E_RESULTS_DIR"
env_set E2E_RUN_DIR "$E2E_RUN_DIR"
env_set E2E_RUN_ID "$E2E_RUN_ID"
env_set EXECUTOR "$EXECUTOR"
start_epoch="$(date +%s)"
stage="install"

cleanup() {
    local rc=$? pids
    trap "" INT TERM     # a second Ctrl-C must not cut the clean-up short (children inherit this)
    trap - EXIT
    set +e
    log "stopping everything (stage reached: $stage)"
    # shellcheck disable=SC2046
    kill $(jobs -p) 2>/dev/null     # this script's own background jobs (the E2E_HOLD sleeper)
    "$E2E_STACK_DIR/airflow.sh" stop
    "$E2E_STACK_DIR/sandbox.sh" stop
    "$E2E_STACK_DIR/redis.sh" stop
    "$E2E_STACK_DIR/postgres.sh" stop
    # Sweep: anything still carrying this run's marker was started by this run; it must not outlive it.
    pids="$(marked_pids | tr '\n' ' ')"
    if [[ -n "${pids// /}" ]]; then
        log "still running after stop: $pids; SIGTERM, then SIGKILL"
        ps -o pid,args -p "${pids// /,}" 2>/dev/null | sed 's/^/    /' >&2
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null; sleep 3
        pids="$(marked_pids | tr '\n' ' ')"
        # shellcheck disable=SC2086
        [[ -n "${pids// /}" ]] && kill -KILL $pids 2>/dev/null
        [[ $rc -eq 0 ]] && rc=1     # a leftover process is a failure of the tier itself
    fi
    sleep 0.5
    pids="$(marked_pids | tr '\n' ' ')"
    if [[ -n "${pids// /}" ]]; then
        log "FAILED: processes of this run could not be stopped: $pids"
        rc=1
    else
        log "nothing of this run is left running"
    fi
    # Keep the evidence: component logs, Airflow's task logs (small), then drop the run directory.
    mkdir -p "$E2E_RESULTS_DIR/logs"
    cp -r "$E2E_RUN_DIR/logs/." "$E2E_RESULTS_DIR/logs/" 2>/dev/null
    [[ -d "$E2E_RUN_DIR/airflow-home/logs" ]] && cp -r "$E2E_RUN_DIR/airflow-home/logs" "$E2E_RESULTS_DIR/logs/airflow-task-logs"
    if [[ "${E2E_KEEP:-}" == 1 ]]; then
        log "kept the run directory $E2E_RUN_DIR"
    else
        rm -rf "$E2E_RUN_DIR"
    fi
    local took=$(( $(date +%s) - start_epoch ))
    echo
    echo "e2e ($EXECUTOR executor): $([[ $rc -eq 0 ]] && echo PASSED || echo "FAILED (exit $rc, stage $stage)") in ${took}s"
    echo "results: $E2E_RESULTS_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

log "run directory $E2E_RUN_DIR; results $E2E_RESULTS_DIR; executor $EXECUTOR"
"$E2E_STACK_DIR/install.sh"
load_env

stage="postgres";  "$E2E_STACK_DIR/postgres.sh" start
if [[ "$EXECUTOR" == celery ]]; then stage="redis"; "$E2E_STACK_DIR/redis.sh" start; fi
stage="sandbox";   "$E2E_STACK_DIR/sandbox.sh" start
stage="airflow setup"; "$E2E_STACK_DIR/airflow.sh" setup
stage="airflow start"; "$E2E_STACK_DIR/airflow.sh" start
load_env
log "stack up in $(( $(date +%s) - start_epoch ))s: api $E2E_API_URL, sandbox $E2E_SANDBOX_URL"

if [[ "${E2E_HOLD:-}" == 1 ]]; then
    # Development aid: keep the stack up (no scenarios) until Ctrl-C / SIGTERM, then clean up as usual.
    stage="hold"
    log "holding the stack; in another shell: source $E2E_RUN_DIR/stack.env  (Ctrl-C here stops everything)"
    sleep infinity &
    wait $!
fi

stage="scenarios"
# shellcheck disable=SC2086
"$PY" -m pytest -c "$E2E_DIR/pytest.ini" "$E2E_DIR/scenarios" --junitxml "$E2E_RESULTS_DIR/junit.xml" ${E2E_PYTEST_ARGS:-}
stage="done"
