#!/usr/bin/env bash
# Make Debian's wrk (HTTP load generator) available for the gateway benchmark (`make bench`): a native process,
# so the load generator is not what is measured. Idempotent: does nothing when wrk is on PATH. Always exits 0:
# where it cannot install, it says why, and the gateway benchmark then fails naming what is missing.
set -uo pipefail

if command -v wrk >/dev/null; then
    exit 0
fi
warn() { echo "tools/wrk/ensure.sh: $*; install Debian's wrk package by hand" >&2; }
if ! command -v apt-get >/dev/null; then
    warn "no apt-get on this machine"
    exit 0
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        warn "installing it needs root"
        exit 0
    fi
fi
echo "installing Debian's wrk package (load generator for the gateway benchmark)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends wrk; }; then
    warn "apt-get install wrk failed"
fi
exit 0
