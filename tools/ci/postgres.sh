#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL cluster for the store tests and
# prints the line that points the tests at it:
#
#   eval "$(tools/ci/postgres.sh)"        # sets SHIPSHAPE_TEST_POSTGRES
#   tools/ci/postgres.sh stop [DIR]        # stops it
#
# Idempotent: installs Debian's postgresql package when missing, runs initdb
# only once per DIR (default ${TMPDIR:-/tmp}/shipshape-pg), starts the server
# only when it is not running. The server listens on 127.0.0.1:55432 only (no
# Unix socket outside DIR), trusts local connections, and runs as the
# `postgres` user when started as root (PostgreSQL refuses to run as root).
# Everything but the final export line goes to stderr.
set -euo pipefail

cmd=start
case "${1:-}" in start|stop) cmd=$1; shift ;; esac
dir=${1:-${TMPDIR:-/tmp}/shipshape-pg}
port=${SHIPSHAPE_PG_PORT:-55432}
db=shipshape_test

bindir=""
for v in 17 16 15; do
  if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bindir=/usr/lib/postgresql/$v/bin; break; fi
done
if [ -z "$bindir" ]; then
  echo "installing postgresql (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >/dev/null
  # Debian's package starts its own cluster on 5432; we do not need it.
  pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
  for v in 17 16 15; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bindir=/usr/lib/postgresql/$v/bin; break; fi
  done
fi
[ -n "$bindir" ] || { echo "postgresql binaries not found after install" >&2; exit 1; }

# Run as an unprivileged user when we are root.
as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$cmd" = stop ]; then
  [ -f "$dir/data/PG_VERSION" ] && as "$bindir/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
  exit 0
fi

mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
  echo "initdb $dir/data" >&2
  as "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
CONF
fi
if ! as "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  echo "starting postgres on 127.0.0.1:$port" >&2
  as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2
fi
if ! as "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -Atqc "select 1 from pg_database where datname='$db'" | grep -q 1; then
  as "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
fi
echo "export SHIPSHAPE_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
