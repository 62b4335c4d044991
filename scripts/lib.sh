# shellcheck shell=bash disable=SC2034  # globals here are read by the scripts that source it
# Shared helpers for scripts/run.sh, scripts/with-test-env.sh and scripts/test.sh.
# Source it; do not execute it. Callers set `set -euo pipefail` themselves.
#
# Every long-lived process started here is recorded (pid + how to stop it) and
# stopped by tg_stop_all, which the trap installed by tg_install_cleanup_trap
# runs on exit, on failure and on Ctrl-C/SIGTERM. Nothing is ever killed by
# name: other people run their own redis-server/dockerd on the same machine.

TG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TG_TEST_IMAGE="tailgate-test-busybox:latest"

TG_PIDS=()          # pids to stop, in start order (stopped in reverse)
declare -gA TG_DOCKER_SOCKS=() # dockerd pid -> socket: containers removed before stopping it
TG_RM_DIRS=()       # scratch dirs removed after everything stopped
TG_RESERVED_PORTS=" " # ports handed out by tg_free_port but maybe not bound yet
TG_CHILD_PID=""     # the wrapped command (tg_run_child), signalled first
TG_CLEANED=0

tg_log() { printf '%s: %s\n' "${TG_NAME:-tailgate}" "$*" >&2; }
tg_die() { tg_log "error: $*"; exit "${TG_DIE_CODE:-1}"; }

# --- dependencies -----------------------------------------------------------

