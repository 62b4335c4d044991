#!/usr/bin/env bash
# Usage: scripts/test.sh [swift test args...]     e.g. scripts/test.sh --filter RedisTests
#
# The test command (.ci/run calls it): installs missing packages, builds the
# package and its tests, then runs `swift test` (and, when present, the
# browser tests) inside scripts/with-test-env.sh, which provides a private
# Redis, a private Docker engine and a test image. Exits non-zero if any step
# fails and prints a summary of the steps at the end.
set -euo pipefail
TG_NAME=test.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TG_ROOT"
tg_require_swift

# --- inside the test environment (re-invoked through with-test-env.sh) ------
if [[ "${1:-}" == --in-test-env ]]; then
    shift
    status_file=$TG_TEST_STATUS_FILE

    rc=0
    # One test at a time: the end-to-end tests hold real-time bounds (a stream starts
    # within 1 s, shutdown within 5 s, a dead gateway's reference stops counting within
    # 15 s) against real containers printing as fast as they can; run side by side on
    # 2 cores they starve each other and measure the machine, not the product.
    swift test --no-parallel "$@" 2>&1 | tee "$status_file.swift-log" || rc=${PIPESTATUS[0]}
    echo "swift=$rc" >>"$status_file"
    # Counted from Swift Testing's per-test result lines, for the closing summary.
    # ("Test run with N tests" is the run's own line, not a test.)
    echo "swift_passed=$(grep -v '^. Test run ' "$status_file.swift-log" | grep -c '^✔ Test .* passed after' || true)" >>"$status_file"
    echo "swift_failed=$(grep -v '^. Test run ' "$status_file.swift-log" | grep -c '^✘ Test .* failed after' || true)" >>"$status_file"

    # The web UI's pure modules (ANSI, search, resume logic) under node's test runner.
    urc=0
    node --test Tests/ui/ 2>&1 | tee "$status_file.ui-log" || urc=${PIPESTATUS[0]}
    echo "ui=$urc" >>"$status_file"
    echo "ui_passed=$(sed -n 's/^# pass //p' "$status_file.ui-log")" >>"$status_file"
    echo "ui_failed=$(sed -n 's/^# fail //p' "$status_file.ui-log")" >>"$status_file"

    # ---- HOOK: browser tests --------------------------------------------
    # Tests/browser/run.sh (selenium + chromium, added separately) runs here,
    # after swift test, in the same environment: the TAILGATE_TEST_* variables
    # plus TAILGATE_BUILD_DIR (the release tailgate-agent and tailgate-gateway).
    # It installs its own packages and exits non-zero on failure.
    if [[ -f Tests/browser/run.sh ]]; then
        brc=0
        bash Tests/browser/run.sh || brc=$?
        echo "browser=$brc" >>"$status_file"
    else
        echo "browser=skipped" >>"$status_file"
    fi
    # ---- end of hook ----------------------------------------------------

    grep -E '^(swift|ui|browser)=' "$status_file" | grep -qv '=0$\|=skipped$' && exit 1
    exit 0
fi

# --- outside: build, then run the above inside the environment -------------
tg_install_cleanup_trap  # a SIGTERM here also stops with-test-env.sh and the tests
tg_install_deps docker
command -v node >/dev/null || tg_apt_install nodejs

step() { printf '\n==== %s ====\n' "$*"; }
summary() {
    step "test.sh summary"
    printf '%-15s %s\n' "$@"
}
verdict() { case "$1" in 0) echo passed ;; skipped) echo "skipped (no Tests/browser/run.sh)" ;; '') echo "not run" ;; *) echo "FAILED (exit $1)" ;; esac; }

step "swift build --build-tests; swift build -c release (tailgate-agent, tailgate-gateway)"
t0=$SECONDS
# The tests run the agent and gateway as users do, in release: a debug gateway took
# 0.15-1.1 s to parse a 1000-line history under load (release: a few ms), and the end-to-end
# tests' time bounds would then measure the debug build rather than the product.
if ! { swift build --build-tests \
    && swift build -c release --product tailgate-agent \
    && swift build -c release --product tailgate-gateway; }; then
    summary "build:" "FAILED after $((SECONDS - t0))s" "result:" "FAIL"
    exit 1
fi
build_time=$((SECONDS - t0))
TAILGATE_BUILD_DIR=$(swift build -c release --show-bin-path)
export TAILGATE_BUILD_DIR

export TG_TEST_STATUS_FILE
TG_TEST_STATUS_FILE=$(mktemp /tmp/tg-status-XXXXXX)
TG_RM_DIRS+=("$TG_TEST_STATUS_FILE" "$TG_TEST_STATUS_FILE.swift-log" "$TG_TEST_STATUS_FILE.ui-log")

step "swift test $*"
env_rc=0
tg_run_child "$TG_ROOT/scripts/with-test-env.sh" "$TG_ROOT/scripts/test.sh" --in-test-env "$@" || env_rc=$?

swift_rc=$(sed -n 's/^swift=//p' "$TG_TEST_STATUS_FILE")
browser_rc=$(sed -n 's/^browser=//p' "$TG_TEST_STATUS_FILE")
result=PASS
((env_rc == 0)) || result=FAIL
lines=("build:" "ok (${build_time}s)")
[[ -n "$swift_rc" ]] || lines+=("environment:" "FAILED (with-test-env.sh exit $env_rc)")
ui_rc=$(sed -n 's/^ui=//p' "$TG_TEST_STATUS_FILE")
lines+=("swift test:" "$(verdict "$swift_rc")" "ui unit tests:" "$(verdict "$ui_rc")" "browser tests:" "$(verdict "$browser_rc")" "result:" "$result")
summary "${lines[@]}"
count() {
    local value
    value=$(sed -n "s/^$1=//p" "$TG_TEST_STATUS_FILE" | head -n 1)
    echo "${value:-0}"
}
# CI shows only the end of the output: name what failed there, one short line per issue.
failures=$(grep -E '^✘ Test .*(recorded an issue|failed after)' "$TG_TEST_STATUS_FILE.swift-log" 2>/dev/null | cut -c1-240 | head -n 40 || true)
if [[ -n "$failures" ]]; then
    step "failed swift tests (first 40 lines, cut at 240 characters)"
    echo "$failures"
fi
# The plain closing line: Swift tests and UI unit tests together (browser tests report their own).
echo "$(($(count swift_passed) + $(count ui_passed))) passed, $(($(count swift_failed) + $(count ui_failed))) failed"
exit "$env_rc"
