#!/usr/bin/env bash
# A throwaway PostgreSQL for the store's tests and benches.
#
#   eval "$(scripts/pg.sh)"     # sets HALLCALL_TEST_PG
#
# Installs Debian's `postgresql` when its binaries are missing, creates a
# cluster in $HALLCALL_PG_DIR (default /tmp/hallcall-pg-PORT) owned by the
# `postgres` user (PostgreSQL refuses to run as root), starts it on
# 127.0.0.1:$HALLCALL_PG_PORT (default 54329), creates the database
# hallcall_test and prints the export line on stdout (everything else goes
# to stderr). Idempotent: re-running with the cluster up only prints the
# line again. Loopback only, trust authentication: for tests, never for
# data anyone keeps.
set -euo pipefail

PORT="${HALLCALL_PG_PORT:-54329}"
DIR="${HALLCALL_PG_DIR:-/tmp/hallcall-pg-$PORT}"
DB="${HALLCALL_PG_DB:-hallcall_test}"

log() { echo "pg.sh: $*" >&2; }

# The newest installed version's binaries, or nothing.
pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

BIN="$(pg_bin)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ] || [ ! -x "$BIN/pg_ctl" ]; then
  log "installing postgresql (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  BIN="$(pg_bin)"
fi
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  log "no PostgreSQL binaries in /usr/lib/postgresql/*/bin after installing"
  exit 1
fi

# Run PostgreSQL's tools as `postgres` when we are root, else as ourselves.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
  OWNER=postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  OWNER="$(id -un)"
  as_pg() { "$@"; }
fi

if [ ! -f "$DIR/PG_VERSION" ]; then
  log "creating a cluster in $DIR"
  mkdir -p "$DIR"
  chown "$OWNER" "$DIR"
  chmod 700 "$DIR"
  as_pg "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
fi

if ! as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  log "starting PostgreSQL on 127.0.0.1:$PORT"
  as_pg "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -k $DIR -c max_connections=200" start >&2
fi

for _ in $(seq 1 60); do
  if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then break; fi
  sleep 0.5
done
"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || { log "PostgreSQL did not come up; see $DIR/server.log"; exit 1; }

psql_() { "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
if [ "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  log "creating database $DB"
  psql_ -d postgres -c "CREATE DATABASE $DB" >&2
fi

echo "export HALLCALL_TEST_PG=postgres://postgres@127.0.0.1:$PORT/$DB"
