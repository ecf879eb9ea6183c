#!/usr/bin/env bash
# Make PostgreSQL's server binaries (initdb, pg_ctl) available: the PostgreSQL tests and the gateway benchmark start
# their own throw-away server from them (choir_chain/pgserver.py). Idempotent: does nothing when initdb is found;
# otherwise installs Debian's `postgresql` package, telling it not to create (and start) the default cluster on
# port 5432, which nothing here uses.
set -uo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
    exit 0
fi
exec "$(dirname "$0")/../debian/install.sh" postgresql "server binaries for the PostgreSQL tests" \
    "mkdir -p /etc/postgresql-common/createcluster.d && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/50-choir.conf"
