#!/usr/bin/env bash
# Redis for the CeleryExecutor variant (`make e2e EXECUTOR=celery`): Debian's redis-server on
# 127.0.0.1 and a free port, no persistence, data in the run directory.
#
#   redis.sh start | stop
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_run_dir
load_env

start() {
    local port dir="$E2E_RUN_DIR/redis"
    port="$(free_port)"
    mkdir -p "$dir"
    start_bg redis redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save "" --appendonly no \
        --protected-mode yes --daemonize no
    local i
    for ((i = 0; i < 50; i++)); do
        [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]] && break
        running redis || die "redis-server exited while starting" "$E2E_RUN_DIR/logs/redis.log"
        sleep 0.2
    done
    [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]] \
        || die "redis-server did not answer PING on 127.0.0.1:$port" "$E2E_RUN_DIR/logs/redis.log"
    env_set E2E_REDIS_PORT "$port"
    log "redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port"
}

case "${1:-}" in
    start) start ;;
    stop) stop_bg redis 10 ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