# tg_install_deps [docker]
# Installs only what is missing. `docker` adds docker.io + busybox-static
# (engine for the private dockerd, static busybox for the tiny test image).
tg_install_deps() {
    local missing=()
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-cli >/dev/null || missing+=(redis-tools)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    command -v curl >/dev/null || missing+=(curl)
    # The header is what the Swift build needs, not just the .so.
    tg_pkg_installed libhiredis-dev || missing+=(libhiredis-dev)
    if [[ "${1:-}" == docker ]]; then
        { command -v dockerd >/dev/null && command -v docker >/dev/null; } || missing+=(docker.io)
        # A dynamically linked busybox would not run inside the empty image.
        tg_pkg_installed busybox-static || missing+=(busybox-static)
    fi
    ((${#missing[@]})) || return 0
    tg_apt_install "${missing[@]}"
}

tg_pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# apt-get update only when there are no package lists yet, or when the first
# install attempt fails (stale lists); a lock timeout because others may be
# running apt on the same machine.
tg_apt_install() {
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || tg_die "need root (or sudo) to apt-get install: $*"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || tg_die "missing $*, and no apt-get to install it (Debian/Ubuntu expected)"
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
    tg_log "installing missing packages: $*"
    local updated=0
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        "${apt[@]}" update >&2 && updated=1
    fi
    if ! "${apt[@]}" install --no-install-recommends "$@" >&2; then
        ((updated)) && tg_die "apt-get install $* failed"
        "${apt[@]}" update >&2
        "${apt[@]}" install --no-install-recommends "$@" >&2 || tg_die "apt-get install $* failed"
    fi
}

# --- ports ------------------------------------------------------------------

# True when something listens on TCP PORT (any address, v4 or v6).
# Reads /proc so it needs neither ss nor python.
tg_port_in_use() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# tg_free_port: sets TG_FREE_PORT to a port nothing listens on, from a range
# away from common services. A variable, not output, so it runs in this shell
# and remembers what it handed out: two calls never return the same port.
tg_free_port() {
    local port i
    for ((i = 0; i < 500; i++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        [[ "$TG_RESERVED_PORTS" == *" $port "* ]] && continue
        tg_port_in_use "$port" && continue
        TG_RESERVED_PORTS+="$port "
        TG_FREE_PORT=$port
        return 0
    done
    tg_die "no free TCP port found"
}

# --- process bookkeeping ----------------------------------------------------

# tg_spawn LOGFILE CMD...: start CMD in the background in its own session, so
# a Ctrl-C in the terminal reaches only us and we can stop things in order
# (dockerd must outlive the removal of its containers). Sets TG_LAST_PID.
tg_spawn() {
    local logfile=$1; shift
    # Without job control the child is no process-group leader, so setsid
    # execs in place and $! is the daemon itself.
    setsid "$@" </dev/null >>"$logfile" 2>&1 &
    TG_LAST_PID=$!
    TG_PIDS+=("$TG_LAST_PID")
}

tg_alive() { kill -0 "$1" 2>/dev/null; }

# tg_descendants PID: prints the pids of PID's children, grandchildren, ...
# One pass over /proc (no procps needed), pure bash so it forks nothing.
tg_descendants() {
    local stat rest pid ppid
    local -A kids=()
    for stat in /proc/[0-9]*/stat; do
        { read -r rest <"$stat"; } 2>/dev/null || continue
        pid=${rest%% *}
        rest=${rest##*) }   # drop "pid (comm) ": comm may hold spaces
        ppid=${rest#* }
        ppid=${ppid%% *}
        kids[$ppid]+="$pid "
    done
    local queue=("$1") p k
    while ((${#queue[@]})); do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        for k in ${kids[$p]:-}; do
            echo "$k"
            queue+=("$k")
        done
    done
}

# tg_stop_pid PID [TIMEOUT_S] [tree]: TERM (with `tree`: PID and all its
# descendants, for a command whose grandchildren must not outlive it), KILL
# the whole tree after the timeout, then reap.
tg_stop_pid() {
    local pid=$1 timeout=${2:-10} mode=${3:-} i
    if tg_alive "$pid"; then
        if [[ "$mode" == tree ]]; then
            # shellcheck disable=SC2046
            kill -TERM "$pid" $(tg_descendants "$pid") 2>/dev/null || true
        else
            kill -TERM "$pid" 2>/dev/null || true
        fi
        for ((i = 0; i < timeout * 10; i++)); do
            tg_alive "$pid" || break
            sleep 0.1
        done
        if tg_alive "$pid"; then
            tg_log "pid $pid did not stop within ${timeout}s; killing it"
            # shellcheck disable=SC2046
            kill -KILL "$pid" $(tg_descendants "$pid") 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# --- redis ------------------------------------------------------------------

# tg_start_redis PORT DIR: private, non-persistent redis-server on
# 127.0.0.1:PORT with its files in DIR. Sets TG_REDIS_PORT, TG_REDIS_URL.
tg_start_redis() {
    local port=$1 dir=$2 i
    mkdir -p "$dir"
    tg_spawn "$dir/redis.log" redis-server --port "$port" --bind 127.0.0.1 \
        --dir "$dir" --save '' --appendonly no --daemonize no --logfile ''
    local pid=$TG_LAST_PID
    for ((i = 0; i < 100; i++)); do
        if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then
            TG_REDIS_PORT=$port
            TG_REDIS_URL="redis://127.0.0.1:$port"
            return 0
        fi
        tg_alive "$pid" || break
        sleep 0.1
    done
    tg_log "redis-server on port $port did not answer PING; log $dir/redis.log:"
    tail -n 5 "$dir/redis.log" >&2 || true
    tg_stop_pid "$pid" 2
    return 1
}

# tg_start_redis_free DIR: tg_start_redis on a free port, retrying when
# someone else grabbed the port between the check and the bind.
tg_start_redis_free() {
    for _ in 1 2 3; do
        tg_free_port
        tg_start_redis "$TG_FREE_PORT" "$1" && return 0
    done
    tg_die "could not start redis-server (see $1/redis.log)"
}

# --- docker -----------------------------------------------------------------

# tg_start_dockerd DIR: a private Docker engine with images/containers under
# DIR. No networking (no iptables, no bridge: containers need --network
# none), vfs storage (works on any filesystem, no overlay mounts). Its socket
# and exec root live in a short /tmp dir because unix socket paths are
# limited to 107 bytes and containerd nests sockets under the exec root.
# Sets TG_DOCKER_SOCK (path) and TG_DOCKER_HOST (unix://path).
tg_start_dockerd() {
    local dir=$1 i run
    mkdir -p "$dir/data"
    dir=$(cd "$dir" && pwd)
    run=$(mktemp -d /tmp/tg-XXXXXX)
    TG_RM_DIRS+=("$run")
    # Our own (empty) daemon.json: the machine's /etc/docker/daemon.json may
    # set options that conflict with ours. Our own containerd namespace: when
    # a system containerd runs, dockerd 20.10 shares it instead of starting one.
    echo '{}' >"$run/daemon.json"
    local ns="tailgate-${run##*/tg-}"
    local log="$dir/dockerd.log"
    : >"$log"
    tg_spawn "$log" dockerd --config-file "$run/daemon.json" \
        --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
        --data-root "$dir/data" --exec-root "$run/e" --pidfile "$run/dockerd.pid" \
        --containerd-namespace "$ns" --containerd-plugins-namespace "$ns-plugins" \
        -H "unix://$run/docker.sock"
    local pid=$TG_LAST_PID
    TG_DOCKER_SOCK="$run/docker.sock"
    TG_DOCKER_HOST="unix://$TG_DOCKER_SOCK"
    TG_DOCKER_SOCKS[$pid]=$TG_DOCKER_SOCK
    for ((i = 0; i < 600; i++)); do
        docker -H "$TG_DOCKER_HOST" version >/dev/null 2>&1 && return 0
        tg_alive "$pid" || break
        sleep 0.1
    done
    tg_log "error: private dockerd did not answer on $TG_DOCKER_HOST within 60s$(tg_alive "$pid" || echo ' (it exited)'); last lines of $log:"
    tail -n 15 "$log" >&2 || true
    return 1
}

# tg_build_test_image SOCK: import a busybox-only image as $TG_TEST_IMAGE
# (nothing can be pulled here). Skipped when the engine already has it.
tg_build_test_image() {
    local host=$1
    [[ "$host" == *://* ]] || host="unix://$host"
    docker -H "$host" image inspect "$TG_TEST_IMAGE" >/dev/null 2>&1 && return 0
    local bb root
    bb=$(command -v busybox || echo /bin/busybox)
    [[ -x "$bb" ]] || tg_die "busybox not found (apt-get install busybox-static)"
    root=$(mktemp -d /tmp/tg-img-XXXXXX)
    mkdir -p "$root/bin" "$root/tmp" "$root/etc"
    cp "$bb" "$root/bin/busybox"
    local applet
    for applet in $("$bb" --list); do
        [[ "$applet" == busybox ]] || ln -sf busybox "$root/bin/$applet"
    done
    ln -s bin "$root/sbin"
    ln -s . "$root/usr"  # so /usr/bin/env and friends resolve too
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    local ok=1
    tar -C "$root" -c . | docker -H "$host" import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$TG_TEST_IMAGE" >/dev/null || ok=0
    rm -rf "$root"
    ((ok)) || tg_die "could not import $TG_TEST_IMAGE into $host"
}

# Remove every container of a private engine (they all are ours), so dockerd
# need not stop them one by one on shutdown.
tg_docker_rm_all() {
    local host="unix://$1" ids
    ids=$(docker -H "$host" ps -aq 2>/dev/null) || return 0
    [[ -n "$ids" ]] || return 0
    # shellcheck disable=SC2086
    docker -H "$host" rm -f $ids >/dev/null 2>&1 || true
}

# tg_engine_leftovers RUNDIR: last resort after a private dockerd died without
# cleaning up (crash, KILL). Its containers' shims were re-parented to init,
# so walk the engine's own runc state, then stop whatever still names this
# engine's unique exec root on its command line (shims, an orphan containerd).
tg_engine_leftovers() {
    local run=$1 root id f pid args
    for root in "$run"/e/runtime-runc/*/; do
        [[ -d "$root" ]] || continue
        for id in $(runc --root "$root" list -q 2>/dev/null); do
            runc --root "$root" delete -f "$id" >/dev/null 2>&1 || true
        done
    done
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}; pid=${pid%/cmdline}
        [[ "$pid" != "$$" ]] || continue
        { mapfile -d '' -t args <"$f"; } 2>/dev/null || continue
        if [[ "${args[*]}" == *"$run/e/"* ]]; then
            tg_log "stopping leftover pid $pid of the private engine"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

# --- cleanup ----------------------------------------------------------------

# tg_stop_all: wrapped command first, then everything else in reverse start
# order (TERM, KILL after a timeout; a dockerd only after its containers are
# gone), then scratch dirs. Idempotent.
tg_stop_all() {
    ((TG_CLEANED)) && return 0
    TG_CLEANED=1
    [[ -n "$TG_CHILD_PID" ]] && tg_stop_pid "$TG_CHILD_PID" 10 tree
    local i pid sock
    for ((i = ${#TG_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${TG_PIDS[i]}
        sock=${TG_DOCKER_SOCKS[$pid]:-}
        [[ -n "$sock" && -S "$sock" ]] && tg_alive "$pid" && tg_docker_rm_all "$sock"
        tg_stop_pid "$pid" 15
        [[ -n "$sock" ]] && tg_engine_leftovers "${sock%/docker.sock}"
    done
    local d
    for d in "${TG_RM_DIRS[@]}"; do
        tg_umount_under "$d"
        rm -rf "$d" 2>/dev/null || tg_log "could not remove $d"
    done
}

# Leftover mounts (e.g. a netns bind mount after a dockerd crash) would make
# rm -rf fail with EBUSY.
tg_umount_under() {
    local m
    while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done < <(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

# tg_install_cleanup_trap: tg_stop_all on any exit. On INT/TERM/HUP also exit
# (128+signal) so the script does not carry on after its children are gone.
tg_install_cleanup_trap() {
    trap 'tg_stop_all' EXIT
    trap 'tg__on_signal INT 130' INT
    trap 'tg__on_signal TERM 143' TERM
    trap 'tg__on_signal HUP 129' HUP
}

tg__on_signal() {
    trap - INT TERM HUP
    tg_log "got SIG$1, stopping everything"
    tg_stop_all
    exit "$2"
}

# tg_run_child CMD...: run CMD and return its exit status.
# On a terminal CMD runs in the foreground: it must own the terminal and get
# Ctrl-C itself (a background job of a script has SIGINT ignored, which a dev
# shell would pass on to everything it runs). Otherwise (CI, pipes) it runs in
# the background with `wait`, because bash defers traps until a foreground
# child ends, and a SIGTERM to this script must stop CMD promptly.
tg_run_child() {
    local rc=0
    if [[ -t 0 ]]; then
        "$@" || rc=$?
        return "$rc"
    fi
    if { true <&0; } 2>/dev/null; then
        "$@" <&0 &   # keep our stdin
    else
        "$@" </dev/null &
    fi
    TG_CHILD_PID=$!
    wait "$TG_CHILD_PID" || rc=$?
    TG_CHILD_PID=""
    return "$rc"
}

# --- swift ------------------------------------------------------------------

# The toolchain is not apt-installable; it lives in /opt/swift on our
# machines, which a bare PATH (cron, CI) may lack.
tg_require_swift() {
    command -v swift >/dev/null && return 0
    [[ -x /opt/swift/usr/bin/swift ]] && { PATH="$PATH:/opt/swift/usr/bin"; export PATH; return 0; }
    tg_die "swift not found on PATH (install Swift 6.1+ from swift.org)"
}
