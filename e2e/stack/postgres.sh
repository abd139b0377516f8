#!/usr/bin/env bash
# The metadata database: a throw-away PostgreSQL cluster in $E2E_RUN_DIR/pgdata, on 127.0.0.1 and a
# free port, owned by the `postgres` system user when we are root (initdb refuses to run as root).
#
#   postgres.sh start   initdb (when the data directory does not exist yet), start, create role + db
#   postgres.sh stop    fast shutdown; SIGKILL whatever is left of its session
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_run_dir
load_env

PGDATA="$E2E_RUN_DIR/pgdata"
PGSOCK="$E2E_RUN_DIR/pgsock"     # the unix socket lives here, not in /var/run/postgresql

# as_pg CMD...: run as the database owner. Root → the `postgres` system user (setpriv execs in place,
# so the pid we record is the postmaster's own); anyone else → themselves.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
    else
        "$@"
    fi
}

start() {
    [[ -n "${E2E_PG_BIN:-}" ]] || die "E2E_PG_BIN not set: run install.sh first"
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres \
            || die "could not create the postgres system user"
    fi
    chmod 755 "$E2E_RUN_DIR"                       # the postgres user must reach its data directory
    if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
        log "initdb $PGDATA"
        mkdir -p "$PGDATA" "$PGSOCK"
        [[ $EUID -eq 0 ]] && chown postgres:postgres "$PGDATA" "$PGSOCK"
        chmod 700 "$PGDATA"
        # local (unix socket) connections: trust, for creating the role; TCP: password (scram).
        as_pg "$E2E_PG_BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$E2E_RUN_DIR/logs/initdb.log" 2>&1 \
            || die "initdb failed" "$E2E_RUN_DIR/logs/initdb.log"
    fi
    local port
    port="$(free_port)"
    local cmd=()
    [[ $EUID -eq 0 ]] && cmd=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    start_bg postgres "${cmd[@]}" "$E2E_PG_BIN/postgres" -D "$PGDATA" \
        -c listen_addresses=127.0.0.1 -c port="$port" -c unix_socket_directories="$PGSOCK" \
        -c max_connections=200 -c shared_buffers=128MB -c fsync=off -c synchronous_commit=off
    local i
    for ((i = 0; i < 120; i++)); do
        "$E2E_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        running postgres || die "postgres exited while starting" "$E2E_RUN_DIR/logs/postgres.log"
        sleep 0.5
    done
    "$E2E_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" \
        || die "postgres did not accept connections on 127.0.0.1:$port within 60s" "$E2E_RUN_DIR/logs/postgres.log"

    local password
    password="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
    as_pg "$E2E_PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$PGSOCK" -p "$port" -U postgres -d postgres \
        >>"$E2E_RUN_DIR/logs/postgres.log" 2>&1 <<SQL || die "creating the airflow role/database failed" "$E2E_RUN_DIR/logs/postgres.log"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'airflow') THEN CREATE ROLE airflow LOGIN; END IF;
END \$\$;
ALTER ROLE airflow PASSWORD '$password';
SELECT 'CREATE DATABASE airflow OWNER airflow' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'airflow')\gexec
SQL
    env_set E2E_PG_PORT "$port"
    env_set AIRFLOW__DATABASE__SQL_ALCHEMY_CONN "postgresql+psycopg2://airflow:$password@127.0.0.1:$port/airflow"
    log "postgres $("$E2E_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $PGDATA)"
}

stop() {
    running postgres || { rm -f "$E2E_RUN_DIR/pids/postgres.pid"; return 0; }
    # fast shutdown (SIGINT): roll back open transactions, disconnect clients, checkpoint, exit.
    kill -INT "$(cat "$E2E_RUN_DIR/pids/postgres.pid")" 2>/dev/null || true
    stop_bg postgres 30
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
