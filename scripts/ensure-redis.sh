#!/usr/bin/env bash
# Makes a Redis server answer on 127.0.0.1:${REDIS_PORT:-6379} and prints its URL (nothing else on stdout).
# Order: already answering -> start our own daemon (installing redis-server with apt if missing).
# Our daemon persists with appendonly under the cache dir, so queued jobs survive a restart.
# No systemd here: the daemon is started directly with --daemonize.
set -euo pipefail

PORT="${REDIS_PORT:-6379}"
CACHE_ROOT="${CLUSTERD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterd}"
DIR="$CACHE_ROOT/redis-$PORT"
URL="redis://127.0.0.1:$PORT"
log() { echo "[ensure-redis] $*" >&2; }

pong() { command -v redis-cli >/dev/null 2>&1 && [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]; }

# shellcheck source=lib/apt.sh
source "$(dirname "$0")/lib/apt.sh"

if pong; then echo "$URL"; exit 0; fi

mkdir -p "$DIR"
# Two callers at once (e.g. start.sh and test.sh) must not both start a daemon.
exec 9>"$DIR.lock"
flock 9
if pong; then echo "$URL"; exit 0; fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  log "installing redis-server with apt"
  apt_install redis-server
fi

log "starting redis-server on 127.0.0.1:$PORT (data in $DIR)"
# 9>&-: the daemon must not inherit (and so hold forever) our lock.
redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --appendonly yes \
  --dir "$DIR" --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" >&2 9>&-

for _ in $(seq 1 100); do
  if pong; then echo "$URL"; exit 0; fi
  sleep 0.1
done
log "redis-server did not answer PONG on port $PORT within 10s; last log lines:"
tail -n 20 "$DIR/redis.log" >&2 || true
exit 1
