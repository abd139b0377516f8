#!/usr/bin/env bash
# Airflow as a real deployment: throw-away AIRFLOW_HOME, Postgres metadata database, the repo's
# dags/ folder, and api-server, scheduler, dag-processor and triggerer as separate processes
# (plus two Celery workers with EXECUTOR=celery), everything bound to 127.0.0.1.
#
#   airflow.sh setup              write the configuration (stack.env) and run `airflow db migrate`
#   airflow.sh start              start every component and wait until the API reports them healthy
#   airflow.sh stop               stop every component (workers and scheduler first, api-server last)
#   airflow.sh restart COMPONENT  stop and start one component (e.g. triggerer) and wait for it
#   airflow.sh stop-one COMPONENT / start-one COMPONENT   the two halves of a restart
#
# Log servers: Airflow's worker/triggerer log servers always bind every interface (there is no
# host option in 3.3), so they are switched off with --skip-serve-logs: all components share this
# machine's AIRFLOW_HOME/logs and the api-server reads task and trigger logs from there.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_run_dir
load_env
EXECUTOR="${EXECUTOR:-local}"
AIRFLOW="$VENV/bin/airflow"

setup() {
    [[ -n "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ]] || die "no database configured: run postgres.sh start first"
    [[ -n "${E2E_SANDBOX_URL:-}" ]] || die "no sandbox: run sandbox.sh start first"
    local home="$E2E_RUN_DIR/airflow-home" port
    mkdir -p "$home"
    port="$(free_port)"
    env_set AIRFLOW_HOME "$home"
    env_set E2E_API_URL "http://127.0.0.1:$port"
    env_set AIRFLOW__API__HOST 127.0.0.1
    env_set AIRFLOW__API__PORT "$port"
    env_set AIRFLOW__API__BASE_URL "http://127.0.0.1:$port"
    env_set AIRFLOW__API__WORKERS 2
    env_set AIRFLOW__CORE__EXECUTION_API_SERVER_URL "http://127.0.0.1:$port/execution/"
    env_set AIRFLOW__CORE__DAGS_FOLDER "$REPO/dags"
    env_set AIRFLOW__CORE__LOAD_EXAMPLES False
    env_set AIRFLOW__CORE__UNIT_TEST_MODE False
    env_set AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION True
    env_set AIRFLOW__CORE__PARALLELISM 8
    env_set AIRFLOW__CORE__TEST_CONNECTION Enabled
    env_set AIRFLOW__CORE__FERNET_KEY "$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
    env_set AIRFLOW__API__SECRET_KEY "$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
    env_set AIRFLOW__API_AUTH__JWT_SECRET "$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
    # Simple auth manager with two real users (the scenarios log in like a person would), their
    # passwords fixed up front in the passwords file instead of printed at start-up.
    env_set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS "admin:admin,approver:admin"
    env_set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE "$home/simple_auth_manager_passwords.json"
    "$PY" - "$home/simple_auth_manager_passwords.json" <<'PYEOF'
import json, secrets, sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump({user: secrets.token_urlsafe(12) for user in ("admin", "approver")}, f)
PYEOF
    chmod 600 "$home/simple_auth_manager_passwords.json"
    # Loopback only, and quick enough for a test tier.
    env_set AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST 127.0.0.1
    env_set AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK False
    env_set AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT "$(free_port)"
    env_set AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT "$(free_port)"
    env_set AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL 10
    env_set AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL 30
    env_set AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC 2
    env_set AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD 15
    # The month-end report task also writes its table and JSON into the results folder.
    env_set BINANCE_SETTLEMENT_REPORT_FILE "$E2E_RESULTS_DIR/settlement_report.txt"
    env_set BINANCE_SETTLEMENT_REPORT_JSON "$E2E_RESULTS_DIR/settlement_report.json"
    if [[ "$EXECUTOR" == celery ]]; then
        [[ -n "${E2E_REDIS_PORT:-}" ]] || die "EXECUTOR=celery needs redis: run redis.sh start first"
        env_set AIRFLOW__CORE__EXECUTOR CeleryExecutor
        env_set AIRFLOW__CELERY__BROKER_URL "redis://127.0.0.1:$E2E_REDIS_PORT/0"
        env_set AIRFLOW__CELERY__RESULT_BACKEND "db+${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN/+psycopg2/}"
        env_set AIRFLOW__CELERY__WORKER_CONCURRENCY 4
    else
        env_set AIRFLOW__CORE__EXECUTOR LocalExecutor
    fi
    log "AIRFLOW_HOME=$home, executor $AIRFLOW__CORE__EXECUTOR, api $E2E_API_URL"
    log "airflow db migrate"
    "$AIRFLOW" db migrate >"$E2E_RUN_DIR/logs/db-migrate.log" 2>&1 \
        || die "airflow db migrate failed" "$E2E_RUN_DIR/logs/db-migrate.log"
}

start_component() {
    case "$1" in
        api-server)    start_bg api-server "$AIRFLOW" api-server --host 127.0.0.1 --port "$AIRFLOW__API__PORT" ;;
        scheduler)     start_bg scheduler "$AIRFLOW" scheduler --skip-serve-logs ;;
        dag-processor) start_bg dag-processor "$AIRFLOW" dag-processor ;;
        triggerer)     start_bg triggerer "$AIRFLOW" triggerer --skip-serve-logs ;;
        worker1|worker2)
            start_bg "$1" "$AIRFLOW" celery worker --skip-serve-logs --celery-hostname "$1@%h" \
                --concurrency "$AIRFLOW__CELERY__WORKER_CONCURRENCY" ;;
        *) die "unknown component $1" ;;
    esac
}

components() {
    echo api-server dag-processor scheduler triggerer
    [[ "$EXECUTOR" == celery ]] && echo worker1 worker2
    return 0
}

start() {
    local c
    for c in $(components); do start_component "$c"; done
    wait_http "$E2E_API_URL/api/v2/monitor/health" 120 api-server "$E2E_RUN_DIR/logs/api-server.log" api-server
    # shellcheck disable=SC2046
    "$PY" "$E2E_STACK_DIR/wait_ready.py" --timeout 180 $(components) || die "the Airflow stack did not become ready"
}

stop() {
    # Workers and scheduler first (no new work), then the rest, the api-server (execution API) last.
    local c
    for c in worker1 worker2 scheduler triggerer dag-processor api-server; do stop_bg "$c" 30; done
}

start_one() {
    local c="${1:?component}"
    running "$c" && die "$c is already running"
    start_component "$c"
    "$PY" "$E2E_STACK_DIR/wait_ready.py" --timeout 120 --fresh "$c" || die "$c did not become healthy after a start"
}

case "${1:-}" in
    setup) setup ;;
    start) start ;;
    stop) stop ;;
    stop-one) stop_bg "${2:?component}" 30 ;;
    start-one) start_one "${2:-}" ;;
    restart) stop_bg "${2:?component}" 30; start_one "$2" ;;
    *) echo "usage: $0 setup|start|stop|restart COMPONENT|stop-one COMPONENT|start-one COMPONENT" >&2; exit 2 ;;
esac
