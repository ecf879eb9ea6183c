#!/usr/bin/env bash
# Install one Debian package for `make setup` when what it provides is missing:
#   tools/debian/install.sh PACKAGE WHY [PRE-INSTALL-COMMAND]
# The caller checks first (and does nothing when the program is there). Runs apt-get as root, or through
# passwordless sudo; a PRE-INSTALL-COMMAND runs (with the same privileges) before apt-get. Always exits 0: where it
# cannot install, it says why on stderr, and the test or benchmark that needs the package then fails naming it.
set -uo pipefail

package=$1
why=$2
before=${3:-}
warn() { echo "tools/debian/install.sh: $*; install Debian's $package package by hand" >&2; }
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
# `make test` sets up with parallel make: one apt-get at a time (apt refuses a second while it holds its locks).
exec 9>"${TMPDIR:-/tmp}/choir-apt-install.lock"
flock 9 2>/dev/null || true
echo "installing Debian's $package package ($why)" >&2
if [ -n "$before" ]; then
    "${SUDO[@]}" bash -c "$before" || warn "preparing the install failed"
fi
export DEBIAN_FRONTEND=noninteractive
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$package"; }; then
    warn "apt-get install $package failed"
fi
exit 0
