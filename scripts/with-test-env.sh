#!/usr/bin/env bash
# Usage: scripts/with-test-env.sh CMD [ARGS...]
#
# Runs CMD with a private test environment and tears it down afterwards,
# also when CMD fails or on Ctrl-C/SIGTERM. Exits with CMD's status.
#   - a private redis-server on a free loopback port (no persistence)
#   - a private dockerd (no networking: containers need --network none)
#   - the tiny busybox image tailgate-test-busybox:latest in that engine
# Exported for CMD:
#   TAILGATE_TEST_REDIS_URL     redis://127.0.0.1:PORT
#   TAILGATE_TEST_DOCKER_HOST   unix:///tmp/tg-XXXXXX/docker.sock
#   TAILGATE_TEST_IMAGE         tailgate-test-busybox:latest
#   TAILGATE_TEST_REDIS_SERVER  path of redis-server, for tests that start
#                               their own (kill/restart, password)
# As a dev shell: scripts/with-test-env.sh bash
set -euo pipefail
TG_NAME=with-test-env
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($#)) || { echo "usage: $0 CMD [ARGS...]" >&2; exit 64; }

tg_install_cleanup_trap
tg_install_deps docker

# Short path: the docker socket lives under it (unix socket path limit).
TG_ENV_DIR=$(mktemp -d /tmp/tg-XXXXXX)
TG_RM_DIRS+=("$TG_ENV_DIR")

tg_start_redis_free "$TG_ENV_DIR/redis"
tg_start_dockerd "$TG_ENV_DIR/docker" || exit 1
tg_build_test_image "$TG_DOCKER_HOST"

export TAILGATE_TEST_REDIS_URL="$TG_REDIS_URL"
export TAILGATE_TEST_DOCKER_HOST="$TG_DOCKER_HOST"
export TAILGATE_TEST_IMAGE="$TG_TEST_IMAGE"
TAILGATE_TEST_REDIS_SERVER=$(command -v redis-server)
export TAILGATE_TEST_REDIS_SERVER
tg_log "redis $TAILGATE_TEST_REDIS_URL, docker $TAILGATE_TEST_DOCKER_HOST, image $TAILGATE_TEST_IMAGE"

rc=0
tg_run_child "$@" || rc=$?
tg_stop_all
exit "$rc"
