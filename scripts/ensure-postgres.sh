#!/usr/bin/env bash
# Makes a private PostgreSQL server answer on 127.0.0.1:${PG_PORT:-55432} with a `clusterd`
# database, and prints its URL (nothing else on stdout). Safe to run twice or concurrently.
# Order: install `postgresql` with apt if no initdb -> initdb (trust auth, loopback only) ->
# pg_ctl start if not answering -> CREATE DATABASE if missing. No systemd: pg_ctl runs the server.
#
# The data directory is owned by the `postgres` OS user, which must be able to reach it. It is
# `<cache>/pg-$PORT`; when the cache dir is private to root (HOME mode 700), the data lives in
# /var/lib/postgresql/clusterd/pg-$PORT instead and `<cache>/pg-$PORT` is a symlink to it.
set -euo pipefail

PORT="${PG_PORT:-55432}"
CACHE_ROOT="${CLUSTERD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterd}"
URL="postgres://postgres@127.0.0.1:$PORT/clusterd"
log() { echo "[ensure-postgres] $*" >&2; }

# shellcheck source=lib/apt.sh
source "$(dirname "$0")/lib/apt.sh"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r d; do [ -x "$d/initdb" ] && echo "$d"; done | tail -n 1; }

BIN="$(find_bin)"
if [ -z "$BIN" ]; then
  log "installing postgresql with apt"
  apt_install postgresql
  BIN="$(find_bin)"
  [ -n "$BIN" ] || { log "no initdb under /usr/lib/postgresql/*/bin after installing postgresql"; exit 1; }
fi

# The server runs as `postgres`; run its tools from / so that they never trip over root's cwd.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
sql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tA "$@"; }
ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2 >/dev/null 2>&1; }

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/pg-$PORT.lock"
flock 9

LINK="$CACHE_ROOT/pg-$PORT"
if [ -L "$LINK" ]; then
  DATA="$(readlink -f "$LINK")"
elif as_postgres test -x "$CACHE_ROOT"; then
  DATA="$LINK"
else
  DATA="/var/lib/postgresql/clusterd/pg-$PORT"
  mkdir -p "$(dirname "$DATA")"
  chown postgres:postgres "$(dirname "$DATA")"
  log "postgres cannot reach $CACHE_ROOT; keeping the data in $DATA (linked from $LINK)"
  ln -sfn "$DATA" "$LINK"
fi

if [ ! -s "$DATA/PG_VERSION" ]; then
  log "initdb in $DATA"
  mkdir -p "$DATA"
  chown postgres:postgres "$DATA"
  chmod 700 "$DATA"
  as_postgres "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C >&2
  cat >>"$DATA/postgresql.conf" <<CONF

# clusterd: private test/dev server, TCP on loopback only, no Unix socket.
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
CONF
  cat >"$DATA/pg_hba.conf" <<HBA
# clusterd: trust, loopback TCP only.
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
HBA
  chown postgres:postgres "$DATA/postgresql.conf" "$DATA/pg_hba.conf"
fi

if ! ready; then
  log "starting PostgreSQL ($BIN) on 127.0.0.1:$PORT"
  # 9>&-: the server must not inherit (and so hold forever) our lock.
  as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >&2 9>&- ||
    { log "pg_ctl start failed; last log lines:"; tail -n 20 "$DATA/server.log" >&2 || true; exit 1; }
fi

if [ "$(sql -c "SELECT 1 FROM pg_database WHERE datname = 'clusterd'")" != "1" ]; then
  log "creating database clusterd"
  sql -c 'CREATE DATABASE clusterd' >&2
fi
echo "$URL"
