#!/usr/bin/env bash
# Make Debian's Chromium available for the dashboard's end-to-end test (Playwright drives it through
# executable_path; nothing downloads a browser). Idempotent: does nothing when /usr/bin/chromium exists. Always
# exits 0: where it cannot install, it says why, and the browser test then fails naming what is missing.
set -uo pipefail

if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
    exit 0
fi
warn() { echo "tools/chromium/ensure.sh: $*; install Debian's chromium package by hand" >&2; }
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
echo "installing Debian's chromium package (headless browser for the dashboard test)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium; }; then
    warn "apt-get install chromium failed"
fi
exit 0
