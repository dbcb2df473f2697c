#!/usr/bin/env bash
# Installs what hlsify needs to build and test, and only what is missing.
# Safe to run again and again: a second run changes nothing and asks no registry.
#
#   1. Debian packages (as root, through apt-get), checked with dpkg-query first;
#      `apt-get update` runs only when something is missing.
#   2. Python test helpers from PyPI into a venv at .cache/venv (gitignored), so the
#      system Python is never touched.
#
# Environment:
#   HLSIFY_PYTHON   the python3 that creates the venv (default: python3 on PATH,
#                   falling back to /usr/bin/python3 with Debian's python3-venv)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

log() { printf 'install-deps: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------

# Build: the libav* headers and libraries the CFFmpeg system-library target links.
APT_BUILD=(
    pkg-config
    libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev
)
# Tests: independent readers of what hlsify writes (and the tools that made Fixtures/).
APT_TEST=(
    ffmpeg
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-libav
)
# The worker: librabbitmq for the CRabbitMQ target, and the broker its tests start privately.
APT_WORKER=(librabbitmq-dev rabbitmq-server)
# The real-browser check of `hlsify preview` (Tests/Integration/test_preview.py): Debian's
# Chromium plays HLS natively; chromium-driver is the chromedriver Selenium talks to.
APT_BROWSER=(chromium chromium-driver)
# Object storage (Sources/ObjectStorage): libcurl for the CCurl system-library target (HTTP and TLS).
APT_STORAGE=(libcurl4-openssl-dev)
# The worker's metrics: promtool lints a scrape and a real Prometheus server scrapes a worker
# (Tests/Integration/test_worker_metrics.py).
APT_METRICS=(prometheus)
# Later issues add their packages here.
APT_LATER=()

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

apt_install_missing() {
    local missing=() p
    for p in "$@"; do
        is_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        log "missing Debian packages: ${missing[*]}"
        log "run this script as root (or: sudo apt-get install ${missing[*]})"
        exit 1
    fi
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${APT_UPDATED:-}" ]; then
        apt-get update -qq >&2
        APT_UPDATED=1
    fi
    apt-get install -y -qq "${missing[@]}" >&2
}

apt_install_missing "${APT_BUILD[@]}" "${APT_TEST[@]}" "${APT_WORKER[@]}" "${APT_BROWSER[@]}" "${APT_STORAGE[@]}" "${APT_METRICS[@]}" ${APT_LATER[@]+"${APT_LATER[@]}"}

# ---------------------------------------------------------------------------
# Python test helpers in .cache/venv
# ---------------------------------------------------------------------------

VENV="$ROOT/.cache/venv"
REQUIREMENTS="$ROOT/Tests/Integration/requirements.txt"
STAMP="$VENV/.requirements.sha256"

# A python3 that can make a venv with pip in it.
can_venv() { "$1" -c 'import venv, ensurepip' >/dev/null 2>&1; }
pick_python() {
    local py
    for py in ${HLSIFY_PYTHON:-} python3 /usr/bin/python3; do
        if command -v "$py" >/dev/null 2>&1 && can_venv "$py"; then
            command -v "$py"; return 0
        fi
    done
    # Debian's own python3 needs python3-venv for ensurepip.
    apt_install_missing python3 python3-venv
    can_venv /usr/bin/python3 && { echo /usr/bin/python3; return 0; }
    log "no python3 able to create a venv"; exit 1
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    PY="$(pick_python)"
    log "creating venv at .cache/venv with $PY"
    rm -rf "$VENV"
    mkdir -p "$ROOT/.cache"
    "$PY" -m venv "$VENV"
fi

want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    log "installing Python test helpers from Tests/Integration/requirements.txt"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"
    echo "$want" > "$STAMP"
fi

log "ok (apt packages present; venv at .cache/venv)"
