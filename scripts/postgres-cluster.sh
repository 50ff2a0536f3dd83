#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on a free loopback port, for the test suite.
#   scripts/postgres-cluster.sh start DIR   -> prints the DATABASE_URL
#   scripts/postgres-cluster.sh stop DIR
# PostgreSQL refuses to run as root, so as root the cluster runs as user postgres.
set -euo pipefail

action=${1:?start or stop}
dir=${2:?cluster directory}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "$action" in
start)
    if [ ! -x "$bin/initdb" ]; then
        echo "PostgreSQL 15 server not found in $bin (apt-get install postgresql-15)" >&2
        exit 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1
    port=$(free_port)
    # Durability is not wanted for a throwaway cluster; speed is.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
        start >/dev/null
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres csm_test
    echo "$port" >"$dir/port"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/csm_test"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
