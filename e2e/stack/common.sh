# shellcheck shell=bash
# Shared helpers for the e2e stack scripts. Source it; do not run it.
#
# Conventions:
#   E2E_RUN_DIR  the throw-away directory of one run (pids/, logs/, stack.env, pgdata/, airflow-home/)
#   E2E_RUN_ID   a unique marker exported into every process we start, so a final sweep can prove
#                that nothing of this run is left running (and stop only what this run started)
#   Each long-running component is started in its own session (setsid): its pid is also its process
#   group and session id, so stopping it reaches every child it forked (task supervisors, uvicorn
#   workers, ...), even children that moved to their own process group.

E2E_STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$(dirname "$E2E_STACK_DIR")"
REPO="$(dirname "$E2E_DIR")"
VENV="${VENV:-$REPO/.venv}"
PY="$VENV/bin/python"

_e2e_t0="${_e2e_t0:-$(date +%s)}"
export _e2e_t0

log() { printf '[e2e %4ss] %s\n' "$(( $(date +%s) - _e2e_t0 ))" "$*" >&2; }

# die MESSAGE [LOGFILE]: fail loudly with the reason (and the tail of a log, if given).
die() {
    printf '\n[e2e] FAILED: %s\n' "$1" >&2
    if [[ -n "${2:-}" && -f "$2" ]]; then
        printf '[e2e] last lines of %s:\n' "$2" >&2
        tail -n 40 "$2" | sed 's/^/    /' >&2
    fi
    exit 1
}

require_run_dir() {
    [[ -n "${E2E_RUN_DIR:-}" && -d "$E2E_RUN_DIR" ]] || die "E2E_RUN_DIR is not set or missing (use e2e/run.sh)"
    mkdir -p "$E2E_RUN_DIR/pids" "$E2E_RUN_DIR/logs"
}

# A free TCP port on 127.0.0.1 (the kernel picks it; tiny race until the component binds it).
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Record KEY=VALUE in stack.env (read by later scripts, the scenario tests and the restart helper).
env_set() {
    local key="$1" value="$2"
    touch "$E2E_RUN_DIR/stack.env"
    sed -i "/^export $key=/d" "$E2E_RUN_DIR/stack.env"
    printf 'export %s=%q\n' "$key" "$value" >> "$E2E_RUN_DIR/stack.env"
    export "$key=$value"
}

load_env() {
    # shellcheck disable=SC1091
    [[ -f "$E2E_RUN_DIR/stack.env" ]] && source "$E2E_RUN_DIR/stack.env"
    return 0
}

# as_root CMD...: run a command as root (directly, or through sudo for a non-root developer).
as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "'$*' needs root and sudo is not available"
    fi
}

# apt_install PACKAGE...: install Debian packages that are missing (one apt-get update per run).
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them (Debian needed)"
    log "apt-get install ${missing[*]}"
    local apt_log="${E2E_RUN_DIR:-/tmp}/logs/apt.log"
    mkdir -p "$(dirname "$apt_log")"
    if [[ ! -f "${E2E_RUN_DIR:-/tmp}/.apt-updated" ]]; then
        as_root apt-get update -q >>"$apt_log" 2>&1 || die "apt-get update failed" "$apt_log"
        touch "${E2E_RUN_DIR:-/tmp}/.apt-updated"
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        >>"$apt_log" 2>&1 || die "apt-get install ${missing[*]} failed" "$apt_log"
}

# start_bg NAME CMD...: start a component in its own session, output to logs/NAME.log.
start_bg() {
    local name="$1"; shift
    local logfile="$E2E_RUN_DIR/logs/$name.log"
    E2E_RUN_ID="${E2E_RUN_ID:?}" setsid "$@" >>"$logfile" 2>&1 < /dev/null &
    echo $! > "$E2E_RUN_DIR/pids/$name.pid"
    log "started $name (pid $!, log $logfile)"
}

# session_pids SID: every process in that session.
session_pids() { ps -e -o pid=,sid= | awk -v sid="$1" '$2 == sid { print $1 }'; }

# stop_bg NAME [GRACE]: SIGTERM the component's process group, wait, then SIGKILL its whole session.
stop_bg() {
    local name="$1" grace="${2:-20}" pidfile="$E2E_RUN_DIR/pids/$1.pid" pid i
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    if [[ -n "$(session_pids "$pid")" ]]; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for ((i = 0; i < grace * 5; i++)); do
            [[ -z "$(session_pids "$pid")" ]] && break
            sleep 0.2
        done
        local left
        left="$(session_pids "$pid" | tr '\n' ' ')"
        if [[ -n "$left" ]]; then
            log "$name did not stop within ${grace}s; SIGKILL $left"
            # shellcheck disable=SC2086
            kill -KILL $left 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    log "stopped $name"
}

# running NAME: is the component's session still alive?
running() {
    local pidfile="$E2E_RUN_DIR/pids/$1.pid"
    [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# marked_pids: processes carrying this run's marker in their environment (the final sweep), except
# those in the caller's own session (the sweep's own pipeline and subshells).
marked_pids() {
    local own_sid pid sid
    own_sid="$(ps -o sid= -p $$ | tr -d ' ')"
    while read -r pid sid; do
        [[ "$sid" == "$own_sid" ]] && continue
        { tr '\0' '\n' < "/proc/$pid/environ"; } 2>/dev/null | grep -qx "E2E_RUN_ID=$E2E_RUN_ID" && echo "$pid"
    done < <(ps -e -o pid=,sid=)
    return 0
}

# wait_http URL SECONDS NAME [LOGFILE] [PIDNAME]: poll until the URL answers (any HTTP status < 500).
wait_http() {
    local url="$1" seconds="$2" name="$3" logfile="${4:-}" pidname="${5:-}" deadline code
    deadline=$(( $(date +%s) + seconds ))
    while (( $(date +%s) < deadline )); do
        code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true)"
        [[ "$code" =~ ^[1-4][0-9][0-9]$ ]] && return 0
        if [[ -n "$pidname" ]] && ! running "$pidname"; then
            die "$name exited while starting" "$logfile"
        fi
        sleep 1
    done
    die "$name did not answer on $url within ${seconds}s" "$logfile"
}
