#!/usr/bin/env bash
# Usage: scripts/bench.sh [--quick] [--output FILE]
#
# Runs Tailgate's benchmarks against private servers and writes a Markdown
# report to stdout and to docs/bench-results.md:
#   redis-publish     PUBLISH rate of the Swift Redis client vs redis-benchmark
#   agent-throughput  tailgate-agent lines/s (Docker log -> Redis) vs curl
#   e2e-latency, e2e-throughput, e2e-fanout, e2e-streams, e2e-connections
#                     the real agent and gateway with WebSocket load clients
# Starts (and always stops) a private redis-server and a private dockerd with
# the busybox test image, builds release products in .build-bench/.
#   --quick        small counts and one run, a smoke test; the report goes to
#                  .build-bench/bench-results-quick.md unless --output is given
#   --output FILE  where the report goes
# Environment: BENCH_MESSAGES (default 1000000), BENCH_LINES (2000000),
# BENCH_RUNS (3) override the counts; BENCH_ONLY="e2e-latency e2e-fanout" runs
# only the scenarios named.
set -euo pipefail
TG_NAME=bench.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TG_ROOT"

quick=()
messages=${BENCH_MESSAGES:-1000000}
lines=${BENCH_LINES:-2000000}
runs=${BENCH_RUNS:-3}
output=""
while (($#)); do
    case "$1" in
        --quick) messages=${BENCH_MESSAGES:-100000}; lines=${BENCH_LINES:-100000}; runs=${BENCH_RUNS:-1}; quick=(--quick)
                 output=${output:-$TG_ROOT/.build-bench/bench-results-quick.md} ;;
        --output) output=${2:?--output needs a file}; shift ;;
        -h | --help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--quick] [--output FILE]" >&2; exit 2 ;;
    esac
    shift
done
output=${output:-$TG_ROOT/docs/bench-results.md}

tg_install_cleanup_trap
tg_require_swift
tg_install_deps docker  # redis-tools brings redis-benchmark too

# --- build (before any server runs: a cold release build takes minutes) ------
scratch=(--scratch-path "$TG_ROOT/.build-bench")
tg_log "building tailgate-bench, tailgate-agent, tailgate-gateway and tailgate-pipeline-ceiling (release)"
for product in tailgate-bench tailgate-agent tailgate-gateway tailgate-pipeline-ceiling; do
    swift build -c release "${scratch[@]}" --product "$product" >&2
done
bin_dir=$(swift build -c release "${scratch[@]}" --show-bin-path)

# --- private servers ----------------------------------------------------------
env_dir=$(mktemp -d /tmp/tg-XXXXXX)  # short: the docker socket lives under it
TG_RM_DIRS+=("$env_dir")
tg_start_redis_free "$env_dir/redis"
tg_start_dockerd "$env_dir/docker" || exit 1
dockerd_pid=$TG_LAST_PID
tg_build_test_image "$TG_DOCKER_HOST"

# --- run ----------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
summary="$env_dir/summary.tsv"
details="$env_dir/details.md"
: >"$summary"
: >"$details"
log_dir="$TG_ROOT/.build-bench/bench-agent-logs"
# BENCH_ONLY: the scenarios to run (default all), for a partial re-run.
selected() { [[ -z "${BENCH_ONLY:-}" || " $BENCH_ONLY " == *" $1 "* ]]; }
if selected redis-publish; then
    tg_log "redis-publish: $messages messages, $runs runs"
    tg_run_child "$bin_dir/tailgate-bench" redis-publish --redis "$TG_REDIS_URL" \
        --messages "$messages" --runs "$runs" --summary "$summary" >>"$details"
fi
if selected agent-throughput; then
    tg_log "agent-throughput: $lines lines, $runs runs"
    tg_run_child "$bin_dir/tailgate-bench" agent-throughput --redis "$TG_REDIS_URL" \
        --docker-host "$TG_DOCKER_HOST" --agent "$bin_dir/tailgate-agent" --image "$TG_TEST_IMAGE" \
        --dockerd-pid "$dockerd_pid" --lines "$lines" --runs "$runs" \
        --log-dir "$log_dir" --summary "$summary" >>"$details"
fi
for scenario in e2e-latency e2e-throughput e2e-fanout e2e-streams e2e-connections; do
    selected "$scenario" || continue
    tg_log "$scenario: $runs runs${quick:+ (quick)}"
    extra=()
    [[ $scenario == e2e-throughput ]] && extra=(--pipeline-ceiling "$bin_dir/tailgate-pipeline-ceiling")
    tg_run_child "$bin_dir/tailgate-bench" "$scenario" "${quick[@]}" "${extra[@]}" --runs "$runs" --redis "$TG_REDIS_URL" \
        --docker-host "$TG_DOCKER_HOST" --agent "$bin_dir/tailgate-agent" --gateway "$bin_dir/tailgate-gateway" \
        --image "$TG_TEST_IMAGE" --dockerd-pid "$dockerd_pid" --log-dir "$log_dir" --summary "$summary" >>"$details"
done

# --- report -------------------------------------------------------------------
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
redis_version=$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')
docker_version=$(docker -H "$TG_DOCKER_HOST" version --format '{{.Server.Version}}')
swift_version=$(swift --version 2>&1 | sed -n 's/.*Swift version \([^ ]*\).*/\1/p' | head -n 1)
report=$(
    echo "# Tailgate benchmark results"
    echo
    echo "Written by \`scripts/bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); how to read it: docs/performance.md."
    echo
    echo "## Machine"
    echo
    echo "- $(nproc) cores ($cpu_model), $memory memory, Linux $(uname -r)"
    echo "- redis-server $redis_version (private, no persistence, TCP on 127.0.0.1)"
    echo "- Docker $docker_version (private dockerd: vfs storage, json-file logs, no network)"
    echo "- Swift $swift_version, release build"
    echo "- Everything (load client, agent, gateway, Redis, dockerd, containerd-shim, containers) shares these $(nproc) cores;"
    echo "  load average (1, 5, 15 min) before: $load_before, after: $load_after (anything else running skews the figures)"
    echo
    echo "## Summary"
    echo
    echo "| scenario | figure (median, min–max) | ceiling | ratio | goal (issue 6 unless named) |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$summary"
    echo
    echo "## Details"
    echo
    cat "$details"
)
mkdir -p "$(dirname "$output")"
printf '%s\n' "$report" >"$output"
printf '%s\n' "$report"
tg_log "report written to $output"
