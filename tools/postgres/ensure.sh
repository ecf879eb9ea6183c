#!/usr/bin/env bash
# Make PostgreSQL's server binaries (initdb, pg_ctl) available: the indexer's PostgreSQL test starts its own
# throw-away server from them. Idempotent: does nothing when initdb is found; otherwise installs Debian's
# `postgresql` package, telling it not to create (and start) the default cluster on port 5432, which nothing here
# uses. Always exits 0: on a machine where it cannot install, it says why, and the PostgreSQL test then fails with
# the same instructions.
set -uo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
    exit 0
fi

warn() { echo "tools/postgres/ensure.sh: $*; install PostgreSQL's server binaries (initdb, pg_ctl) by hand" >&2; }

if ! command -v apt-get >/dev/null; then
    warn "no apt-get on this machine"
    exit 0
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        warn "installing Debian's postgresql package needs root"
        exit 0
    fi
fi

echo "installing Debian's postgresql package (server binaries for the indexer's PostgreSQL test)" >&2
"${SUDO[@]}" mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | "${SUDO[@]}" tee /etc/postgresql-common/createcluster.d/50-choir.conf >/dev/null
export DEBIAN_FRONTEND=noninteractive
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends postgresql; }; then
    warn "apt-get install postgresql failed"
fi
exit 0
