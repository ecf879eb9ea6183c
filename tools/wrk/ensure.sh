#!/usr/bin/env bash
# Make Debian's wrk (HTTP load generator) available for the gateway benchmark (`make bench`): a native process,
# so the load generator is not what is measured. Idempotent: does nothing when wrk is on PATH.
set -uo pipefail
if command -v wrk >/dev/null; then
    exit 0
fi
exec "$(dirname "$0")/../debian/install.sh" wrk "load generator for the gateway benchmark"
