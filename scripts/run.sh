#!/usr/bin/env bash
# Usage: scripts/run.sh [--demo]
#
# Builds and runs Tailgate on this machine: a local redis-server, one
# tailgate-agent and one tailgate-gateway, then prints the URL to open.
# Ctrl-C (or SIGTERM) stops everything. State and logs go to ./.run/.
#   (default)  the agent watches the Docker engine on $DOCKER_HOST, or
#              /var/run/docker.sock; it must be running.
#   --demo     no Docker needed: starts a private Docker engine with a few
#              chatty demo containers and points the agent at it.
# Environment: TAILGATE_PORT (default 8080; a free port is picked when it is
# busy), TAILGATE_TOKEN (default: a random one), DOCKER_HOST.
set -euo pipefail
TG_NAME=run.sh
TG_DIE_CODE=2
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TG_ROOT"

demo=0
case "${1:-}" in
    "") ;;
    --demo) demo=1 ;;
    -h | --help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--demo]" >&2; exit 2 ;;
esac

RUN_DIR="$TG_ROOT/.run"
mkdir -p "$RUN_DIR"
tg_install_cleanup_trap
tg_require_swift

# Answers when a Docker engine listens at URL (unix:// or tcp://). curl rather
# than the docker CLI, which a machine with a remote engine may not have.
docker_answers() {
    local url=$1
    case "$url" in
        unix://*) curl -sf --max-time 3 --unix-socket "${url#unix://}" http://docker/_ping >/dev/null ;;
        tcp://*) curl -sf --max-time 3 "http://${url#tcp://}/_ping" >/dev/null ;;
        *) return 0 ;;  # ssh:// and the like: let the agent judge
    esac
}

if ((demo)); then
    tg_install_deps docker
else
    tg_install_deps
    docker_url=${DOCKER_HOST:-unix:///var/run/docker.sock}
    docker_answers "$docker_url" || tg_die "no Docker engine answers on $docker_url: start Docker (e.g. 'systemctl start docker') or set DOCKER_HOST, or try '$0 --demo' for a private demo engine"
fi

# --- build ------------------------------------------------------------------
# SwiftPM builds one --product per invocation; the second build reuses the
# shared modules of the first.
tg_log "building tailgate-agent and tailgate-gateway (release; the first build takes a few minutes)"
swift build -c release --product tailgate-agent
swift build -c release --product tailgate-gateway
bin_dir=$(swift build -c release --show-bin-path)

# --- redis ------------------------------------------------------------------
tg_start_redis_free "$RUN_DIR/redis"
tg_log "redis-server on $TG_REDIS_URL (log: .run/redis/redis.log)"

# --- demo engine and containers ---------------------------------------------
# shellcheck disable=SC2016 # the sh -c scripts expand inside the containers
start_demo_containers() {
    local d=(docker -H "$1") run=(run -d --network none --log-opt max-size=10m)
    # Containers persist in .run/docker between runs; start from a clean set.
    tg_docker_rm_all "${1#unix://}"
    "${d[@]}" "${run[@]}" --name demo-chatty "$TG_TEST_IMAGE" sh -c '
        i=0; paths="/ /api/items /api/users /login /static/app.js /healthz"
        while :; do
            i=$((i + 1)); set -- $paths; shift $((i % 6)); p=${1:-/}
            echo "$(date -Iseconds) GET $p 200 $((i * 7 % 120))ms req=$i"
            sleep 0.3
        done' >/dev/null
    "${d[@]}" "${run[@]}" --name demo-mixed "$TG_TEST_IMAGE" sh -c '
        i=0
        while :; do
            i=$((i + 1))
            echo "info: processed batch $i"
            [ $((i % 3)) -eq 0 ] && echo "warning: batch $i took longer than expected" >&2
            [ $((i % 10)) -eq 0 ] && echo "error: batch $i failed, retrying" >&2
            sleep 1
        done' >/dev/null
    "${d[@]}" "${run[@]}" -t --name demo-tty "$TG_TEST_IMAGE" sh -c '
        i=0
        while :; do
            i=$((i + 1)); c=$((31 + i % 6))
            printf "\033[1;${c}mtick %d\033[0m \033[2m(colour %d)\033[0m \033[32m✔ ok\033[0m\n" "$i" "$c"
            sleep 2
        done' >/dev/null
    "${d[@]}" "${run[@]}" --restart always --name demo-restarts "$TG_TEST_IMAGE" sh -c '
        echo "starting up (pid $$)"
        for i in 1 2 3 4; do sleep 5; echo "working... $((i * 5))s"; done
        echo "exiting with status 1, Docker will restart me" >&2
        exit 1' >/dev/null
    tg_log "demo containers: demo-chatty, demo-mixed, demo-tty (TTY, ANSI colours), demo-restarts (exits every ~20s)"
}

agent_args=(--redis "$TG_REDIS_URL")
if ((demo)); then
    tg_start_dockerd "$RUN_DIR/docker" || exit 2
    tg_build_test_image "$TG_DOCKER_HOST"
    start_demo_containers "$TG_DOCKER_HOST"
    agent_args+=(--docker-host "$TG_DOCKER_HOST" --agent-id demo)
elif [[ -n "${DOCKER_HOST:-}" ]]; then
    agent_args+=(--docker-host "$DOCKER_HOST")
fi

# --- agent and gateway --------------------------------------------------------
port=${TAILGATE_PORT:-8080}
if tg_port_in_use "$port"; then
    tg_free_port
    tg_log "port $port is busy; using $TG_FREE_PORT"
    port=$TG_FREE_PORT
fi
token=${TAILGATE_TOKEN:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}

# Output goes to the terminal with a [name] prefix, and to .run/NAME.log.
# The pipe ignores SIGINT so that on Ctrl-C the services are not killed by
# SIGPIPE before they get our orderly SIGTERM.
start_service() {
    local name=$1; shift
    setsid "$@" </dev/null > >(trap '' INT; tee -a "$RUN_DIR/$name.log" | sed -u "s/^/[$name] /") 2>&1 &
    TG_LAST_PID=$!
    TG_PIDS+=("$TG_LAST_PID")
}

: >"$RUN_DIR/agent.log"
: >"$RUN_DIR/gateway.log"
start_service agent "$bin_dir/tailgate-agent" "${agent_args[@]}"
agent_pid=$TG_LAST_PID
start_service gateway "$bin_dir/tailgate-gateway" --redis "$TG_REDIS_URL" --port "$port" --token "$token"
gateway_pid=$TG_LAST_PID

# Announce the URL once the gateway answers (or give up waiting after 30 s).
for ((i = 0; i < 300; i++)); do
    curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$port/healthz" && break
    tg_alive "$gateway_pid" || break
    sleep 0.1
done
if tg_alive "$gateway_pid" && tg_alive "$agent_pid"; then
    printf '\nOpen http://127.0.0.1:%s/?token=%s\n(Ctrl-C stops everything; logs in .run/)\n\n' "$port" "$token"
fi

# Stay until Ctrl-C/SIGTERM (trap) or until the agent or gateway exits.
rc=0
wait -n -p exited "$agent_pid" "$gateway_pid" || rc=$?
[[ "${exited:-}" == "$agent_pid" ]] && name=tailgate-agent || name=tailgate-gateway
tg_log "$name exited (status $rc; see .run/${name#tailgate-}.log); stopping everything"
tg_stop_all
exit $((rc == 0 ? 1 : rc))
