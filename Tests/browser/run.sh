#!/usr/bin/env bash
# Usage: bash Tests/browser/run.sh [pytest args...]
#
# Browser tests of the real stack (agent -> Redis -> gateway -> headless
# Chromium). scripts/test.sh calls this inside scripts/with-test-env.sh, which
# exports TAILGATE_TEST_REDIS_URL, TAILGATE_TEST_DOCKER_HOST and
# TAILGATE_TEST_IMAGE; test.sh adds TAILGATE_BUILD_DIR (tailgate-agent and
# tailgate-gateway live there). By hand:
#   scripts/with-test-env.sh env TAILGATE_BUILD_DIR="$(swift build --show-bin-path)" bash Tests/browser/run.sh -x
#
# Installs what is missing: chromium + chromium-driver (+ fonts) with apt-get,
# selenium + pytest (Tests/browser/requirements.txt) into a private venv
# (.build-browser-venv, or $TAILGATE_BROWSER_VENV). Exits with pytest's status.
# Writes docs/screenshots/{fleet,viewer}.png and docs/performance-ui.md;
# logs and failure screenshots go to test-artifacts/browser/.
# TAILGATE_BROWSER_TIMEOUT (default 1200 s) bounds the whole pytest run.
set -euo pipefail
TG_NAME=browser-tests
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../scripts/lib.sh
source "$here/../../scripts/lib.sh"   # tg_apt_install, tg_pkg_installed, tg_log, TG_ROOT
cd "$TG_ROOT"

# ---- system packages ---------------------------------------------------------
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v docker >/dev/null || missing+=(docker.io)
command -v python3 >/dev/null || missing+=(python3)
# Without any font the screenshots show boxes instead of text.
tg_pkg_installed fonts-dejavu-core || missing+=(fonts-dejavu-core)
((${#missing[@]} == 0)) || tg_apt_install "${missing[@]}"

# chromium and chromium-driver must be the same build.
cv=$(chromium --version 2>/dev/null | grep -oE '[0-9]+\.[0-9.]+' | head -1 || true)
dv=$(chromedriver --version 2>/dev/null | grep -oE '[0-9]+\.[0-9.]+' | head -1 || true)
if [[ -n "$cv" && -n "$dv" && "$cv" != "$dv" ]]; then
    tg_log "chromium $cv and chromedriver $dv differ; upgrading both"
    tg_apt_install chromium chromium-driver
fi

# ---- python venv with selenium + pytest --------------------------------------
venv=${TAILGATE_BROWSER_VENV:-$TG_ROOT/.build-browser-venv}
req="$here/requirements.txt"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        # Debian's python3 needs python3-venv for ensurepip.
        tg_apt_install python3-venv
        python3 -m venv "$venv"
    fi
fi
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    tg_log "installing $(grep -v '^#' "$req" | xargs) into $venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
fi

# ---- run ------------------------------------------------------------------------
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1
rc=0
timeout --signal=TERM --kill-after=60 "${TAILGATE_BROWSER_TIMEOUT:-1200}" \
    "$venv/bin/python" -m pytest "$here" --rootdir "$here" -p no:cacheprovider -v -rfE "$@" || rc=$?
if ((rc == 124)); then
    tg_log "browser tests timed out after ${TAILGATE_BROWSER_TIMEOUT:-1200}s"
fi
exit "$rc"
